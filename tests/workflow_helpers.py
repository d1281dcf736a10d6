"""Run the real snakemake CLI on a copy of the project and count what a dry run schedules."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from benchmarks.fixtures.dryrun import dry_run
from tsmsnet.config import REPO_ROOT

TINY = ("--configfile", "tests/configs/tiny.yaml")
PROJECT_FILES = ["Snakefile", "config.yaml", "workflow", "profiles", "envs", "tests/configs"]


def workflow_rules() -> dict[str, str]:
    """Rule name -> its text, from workflow/rules/*.smk."""
    rules: dict[str, str] = {}
    for smk in sorted((REPO_ROOT / "workflow" / "rules").glob("*.smk")):
        parts = re.split(r"^\s*rule (\w+):\s*$", smk.read_text(), flags=re.M)
        rules.update(zip(parts[1::2], parts[2::2], strict=True))
    return rules


def make_project(dest: Path) -> Path:
    """A runnable copy of the workflow (not the library: that is installed) in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = REPO_ROOT / name
        target = dest / name
        if src.is_dir():
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def clone_run(src: Path, dest: Path) -> Path:
    """Copy a finished run (results and .snakemake metadata, mtimes kept) to mutate it."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


def snakemake(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`snakemake ARGS` in `project`; on failure the assertion shows its output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def scheduled(project: Path, *args: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job a dry run would execute, parsed as the benchmarks parse
    it (benchmarks.fixtures.dryrun: one parser of `snakemake -n` for both)."""
    return [(job.rule, job.wildcards) for job in dry_run(project, *args).jobs]


def counts(jobs: list[tuple[str, dict[str, str]]]) -> Counter:
    """Jobs per rule."""
    return Counter(rule for rule, _ in jobs)
