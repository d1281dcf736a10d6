"""`snakemake -n` as data: the jobs it would run, and a finished run faked from them.

`dry_run` times the real CLI (wall and CPU seconds) and parses what it schedules;
`mark_done` writes every scheduled output as an empty placeholder with mtimes in dependency
order, so that a later dry run sees a finished project (no Snakemake metadata: the params,
code and input-set triggers stay silent, the mtime trigger works as after a real run).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_RULE = re.compile(r"^(?:local)?rule (\w+):$")
_FIELD = re.compile(r"^\s+(input|output|wildcards): (.*)$")


@dataclass
class Job:
    rule: str
    wildcards: dict[str, str] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass
class DryRun:
    seconds: float  # wall clock of the whole CLI call
    cpu_seconds: float  # user + system time of the CLI process
    jobs: list[Job]
    output: str

    def counts(self) -> Counter:
        """Jobs per rule (the `all` target left out)."""
        return Counter(job.rule for job in self.jobs)


def parse_jobs(text: str) -> list[Job]:
    """Jobs of a dry run's printout, `all` left out."""
    jobs: list[Job] = []
    for line in text.splitlines():
        if m := _RULE.match(line.strip()):
            jobs.append(Job(m.group(1)))
        elif jobs and (m := _FIELD.match(line)):
            name, value = m.groups()
            if name == "wildcards":
                jobs[-1].wildcards.update(kv.split("=", 1) for kv in value.split(", "))
            else:
                getattr(jobs[-1], name + "s").extend(value.split(", "))
    return [job for job in jobs if job.rule != "all"]


def dry_run(project: str | Path, *args: str) -> DryRun:
    """`snakemake -n ARGS` in `project`, timed; AssertionError with its output on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise AssertionError(f"snakemake -n {' '.join(args)} failed:\n{text}")
    return DryRun(seconds, cpu, parse_jobs(text), text)


def _depths(jobs: Sequence[Job]) -> list[int]:
    """1 + the depth of the deepest job producing one of a job's inputs (sources: 0)."""
    producer = {out: i for i, job in enumerate(jobs) for out in job.outputs}
    depth: dict[int, int] = {}

    def of(i: int) -> int:
        if i not in depth:
            depth[i] = -1  # cycle guard (a DAG has none)
            ups = [of(producer[f]) for f in jobs[i].inputs if f in producer]
            depth[i] = 1 + max(ups, default=0)
        return depth[i]

    return [of(i) for i in range(len(jobs))]


def _age(top: str | Path, stamp: float, skip: Sequence[str] = ()) -> None:
    """mtime `stamp` for `top` and everything under it, except top-level entries in `skip`."""
    for dirpath, dirnames, filenames in os.walk(top):
        if dirpath == str(top):
            dirnames[:] = [d for d in dirnames if d not in skip]
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (stamp, stamp), follow_symlinks=False)
    os.utime(top, (stamp, stamp))


def mark_done(
    project: str | Path,
    jobs: Sequence[Job],
    sources: Sequence[str | Path] = (),
    is_dir: Callable[[str], bool] = lambda path: path.endswith(".zarr"),
) -> None:
    """Fake a finished run: every output of `jobs` as an empty file (or folder).

    The project's code (a copy: Snakefile, rules, scripts) and everything under `sources` (the
    dataset's frames and workbooks) get an mtime an hour ago; outputs later ones in dependency
    order, so that nothing looks outdated and anything written afterwards looks new.
    """
    project = Path(project)
    t0 = time.time() - 3600
    _age(project, t0, skip=("results", ".snakemake"))
    for source in sources:
        _age(source, t0)
    for job, depth in zip(jobs, _depths(jobs), strict=True):
        for out in job.outputs:
            path = project / out
            if is_dir(out):
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            stamp = t0 + 60 * depth
            os.utime(path, (stamp, stamp))
