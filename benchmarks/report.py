"""The benchmark report: the machine it ran on, and each section's results as tables."""

from __future__ import annotations

import os
import platform
import time

from benchmarks.common import STRIDE, K


def machine() -> dict:
    """Where the numbers come from (they are only comparable on one machine, one hour)."""
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as fh:
        mem_kb = int(fh.readline().split()[1])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
    }


def print_report(res: dict) -> None:
    """Each section's results that are present, as the tables docs/benchmarks.md quotes."""
    m = res["machine"]
    print(
        f"\nmachine: {m['nproc']} x {m['cpu']}, {m['ram_gb']} GB RAM, {m['date']}, "
        f"load average at start {m['loadavg_start'][0]:.2f}, at end {m['loadavg_end'][0]:.2f}"
    )
    if "flow" in res:
        f = res["flow"]
        print(f"\n[flow] stage-1 K={K}, {f['pairs']} pairs, 128x128 faces")
        for name, rate in f["pairs_per_s"].items():
            unit = "frames/s" if name == "faces" else "pairs/s"
            print(
                f"  {name:24s} {rate:8.2f} {unit:8s} peak RSS {f['rss_mb'][name]:5.0f} MB, "
                f"CPU {f['cpu_s_per_item'][name]:.3f} s/item, {f['cores_busy'][name]:.2f} cores"
            )
        for name, ratio in f["ratio"].items():
            print(
                f"  {name} / upstream: {ratio:.2f}x "
                f"(counting the faces job's share: {f['ratio_with_faces'][name]:.2f}x)"
            )
        print(f"  faces job on 1,000 frames: {f['faces_frames_per_s_1000']:.0f} frames/s")
        print(f"  features identical to upstream's: {f['identical_to_upstream']}")
        print(f"  stage-2 (stride {STRIDE}) clips/s, tvl1: {f['stage2_clips_per_s']:.2f}")
        t = f["tvl1_torch"]
        if isinstance(t, str):
            print(f"  tvl1_torch {t}")
        else:
            print(
                f"  ours tvl1_torch ({t['pairs']} pairs): {t['pairs_per_s']:.2f} pairs/s, "
                f"{t['ratio']:.2f}x upstream, peak RSS {t['rss_mb']:.0f} MB, features vs "
                f"tvl1 max |diff| {t['max_abs_diff_vs_tvl1']:.4f}, "
                f"mean {t['mean_abs_diff_vs_tvl1']:.5f}"
            )
    if "train" in res:
        t = res["train"]
        print(
            f"\n[train] CPU, {t['threads']} threads, {t['stores']} stores of "
            f"{t['frames_per_store']} frames, 1 epoch"
        )
        a, a0 = t["apex_samples_per_s"], t["apex_samples_per_s_contiguous"]
        am = t["apex_samples_per_s_plain_malloc"]
        w, w0 = t["interval_windows_per_s"], t["interval_windows_per_s_contiguous"]
        wm = t["interval_windows_per_s_plain_malloc"]
        an, wn = t["apex_samples_per_s_native_kernels"], t["interval_windows_per_s_native_kernels"]
        print(
            f"  ApexNet     {a:8.0f} samples/s ({t['apex_samples']}); default layout "
            f"{a0:.0f} -> {a / a0:.2f}x; glibc's malloc {am:.0f} -> {a / am:.2f}x; "
            f"this CPU's own kernels {an:.0f} -> {a / an:.2f}x"
        )
        print(
            f"  IntervalNet {w:8.1f} windows/s "
            f"({t['interval_windows']}; {t['interval_clips_per_s']:.0f} clips/s); default "
            f"layout {w0:.1f} -> {w / w0:.2f}x; glibc's malloc {wm:.1f} -> {w / wm:.2f}x; "
            f"this CPU's own kernels {wn:.1f} -> {w / wn:.2f}x"
        )
    if "memory" in res:
        mem = res["memory"]
        a, b = mem["lengths"]
        print(f"\n[memory] peak RSS, {a} vs {b} frames of 600x600 (flow: DIS)")
        for job, by_n in mem["jobs"].items():
            ra, rb = by_n[a]["rss_mb"], by_n[b]["rss_mb"]
            print(f"  {job:14s} {ra:7.0f} MB {rb:7.0f} MB  ({100 * (rb - ra) / ra:+.1f}%)")
        tr = mem["training"]
        few, many = tr["stores"]
        jobs = tr["jobs"]
        print(f"  training, {few} vs {many} stores of {tr['frames_per_store']} frames:")
        for job in jobs[few]:
            if job.endswith("_gb"):
                continue
            ra, rb = jobs[few][job], jobs[many][job]
            print(f"  {job:20s} {ra:7.0f} MB {rb:7.0f} MB  ({100 * (rb - ra) / ra:+.1f}%)")
    if "dag" in res:
        print("\n[dag] snakemake -n at full scale (two runs)")
        for dataset, d in res["dag"].items():
            print(
                f"  {dataset:8s} {d['videos']} videos x {d['frames_per_video']} frames, "
                f"{d['jobs']} jobs: wall {d['wall_s']} s, CPU {d['cpu_s']} s"
            )
