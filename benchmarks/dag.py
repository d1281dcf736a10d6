"""The `dag` section: `snakemake -n` wall and CPU seconds on the full-scale layouts."""

from __future__ import annotations

import shutil
from pathlib import Path


def dag_section(work: Path, quick: bool) -> dict:
    """Two dry runs per dataset on zero-byte frames (the real counts; quick: the fewest the
    configs accept), in a fresh copy of the project."""
    from benchmarks.fixtures.dryrun import dry_run
    from benchmarks.fixtures.layout import REAL_FRAMES, full_scale_layout
    from tests.workflow_helpers import make_project

    out = {}
    for dataset, fewest in (("casme2", 40), ("samm_lv", 240)):
        frames = fewest if quick else REAL_FRAMES[dataset]
        root = work / f"layout-{dataset}-{frames}"
        if not (root / ".complete").exists():
            shutil.rmtree(root, ignore_errors=True)
            full_scale_layout(dataset, root, frames=frames)
            (root / ".complete").touch()
        project = work / f"project-{dataset}"
        shutil.rmtree(project, ignore_errors=True)
        make_project(project)
        args = ("--config", f"dataset={dataset}", f"data_root={root}")
        runs = [dry_run(project, *args) for _ in range(2)]
        best = min(runs, key=lambda r: r.seconds)
        out[dataset] = {
            "frames_per_video": frames,
            "jobs": sum(best.counts().values()),
            "videos": best.counts()["landmarks"],
            "wall_s": [round(r.seconds, 2) for r in runs],
            "cpu_s": [round(r.cpu_seconds, 2) for r in runs],
        }
    return out
