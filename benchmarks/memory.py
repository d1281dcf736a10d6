"""The `memory` section: peak RSS of each job kind on a short and a long video, and of
training on few and many stores."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.common import STRIDE, K
from benchmarks.data import link_frames, stage_stores
from benchmarks.launcher import Launcher


def memory_section(launcher: Launcher, work: Path, video: Path, quick: bool, threads: int) -> dict:
    """Peak RSS of the per-video jobs on a short and a long video, and of training on few and
    on many stores (DIS flow: the memory pattern is the flow method's, not its speed)."""
    lengths = (1000, 1750) if quick else (2000, 7000)
    out: dict = {"lengths": lengths, "jobs": {}}
    for n in lengths:
        frames = link_frames(video, work / f"mem{n}", 0, n)
        faces = str(work / f"mem{n}.faces.zarr")
        rows = {"faces": launcher.run("faces", frames=str(frames), out=faces, size=600)}
        for name, kind, step in ((f"stage1 K={K}", "skip", K), ("stage2", "stride", STRIDE)):
            rows[name] = launcher.run(
                "features",
                faces=faces,
                out=str(work / f"mem{n}.{kind}.zarr"),
                kind=kind,
                step=step,
                method="dis",
                threads=threads,
            )
        for job, r in rows.items():
            out["jobs"].setdefault(job, {})[n] = {"rss_mb": r["rss_mb"], "rate": r["rate"]}
        shutil.rmtree(frames)
    few, many, frames = (3, 12, 1200) if quick else (10, 40, 1200)
    s1, s2 = stage_stores(work, many, frames)
    out["training"] = {"frames_per_store": frames, "stores": (few, many), "jobs": {}}
    for n in (few, many):
        samples = n * (frames - K)
        out["training"]["jobs"][n] = {
            "stage1_float32_gb": samples * 3 * 42 * 42 * 4 / 1e9,
            "train_apex": launcher.run("train_apex", stores=s1[:n], threads=threads)["rss_mb"],
            "train_interval": launcher.run(
                "train_interval", stores=s2[:n], threads=threads, every=600, length=120
            )["rss_mb"],
            # SAMM macro: L=114, the longest windows (passes of clips_per_pass clips).
            "train_interval L=114": launcher.run(
                "train_interval",
                stores=s2[:n],
                threads=threads,
                every=600,
                length=300,  # half of a 456-frame window must be expression to be positive
                config="samm_macro",
            )["rss_mb"],
        }
    return out
