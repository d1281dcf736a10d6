"""The project's own checks run with the suite: ruff, snakefmt and snakemake --lint."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tsmsnet.config import REPO_ROOT


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)


def test_ruff_clean():
    proc = run(sys.executable, "-m", "ruff", "check", "src", "tests", "workflow/scripts")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_formatted():
    proc = run(sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "workflow")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rules_snakefmt_formatted():
    proc = run(sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("configfile", ["config.yaml", "tests/configs/samm_tiny.yaml"])
def test_snakemake_lint_clean(configfile):
    proc = run(sys.executable, "-m", "snakemake", "--lint", "--configfile", configfile)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Congratulations" in out, out
