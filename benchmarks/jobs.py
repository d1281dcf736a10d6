"""The benchmark jobs, each run in a fresh process by the launcher (`run.py job KIND ARGS`).

Every job returns {"seconds", "items", ...} as JSON; the launcher adds peak RSS and CPU time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchmarks.common import CHUNK, FACE, STRIDE, K, project_config


def _quiet(_: str) -> None:
    return None


def job_faces(a: dict) -> dict:
    """The faces step: every frame decoded once, cropped, resized, into a uint8 store."""
    from benchmarks.fixtures.video import video_landmarks
    from tsmsnet.steps.preprocess import faces

    json_path = Path(a["out"]).with_suffix(".landmarks.json")
    video_landmarks(a["size"]).to_json(json_path)
    t0 = time.perf_counter()
    interpolation = project_config()["preprocess"]["face_interpolation"]
    faces(a["frames"], str(json_path), a["out"], FACE, CHUNK, interpolation, _quiet)
    return {"seconds": time.perf_counter() - t0, "items": len(os.listdir(a["frames"]))}


def _flow(method: str) -> dict:
    """The flow settings a flow rule would get with `method` (tsmsnet.preprocess.flow)."""
    from tsmsnet.preprocess.flow import flow_settings

    flow = project_config()["preprocess"]["flow"]
    return flow_settings({**flow, "method": method}, "auto")


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
        _flow(a["method"]),
        project_config()["preprocess"]["features"],
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

    cfg = project_config()
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
        prev = crop_resize(prev, marks.box, FACE, "linear")  # upstream's cv2.resize default
        nxt = crop_resize(nxt, marks.box, FACE, "linear")
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


def _use_kernels(a: dict, cfg: dict) -> None:
    """The workflow's CPU kernels (config `cpu_kernels`, pinned before any operation as the
    training step does); kernels=native: each CPU's own, the baseline they are measured
    against."""
    from tsmsnet.config import cpu_kernel_pins
    from tsmsnet.training.device import pin_cpu_kernels

    pin_cpu_kernels({} if a.get("kernels") == "native" else cpu_kernel_pins(cfg), _quiet)


def job_train_apex(a: dict) -> dict:
    from tsmsnet.config import stage1_input
    from tsmsnet.models.apex import ApexNetConfig
    from tsmsnet.training.device import set_threads
    from tsmsnet.training.train import train_apex

    cfg = project_config()
    _use_kernels(a, cfg)
    set_threads(a["threads"])
    _use_layout(a)
    cfg = project_config()
    train = {**cfg["apex_net"], "input_scaling": stage1_input(cfg), "epochs": 1}
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

    cfg = project_config()
    _use_kernels(a, cfg)
    set_threads(a["threads"])
    _use_layout(a)
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
