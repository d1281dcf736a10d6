"""Peak RSS of the training jobs against training subjects and window length L (issue 15.13).

`python benchmarks/training_memory.py [--quick] [--threads N] [--json OUT]`

SAMM-LV-like folds: each subject has `VIDEOS_PER_SUBJECT` videos of `FRAMES` frames at
200 fps, whose stage-1 (K=42, samm_micro) and stage-2 (stride 4) stores are filled with
random float16 features in the real store layout (chunks and attrs of
`write_flow_features`). Each job runs in a fresh process started by a tiny launcher, and its
peak RSS is os.wait4's rusage, as Snakemake's benchmark files record it. Jobs run with the
workflow's environment (config.yaml `malloc`), one epoch capped at a few batches (enough to
reach steady state: the batch, the block cache and the allocator are all warm by then).

Self-contained on purpose: benchmarks/run.py is being split, nothing here imports it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from benchmarks.launcher import run_measured  # noqa: E402 (after the path)

FRAMES = 1600  # frames per video, as in the SAMM-LV copy
VIDEOS_PER_SUBJECT = 3
CHUNK = 64  # config.yaml preprocess.chunk_frames
STRIDE = 4  # config.yaml preprocess.stage2_stride
SUBJECTS = (2, 4, 8)
LENGTHS = (21, 57, 114, 171)  # L sweep, with samm_macro's stride/padding/FC
BOUND_MB = 1500


# ---- jobs (each in a fresh process) ----------------------------------------------------------


def _cfg() -> dict:
    from tsmsnet.config import DEFAULT_CONFIG, load_config

    return load_config(DEFAULT_CONFIG)


def _cap_batches(n: int | None) -> None:
    """At most n batches per epoch: the samplers the training loops build are cut short."""
    if not n:
        return
    from tsmsnet.training import data, train

    class Capped(data.BlockShuffleBatchSampler):
        def __len__(self) -> int:
            return min(super().__len__(), n)

        def __iter__(self):
            for i, batch in enumerate(super().__iter__()):
                if i >= n:
                    return
                yield batch

    train.BlockShuffleBatchSampler = Capped


def _items(stores: list[str], length: int, every: int) -> list:
    """(store, intervals): an expression of `length` frames every `every` frames."""
    import zarr

    out = []
    for s in stores:
        frames = int(zarr.open_array(s, mode="r").attrs["n_frames"])
        out.append((s, [(f, f + length - 1) for f in range(40, frames - length - 40, every)]))
    return out


def job(a: dict) -> dict:
    """One training run: stage 'apex' or 'interval' on the given stores."""
    from tsmsnet.config import spot_config, stage1_input
    from tsmsnet.models.apex import ApexNetConfig
    from tsmsnet.models.interval import IntervalNetConfig
    from tsmsnet.training.device import set_threads
    from tsmsnet.training.train import train_apex, train_interval

    set_threads(a["threads"])
    _cap_batches(a.get("batches"))
    cfg = _cfg()
    lines: list[str] = []
    t0 = time.perf_counter()
    if a["stage"] == "apex":
        spot = cfg["configs"]["samm_micro"]
        train = {**cfg["apex_net"], "input_scaling": stage1_input(cfg), "epochs": 1}
        net = ApexNetConfig.from_sections(train, cfg["preprocess"]["features"])
        items = _items(a["stores"], 60, 400)
        train_apex(items, net, train, 0, "cpu", lines.append, K=int(spot["K"]))
    else:
        spot = spot_config(cfg, a["config"])
        spot = dataclasses.replace(spot, L=int(a.get("L", spot.L)))
        train = {**cfg["interval_net"], "epochs": 1}
        net = IntervalNetConfig.from_spot(spot, train, cfg["preprocess"]["features"])
        # Long enough that windows of L clips are positive (half of stride*L+1 frames covered).
        length = int(0.5 * (STRIDE * spot.L + 1)) + 60
        items = _items(a["stores"], length, 2 * length + 200)
        train_interval(items, net, train, 0, "cpu", lines.append, clip_stride=STRIDE)
    seconds = time.perf_counter() - t0
    samples = int(lines[-1].split("(")[1].split()[0])  # "epoch 1/1 loss x (N samples, ...)"
    return {"seconds": seconds, "samples": samples}


def run_job(**args) -> dict:
    """Run `job(args)` in a fresh process: its result plus peak RSS in MB."""
    env = dict(os.environ)
    for name, value in _cfg()["malloc"].items():
        env.setdefault(name, str(value))  # as the workflow's jobs get them
    env["PYTHONPATH"] = str(REPO / "src")
    return run_measured(Path(__file__), ["job", json.dumps(args)], env)


# ---- data ------------------------------------------------------------------------------------


def make_stores(work: Path, n_videos: int, frames: int, K: int) -> tuple[list[str], list[str]]:
    """Stage-1 (skip K) and stage-2 (stride) stores of n_videos videos, random float16 in
    the layout write_flow_features gives (n, 3, 42, 42), chunked CHUNK samples in time."""
    import numpy as np
    import zarr

    from tsmsnet.preprocess.stores import pair_count

    s1, s2 = [], []
    for i in range(n_videos):
        rng = np.random.default_rng(i)
        for kind, step, out in (("skip", K, s1), ("stride", STRIDE, s2)):
            path = work / f"{kind}{step}_{frames}" / f"v{i:03d}.zarr"
            out.append(str(path))
            if path.exists():
                continue
            n = pair_count(frames, step, kind)
            arr = zarr.create_array(
                store=str(path), shape=(n, 3, 42, 42), chunks=(CHUNK, 3, 42, 42), dtype="float16"
            )
            for s in range(0, n, CHUNK):
                e = min(n, s + CHUNK)
                arr[s:e] = rng.random((e - s, 3, 42, 42), dtype=np.float32).astype("float16")
            arr.attrs.update(
                {
                    "kind": kind,
                    "step": step,
                    "first_frame": 1,
                    "n_frames": frames,
                    "flow": "fake",
                    "flow_params": {},
                    "source": f"v{i:03d}",
                }
            )
    return s1, s2


# ---- section ---------------------------------------------------------------------------------


def training_memory_section(work: Path, quick: bool, threads: int) -> dict:
    """Peak RSS (MB) of train_interval (samm_macro, samm_micro) and train_apex (samm_micro)
    against training subjects, and of train_interval against L at the most subjects."""
    cfg = _cfg()
    K = int(cfg["configs"]["samm_micro"]["K"])
    subjects = SUBJECTS[:2] if quick else SUBJECTS
    lengths = (21, 114) if quick else LENGTHS
    batches = 3 if quick else 6
    s1, s2 = make_stores(work, max(subjects) * VIDEOS_PER_SUBJECT, FRAMES, K)
    out: dict = {
        "frames_per_video": FRAMES,
        "videos_per_subject": VIDEOS_PER_SUBJECT,
        "batches": batches,
        "threads": threads,
        "subjects": {},
        "lengths": {},
    }
    for n in subjects:
        v = n * VIDEOS_PER_SUBJECT
        row = {}
        for name in ("samm_macro", "samm_micro"):
            r = run_job(
                stage="interval", config=name, stores=s2[:v], threads=threads, batches=batches
            )
            row[f"train_interval {name}"] = r["rss_mb"]
        # Stage 1's block cache only fills over a whole epoch: no batch cap here.
        row["train_apex samm_micro"] = run_job(stage="apex", stores=s1[:v], threads=threads)[
            "rss_mb"
        ]
        out["subjects"][n] = row
        print(f"  {n} subjects: " + ", ".join(f"{k} {m:.0f} MB" for k, m in row.items()))
    n = max(subjects) * VIDEOS_PER_SUBJECT
    for L in lengths:
        r = run_job(
            stage="interval",
            config="samm_macro",
            L=L,
            stores=s2[:n],
            threads=threads,
            batches=batches,
        )
        out["lengths"][L] = r["rss_mb"]
        print(f"  L={L}: {r['rss_mb']:.0f} MB")
    return out


def print_table(res: dict) -> None:
    """Both tables in markdown, with the bound."""
    rows = res["subjects"]
    jobs = list(next(iter(rows.values())))
    print(
        f"\nPeak RSS (MB), {res['videos_per_subject']} videos of {res['frames_per_video']} "
        f"frames per subject, {res['threads']} threads, bound {BOUND_MB} MB"
    )
    print("| job | " + " | ".join(f"{n} subjects" for n in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for j in jobs:
        print(f"| {j} | " + " | ".join(f"{rows[n][j]:.0f}" for n in rows) + " |")
    n = max(rows)
    print(f"\ntrain_interval (samm_macro net, L varied), {n} subjects")
    print("| L | " + " | ".join(str(L) for L in res["lengths"]) + " |")
    print("|---|" + "---|" * len(res["lengths"]))
    print("| peak RSS (MB) | " + " | ".join(f"{m:.0f}" for m in res["lengths"].values()) + " |")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 and 4 subjects, L 21 and 114")
    p.add_argument("--threads", type=int, default=1, help="torch threads per job (train: 1)")
    p.add_argument("--work", type=Path, help="where the fake stores go (kept); default: temp")
    p.add_argument("--json", type=Path, help="also write the results here")
    a = p.parse_args(argv)
    if a.work is None:
        with tempfile.TemporaryDirectory() as tmp:
            res = training_memory_section(Path(tmp), a.quick, a.threads)
    else:
        a.work.mkdir(parents=True, exist_ok=True)
        res = training_memory_section(a.work, a.quick, a.threads)
    print_table(res)
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "job":
        print(json.dumps(job(json.loads(sys.argv[2]))))
    else:
        main()
