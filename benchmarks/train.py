"""The `train` section: one epoch of ApexNet and IntervalNet on the CPU, samples/s."""

from __future__ import annotations

from pathlib import Path

from benchmarks.data import stage_stores
from benchmarks.launcher import Launcher


def train_section(launcher: Launcher, work: Path, quick: bool, threads: int) -> dict:
    """One epoch of each network on the CPU (IntervalNet: a 120-frame expression every
    1,000 frames, so that an epoch, twice the positive windows, stays short)."""
    n_stores, frames = (4, 2000) if quick else (8, 4000)
    s1, s2 = stage_stores(work, n_stores, frames)
    apex = launcher.run("train_apex", stores=s1, threads=threads)
    interval = launcher.run("train_interval", stores=s2, threads=threads)
    # The same epochs in torch's default layout, with glibc's default malloc and with each
    # CPU's own kernels, side by side: what FAST_FORMAT and config.yaml `malloc` buy, and what
    # config.yaml `cpu_kernels` (the same bits on every x86-64 CPU) costs.
    apex0 = launcher.run("train_apex", stores=s1, threads=threads, layout="contiguous")
    interval0 = launcher.run("train_interval", stores=s2, threads=threads, layout="contiguous")
    apex_m = launcher.run("train_apex", plain_malloc=True, stores=s1, threads=threads)
    interval_m = launcher.run("train_interval", plain_malloc=True, stores=s2, threads=threads)
    apex_n = launcher.run("train_apex", stores=s1, threads=threads, kernels="native")
    interval_n = launcher.run("train_interval", stores=s2, threads=threads, kernels="native")
    return {
        "apex_samples_per_s_contiguous": apex0["rate"],
        "interval_windows_per_s_contiguous": interval0["rate"],
        "apex_samples_per_s_plain_malloc": apex_m["rate"],
        "interval_windows_per_s_plain_malloc": interval_m["rate"],
        "apex_samples_per_s_native_kernels": apex_n["rate"],
        "interval_windows_per_s_native_kernels": interval_n["rate"],
        "threads": threads,
        "stores": n_stores,
        "frames_per_store": frames,
        "apex_samples_per_s": apex["rate"],
        "apex_samples": apex["items"],
        "interval_windows_per_s": interval["rate"],
        "interval_windows": interval["items"],
        "interval_clips_per_s": interval["rate"] * interval["clips_per_item"],
    }
