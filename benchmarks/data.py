"""Inputs the sections share: stretches of the synthetic video, and training stores."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchmarks.common import CHUNK, STRIDE, K


def link_frames(src: Path, dest: Path, first: int, count: int) -> Path:
    """`dest` holding frames first..first+count-1 of `src` (hard links, renumbered from 1)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    files = sorted(src.iterdir())[first : first + count]
    for i, f in enumerate(files, start=1):
        os.link(f, dest / f"006_1_{i:04d}.jpg")
    return dest


def stage_stores(work: Path, n_stores: int, n_frames: int) -> tuple[list[str], list[str]]:
    """Stage-1 (K=42) and stage-2 stores of n_frames-frame videos, filled with cheap
    low-entropy values (training reads them; their content does not matter here)."""
    import numpy as np
    import zarr

    s1, s2 = [], []
    rng = np.random.default_rng(0)
    for i in range(n_stores):
        for kind, step, n, out in (
            ("skip", K, n_frames - K, s1),
            ("stride", STRIDE, n_frames // STRIDE - 1, s2),
        ):
            path = work / f"{kind}{n_frames}" / f"v{i:03d}.zarr"
            out.append(str(path))
            if path.exists():
                continue
            arr = zarr.create_array(
                store=str(path), shape=(n, 3, 42, 42), chunks=(CHUNK, 3, 42, 42), dtype="float16"
            )
            for s in range(0, n, 1024):
                e = min(n, s + 1024)
                arr[s:e] = (rng.integers(0, 8, (e - s, 3, 42, 42)) / 8).astype("float16")
            arr.attrs.update({"kind": kind, "step": step, "first_frame": 1, "n_frames": n_frames})
    return s1, s2
