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

Every job runs in its own process (`run.py job KIND ARGS`, started by a small launcher),
whose peak RSS comes from os.wait4's rusage. Results print as tables and go to `--json`.
docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

K = 42  # SAMM micro: the stage-1 skip every memory and throughput number here uses
STRIDE = 4
FACE = 128
CHUNK = 64
SECTIONS = ("flow", "train", "memory", "dag")


# ---- jobs (each runs in a fresh subprocess) --------------------------------------------------


def _cfg() -> dict:
    from tsmsnet.config import DEFAULT_CONFIG, load_config

    return load_config(DEFAULT_CONFIG)


def _quiet(_: str) -> None:
    return None


def job_faces(a: dict) -> dict:
    """The faces step: every frame decoded once, cropped, resized, into a uint8 store."""
    from benchmarks.fixtures.video import video_landmarks
    from tsmsnet.steps.preprocess import faces

    json_path = Path(a["out"]).with_suffix(".landmarks.json")
    video_landmarks(a["size"]).to_json(json_path)
    t0 = time.perf_counter()
    faces(a["frames"], str(json_path), a["out"], FACE, CHUNK, _quiet)
    return {"seconds": time.perf_counter() - t0, "items": len(os.listdir(a["frames"]))}


def _flow(method: str, threads: int) -> dict:
    flow = _cfg()["preprocess"]["flow"]
    params = flow.get(method, flow["tvl1"] if method == "tvl1_torch" else {})
    return {"method": method, "params": params}


def job_features(a: dict) -> dict:
    """The stage-1 / stage-2 step: flow feature store of one faces store."""
    import zarr

    from tsmsnet.steps.preprocess import flow_features

    t0 = time.perf_counter()
    flow_features(
        a["faces"],
        a["out"],
        a["kind"],
        a["step"],
        _flow(a["method"], a["threads"]),
        _cfg()["preprocess"]["features"],
        CHUNK,
        a["threads"],
        _quiet,
    )
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "items": int(zarr.open_array(a["out"], mode="r").shape[0])}


def job_upstream(a: dict) -> dict:
    """Upstream's loop: per pair, read both JPEGs, crop, resize, OpenCV TV-L1 on one thread."""
    import cv2
    import numpy as np

    from benchmarks.fixtures.video import video_landmarks
    from tsmsnet.preprocess.align import crop_resize, map_points
    from tsmsnet.preprocess.features import flow_to_sample
    from tsmsnet.preprocess.flow import make_flow
    from tsmsnet.preprocess.geometry import FaceGeometry

    cfg = _cfg()
    feats = cfg["preprocess"]["features"]
    marks = video_landmarks(a["size"])
    geom = FaceGeometry.from_points(
        map_points(marks.points, marks.box, FACE),
        FACE,
        nose_landmark=feats["nose_landmark"],
        nose_patch=feats["nose_patch"],
        eye_margin=feats["eye_margin"],
        roi_margin=feats["roi_margin"],
        source="upstream",
    )
    files = sorted(Path(a["frames"]).iterdir())
    tvl1 = make_flow("tvl1", cfg["preprocess"]["flow"]["tvl1"], 1)  # OpenCV's defaults
    cv2.setNumThreads(1)
    samples = []
    t0 = time.perf_counter()
    for t in range(a["pairs"]):
        prev = cv2.imread(str(files[t]), cv2.IMREAD_GRAYSCALE)
        nxt = cv2.imread(str(files[t + a["step"]]), cv2.IMREAD_GRAYSCALE)
        prev, nxt = crop_resize(prev, marks.box, FACE), crop_resize(nxt, marks.box, FACE)
        flow = tvl1(prev, nxt)
        samples.append(flow_to_sample(flow, geom, feats["roi_width"], feats["roi_height"]))
    seconds = time.perf_counter() - t0
    np.save(a["out"], np.stack(samples).astype(feats["dtype"]))
    return {"seconds": seconds, "items": a["pairs"]}


def _training_items(stores: list[str], every: int, length: int) -> list:
    """(store, intervals): an expression of `length` frames every `every` frames."""
    import zarr

    items = []
    for s in stores:
        frames = int(zarr.open_array(s, mode="r").attrs["n_frames"])
        items.append((s, [(f, f + length) for f in range(100, frames - length - 100, every)]))
    return items


def _use_layout(a: dict) -> None:
    """layout=contiguous: the networks in torch's default memory layout, the baseline that
    tsmsnet.models.layers.FAST_FORMAT is measured against."""
    if a.get("layout") == "contiguous":
        import torch

        from tsmsnet.models import layers

        layers.FAST_FORMAT = torch.contiguous_format


def job_train_apex(a: dict) -> dict:
    from tsmsnet.models.apex import ApexNetConfig
    from tsmsnet.training.device import set_threads
    from tsmsnet.training.train import train_apex

    set_threads(a["threads"])
    _use_layout(a)
    cfg = _cfg()
    train = {**cfg["apex_net"], "epochs": 1}
    net = ApexNetConfig.from_sections(train, cfg["preprocess"]["features"])
    items = _training_items(a["stores"], 1000, 400)
    lines: list[str] = []
    t0 = time.perf_counter()
    train_apex(items, net, train, 0, "cpu", lines.append, K=K)
    seconds = time.perf_counter() - t0
    samples = int(lines[-1].split("(")[1].split()[0])  # "epoch 1/1 loss x (N samples, ...)"
    return {"seconds": seconds, "items": samples}


def job_train_interval(a: dict) -> dict:
    from tsmsnet.models.interval import IntervalNetConfig
    from tsmsnet.training.device import set_threads
    from tsmsnet.training.train import train_interval

    set_threads(a["threads"])
    _use_layout(a)
    cfg = _cfg()
    name = a.get("config", "samm_micro")
    spot = cfg["configs"][name]
    train = {**cfg["interval_net"], "epochs": 1}
    net_cfg = IntervalNetConfig.from_cfg(cfg, name)
    lines: list[str] = []
    t0 = time.perf_counter()
    train_interval(
        _training_items(a["stores"], a.get("every", 1000), a.get("length", 120)),
        net_cfg,
        train,
        0,
        "cpu",
        lines.append,
        clip_stride=STRIDE,
    )
    seconds = time.perf_counter() - t0
    windows = int(lines[-1].split("(")[1].split()[0])
    return {"seconds": seconds, "items": windows, "clips_per_item": spot["L"]}


JOBS = {
    "faces": job_faces,
    "features": job_features,
    "upstream": job_upstream,
    "train_apex": job_train_apex,
    "train_interval": job_train_interval,
}


# A small launcher between us and each job: Linux keeps a process's peak RSS across fork and
# exec, so a job forked straight from this (large) process would report at least our own.
_LAUNCHER = """
import json, os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"status": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
                  "cpu_s": usage.ru_utime + usage.ru_stime}))
"""


WAIT_LOAD: float | None = None  # --wait-load


def wait_for_quiet(limit_s: float = 600) -> None:
    """With --wait-load X: wait (up to limit_s) until the 1-minute load average is below X."""
    t0 = time.monotonic()
    while WAIT_LOAD is not None and os.getloadavg()[0] >= WAIT_LOAD:
        if time.monotonic() - t0 > limit_s:
            print(f"  (load still {os.getloadavg()[0]:.1f} after {limit_s:.0f}s; going on)")
            return
        time.sleep(5)


def run_job(job: str, /, plain_malloc: bool = False, **args) -> dict:
    """Run one job in a fresh process; its result plus peak RSS (MB) and CPU seconds.

    Jobs get the workflow's malloc settings (config.yaml `malloc`, set in main);
    plain_malloc=True runs one without them, glibc's defaults, for comparison.
    """
    wait_for_quiet()
    env = dict(os.environ)
    if plain_malloc:
        for name in _cfg()["malloc"]:
            env.pop(name, None)
    cmd = [sys.executable, "-S", "-c", _LAUNCHER, sys.executable, __file__, "job", job]
    proc = subprocess.run([*cmd, json.dumps(args)], capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    usage = json.loads(lines[-1]) if lines else {"status": proc.returncode}
    if proc.returncode != 0 or usage["status"] != 0:
        raise RuntimeError(f"job {job} {args} failed:\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(lines[-2])
    result["rss_mb"] = usage["maxrss_kb"] / 1024
    result["cpu_s"] = usage["cpu_s"]
    result["rate"] = result["items"] / result["seconds"]
    return result


# ---- data ------------------------------------------------------------------------------------


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


# ---- sections ---------------------------------------------------------------------------------


def flow_section(work: Path, video: Path, quick: bool, threads: int, torch_pairs: int) -> dict:
    """Upstream's loop, ours on `threads` workers and ours on one thread, taking turns in
    rounds over consecutive stretches of the video (so load changes hit all three)."""
    import numpy as np
    import zarr

    from tsmsnet.preprocess.flow import make_flow

    rounds, per = (2, 8) if quick else (4, 24)
    totals: dict[str, list[float]] = {}

    def add(name: str, r: dict) -> None:
        t = totals.setdefault(name, [0.0, 0, 0.0, 0.0])
        t[0] += r["seconds"]
        t[1] += r["items"]
        t[2] = max(t[2], r["rss_mb"])
        t[3] += r["cpu_s"]

    def features(faces: str, out: str, method: str, n_threads: int, kind="skip", step=K):
        return run_job(
            "features",
            faces=faces,
            out=out,
            kind=kind,
            step=step,
            method=method,
            threads=n_threads,
        )

    ours, ours1 = f"ours tvl1, {threads} threads", "ours tvl1, 1 thread"
    identical = True
    for r in range(rounds):
        frames = link_frames(video, work / f"flow{r}", r * per, per + K)
        faces = str(work / f"flow{r}.faces.zarr")
        up_out = str(work / f"flow{r}.upstream.npy")
        add("faces", run_job("faces", frames=str(frames), out=faces, size=600))
        turns = ["upstream", ours, ours1]
        for who in turns[r % 3 :] + turns[: r % 3]:
            if who == "upstream":
                job = run_job(
                    "upstream", frames=str(frames), size=600, step=K, pairs=per, out=up_out
                )
            else:
                n = threads if who == ours else 1
                job = features(faces, str(work / f"flow{r}.{n}.zarr"), "tvl1", n)
            add(who, job)
        want = np.load(up_out)
        for n in (1, threads):
            got = zarr.open_array(str(work / f"flow{r}.{n}.zarr"), mode="r")[:]
            identical &= bool(np.array_equal(want, got))
    stage2 = features(
        str(work / "flow0.faces.zarr"), str(work / "flow0.s2.zarr"), "tvl1", threads, "stride", 4
    )
    rate = {name: t[1] / t[0] for name, t in totals.items()}
    # The faces job's cost per frame, on a long stretch (the rounds' short ones are mostly
    # fixed costs): each frame is decoded once for all the video's stores.
    long = link_frames(video, work / "faces1000", 0, 1000)
    faces_job = run_job("faces", frames=str(long), out=str(work / "faces1000.zarr"), size=600)
    faces_s = 1 / faces_job["rate"]
    result = {
        "pairs": rounds * per,
        "threads": threads,
        "pairs_per_s": rate,
        "ratio": {name: rate[name] / rate["upstream"] for name in (ours, ours1)},
        "faces_frames_per_s_1000": faces_job["rate"],
        # with the faces job's share: one decoded frame per stage-1 pair
        "ratio_with_faces": {
            name: (1 / rate["upstream"]) / (1 / rate[name] + faces_s) for name in (ours, ours1)
        },
        "identical_to_upstream": identical,
        "stage2_clips_per_s": stage2["rate"],
        "rss_mb": {name: t[2] for name, t in totals.items()},
        # CPU seconds of the whole job process per pair (imports included), and how many
        # cores the job kept busy on average (CPU / wall): below `threads` when others compete
        "cpu_s_per_item": {name: t[3] / t[1] for name, t in totals.items()},
        "cores_busy": {name: t[3] / t[0] for name, t in totals.items()},
    }
    try:
        make_flow("tvl1_torch", _cfg()["preprocess"]["flow"]["tvl1"], 1)
    except Exception as exc:  # not there (yet), or no torch: say so
        result["tvl1_torch"] = f"not measured: {exc}"
        return result
    n = min(torch_pairs, per)
    frames = link_frames(video, work / "torch", 0, n + K)
    faces = str(work / "torch.faces.zarr")
    run_job("faces", frames=str(frames), out=faces, size=600)
    job = features(faces, str(work / "torch.zarr"), "tvl1_torch", threads)
    got = zarr.open_array(str(work / "torch.zarr"), mode="r")[:].astype("f4")
    want = np.load(work / "flow0.upstream.npy")[:n].astype("f4")
    result["tvl1_torch"] = {
        "pairs": n,
        "pairs_per_s": job["rate"],
        "ratio": job["rate"] / rate["upstream"],
        "rss_mb": job["rss_mb"],
        "max_abs_diff_vs_tvl1": float(np.abs(got - want).max()),
        "mean_abs_diff_vs_tvl1": float(np.abs(got - want).mean()),
    }
    return result


def train_section(work: Path, quick: bool, threads: int) -> dict:
    """One epoch of each network on the CPU (IntervalNet: a 120-frame expression every
    1,000 frames, so that an epoch, twice the positive windows, stays short)."""
    n_stores, frames = (4, 2000) if quick else (8, 4000)
    s1, s2 = stage_stores(work, n_stores, frames)
    apex = run_job("train_apex", stores=s1, threads=threads)
    interval = run_job("train_interval", stores=s2, threads=threads)
    # The same epochs in torch's default layout, and with glibc's default malloc, side by
    # side: what FAST_FORMAT and config.yaml `malloc` buy.
    apex0 = run_job("train_apex", stores=s1, threads=threads, layout="contiguous")
    interval0 = run_job("train_interval", stores=s2, threads=threads, layout="contiguous")
    apex_m = run_job("train_apex", plain_malloc=True, stores=s1, threads=threads)
    interval_m = run_job("train_interval", plain_malloc=True, stores=s2, threads=threads)
    return {
        "apex_samples_per_s_contiguous": apex0["rate"],
        "interval_windows_per_s_contiguous": interval0["rate"],
        "apex_samples_per_s_plain_malloc": apex_m["rate"],
        "interval_windows_per_s_plain_malloc": interval_m["rate"],
        "threads": threads,
        "stores": n_stores,
        "frames_per_store": frames,
        "apex_samples_per_s": apex["rate"],
        "apex_samples": apex["items"],
        "interval_windows_per_s": interval["rate"],
        "interval_windows": interval["items"],
        "interval_clips_per_s": interval["rate"] * interval["clips_per_item"],
    }


def memory_section(work: Path, video: Path, quick: bool, threads: int) -> dict:
    """Peak RSS of the per-video jobs on a short and a long video, and of training on few and
    on many stores (DIS flow: the memory pattern is the flow method's, not its speed)."""
    lengths = (1000, 1750) if quick else (2000, 7000)
    out: dict = {"lengths": lengths, "jobs": {}}
    for n in lengths:
        frames = link_frames(video, work / f"mem{n}", 0, n)
        faces = str(work / f"mem{n}.faces.zarr")
        rows = {"faces": run_job("faces", frames=str(frames), out=faces, size=600)}
        for name, kind, step in ((f"stage1 K={K}", "skip", K), ("stage2", "stride", STRIDE)):
            rows[name] = run_job(
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
            "train_apex": run_job("train_apex", stores=s1[:n], threads=threads)["rss_mb"],
            "train_interval": run_job(
                "train_interval", stores=s2[:n], threads=threads, every=600, length=120
            )["rss_mb"],
            # SAMM macro: L=114, the longest windows (passes of clips_per_pass clips).
            "train_interval L=114": run_job(
                "train_interval",
                stores=s2[:n],
                threads=threads,
                every=600,
                length=300,  # half of a 456-frame window must be expression to be positive
                config="samm_macro",
            )["rss_mb"],
        }
    return out


def dag_section(work: Path, quick: bool) -> dict:
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


# ---- report ---------------------------------------------------------------------------------


def machine() -> dict:
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
        print(
            f"  ApexNet     {a:8.0f} samples/s ({t['apex_samples']}); default layout "
            f"{a0:.0f} -> {a / a0:.2f}x; glibc's malloc {am:.0f} -> {a / am:.2f}x"
        )
        print(
            f"  IntervalNet {w:8.1f} windows/s "
            f"({t['interval_windows']}; {t['interval_clips_per_s']:.0f} clips/s); default "
            f"layout {w0:.1f} -> {w / w0:.2f}x; glibc's malloc {wm:.1f} -> {w / wm:.2f}x"
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
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {SECTIONS}")
    p.add_argument("--work", type=Path, help="work folder (kept; default: a temp folder)")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    global WAIT_LOAD
    WAIT_LOAD = args.wait_load
    sections = [s for s in args.only.split(",") if s]
    from tsmsnet.config import job_environment

    job_environment(_cfg(), os.environ)  # every job runs as the workflow runs it
    work = args.work or Path(tempfile.mkdtemp(prefix="tsmsnet-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    res: dict = {"machine": machine(), "quick": args.quick}
    try:
        video = None
        if {"flow", "memory"} & set(sections):
            from benchmarks.fixtures.video import write_video

            n = 1750 if args.quick else 7000
            t0 = time.perf_counter()
            video = write_video(work / f"video{n}", n)
            print(f"video: {n} frames in {time.perf_counter() - t0:.0f}s", flush=True)
        for name in sections:
            t0 = time.perf_counter()
            if name == "flow":
                res["flow"] = flow_section(work, video, args.quick, args.threads, args.torch_pairs)
            elif name == "train":
                res["train"] = train_section(work, args.quick, args.threads)
            elif name == "memory":
                res["memory"] = memory_section(work, video, args.quick, args.threads)
            elif name == "dag":
                res["dag"] = dag_section(work, args.quick)
            else:
                raise SystemExit(f"unknown section {name}; known: {', '.join(SECTIONS)}")
            print(f"{name}: done in {time.perf_counter() - t0:.0f}s", flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    res["machine"]["loadavg_end"] = os.getloadavg()
    print_report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))


if __name__ == "__main__":
    main()
