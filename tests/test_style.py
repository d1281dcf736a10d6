"""The project's own checks run with the suite: ruff, snakefmt and snakemake --lint."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.workflow_helpers import workflow_rules
from tsmsnet.config import REPO_ROOT


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)


def test_ruff_clean():
    proc = run(sys.executable, "-m", "ruff", "check", "src", "tests", "workflow/scripts")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_formatted():
    proc = run(sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "workflow")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_rule_declares_threads_log_and_benchmark():
    """Each job's time and peak memory land in results/D/benchmarks/ (to size cluster
    resources from real runs), and its progress in results/D/logs/."""
    rules = workflow_rules()
    assert {"landmarks", "stage1_features", "train_apex", "spot", "evaluate"} <= set(rules)
    for name, text in rules.items():
        for directive in ("threads:", "log:", "benchmark:"):
            assert directive in text, f"rule {name} has no {directive}"


def test_rules_snakefmt_formatted():
    proc = run(sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "configfile", ["config.yaml", "tests/configs/samm_tiny.yaml", "tests/configs/c3_tiny.yaml"]
)
def test_snakemake_lint_clean(configfile):
    proc = run(sys.executable, "-m", "snakemake", "--lint", "--configfile", configfile)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Congratulations" in out, out
