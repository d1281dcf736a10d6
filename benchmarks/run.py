"""Benchmarks of tsmsnet, run on demand (not part of pytest): `python benchmarks/run.py [--quick]`.

Measured side by side in one run, on the same synthetic SAMM-like frames (600x600 grey JPEGs,
200 fps, a 300x300 face box):

- flow:   stage-1 pairs/s (K=42) of our pipeline (faces store once, then TV-L1 on `--threads`
          workers; tvl1_torch too when `make_flow('tvl1_torch', ...)` exists) against the
          upstream way (OpenCV Dual TV-L1 one pair at a time on one thread, reading and
          cropping both JPEG frames for every pair); the ratio; whether features are identical;
          stage-2 clips/s (stride 4).
- train:  training samples/s of ApexNet and IntervalNet (windows of L=21 clips), CPU.
- memory: peak RSS of each job kind (faces, stage-1 K=42, stage-2 with DIS flow) on a short
          and a long video (2,000 and 7,000 frames; --quick: 1,000 and 1,750), and of
          train_apex / train_interval runs on few and on many stores.
- dag:    `snakemake -n` wall and CPU seconds at the full-scale CAS(ME)^2 (98 videos) and
          SAMM-LV (147 videos) layouts, with a zero-byte file per frame (the real counts;
          --quick: the fewest the configs accept).

Every job runs in its own process (`run.py job KIND ARGS`, started by a small launcher:
benchmarks/launcher.py), whose peak RSS comes from os.wait4's rusage. Results print as tables
and go to `--json`. docs/benchmarks.md records them. This file is the command line; each
section lives in its own module (benchmarks/flow.py, train.py, memory.py, dag.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# This checkout's library and the repo root (for `benchmarks.*`, `tests.*`) first; run as a
# script, Python also put benchmarks/ itself first, whose modules are not top-level names.
sys.path[:] = [str(REPO / "src"), str(REPO)] + [
    p for p in sys.path if Path(p or ".").resolve() != HERE
]

from benchmarks.common import project_config
from benchmarks.dag import dag_section
from benchmarks.flow import flow_section
from benchmarks.jobs import JOBS
from benchmarks.launcher import Launcher
from benchmarks.memory import memory_section
from benchmarks.report import machine, print_report
from benchmarks.train import train_section
from benchmarks.training_memory import print_table as print_training_memory
from benchmarks.training_memory import training_memory_section


@dataclass(frozen=True)
class Bench:
    """What a section may use: the command line's settings, the launcher, the long video."""

    work: Path
    quick: bool
    threads: int
    torch_pairs: int
    launcher: Launcher
    video: Path | None  # written before the sections in NEEDS_VIDEO, else None


# Section name -> how it runs; its result goes under that key in the report and --json.
# One more section: its module beside this file, and one line here.
SECTIONS: dict[str, Callable[[Bench], dict]] = {
    "flow": lambda b: flow_section(b.launcher, b.work, b.video, b.quick, b.threads, b.torch_pairs),
    "train": lambda b: train_section(b.launcher, b.work, b.quick, b.threads),
    "memory": lambda b: memory_section(b.launcher, b.work, b.video, b.quick, b.threads),
    "dag": lambda b: dag_section(b.work, b.quick),
    "training_memory": lambda b: training_memory_section(b.work, b.quick, b.threads),
}
# Sections that read the synthetic long video (written once, before any of them).
NEEDS_VIDEO = {"flow", "memory"}


def write_long_video(work: Path, quick: bool) -> Path:
    """The SAMM-like video of 7,000 frames (quick: 1,750), kept in `work` for a rerun."""
    from benchmarks.fixtures.video import write_video

    n = 1750 if quick else 7000
    t0 = time.perf_counter()
    video = write_video(work / f"video{n}", n)
    print(f"video: {n} frames in {time.perf_counter() - t0:.0f}s", flush=True)
    return video


def main(argv=None) -> None:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "job":
        result = JOBS[argv[1]](json.loads(argv[2]))
        print(json.dumps(result))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes: a few minutes")
    p.add_argument("--threads", type=int, default=2, help="threads of our flow and training")
    p.add_argument("--torch-pairs", type=int, default=8, help="pairs for tvl1_torch (slow on CPU)")
    p.add_argument(
        "--wait-load",
        type=float,
        help="before each job, wait (up to 10 min) for the 1-minute load average to fall below",
    )
    known = ", ".join(SECTIONS)
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {known}")
    p.add_argument("--work", type=Path, help="work folder (kept; default: a temp folder)")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    sections = [s for s in args.only.split(",") if s]
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {', '.join(unknown)}; known: {known}")
    from tsmsnet.config import job_environment

    job_environment(project_config(), os.environ)  # every job runs as the workflow runs it
    # The snakemake processes too run this checkout's library, not whichever is installed.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    work = args.work or Path(tempfile.mkdtemp(prefix="tsmsnet-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"machine": machine(), "quick": args.quick}
    try:
        video = write_long_video(work, args.quick) if NEEDS_VIDEO & set(sections) else None
        bench = Bench(
            work, args.quick, args.threads, args.torch_pairs, Launcher(args.wait_load), video
        )
        for name in sections:
            t0 = time.perf_counter()
            res[name] = SECTIONS[name](bench)
            print(f"{name}: done in {time.perf_counter() - t0:.0f}s", flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    res["machine"]["loadavg_end"] = os.getloadavg()
    print_report(res)
    if "training_memory" in res:
        print_training_memory(res["training_memory"])
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))


if __name__ == "__main__":
    main()
