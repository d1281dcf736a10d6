"""Per-ROI motion curves of one video, for the training-free ROI-flow spotter.

For each frame gap k: the flow from frame t to t+k, the head's own motion removed by
subtracting the mean flow of the nose patch (as the flow features do), eyes masked (blinks are
not expressions); each ROI's value is its mean residual flow magnitude. Pair (t, t+k) lands at
frame t + k // 2, the pair's middle; frames that no pair's middle reaches stay 0. Computed once
per video; every fold's parameter search then only reads these small arrays.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tsmsnet.atomic import atomic_write
from tsmsnet.errors import ConfigError, InputError
from tsmsnet.preprocess.geometry import landmark_box
from tsmsnet.runlog import Progress, quiet


@dataclass(frozen=True)
class RoiLayout:
    """Which pixels each ROI averages (its landmark box minus the eye mask) and the nose box."""

    names: tuple[str, ...]
    masks: np.ndarray  # (R, H, W) float32, 1 inside the ROI and outside the eyes
    nose: tuple[int, int, int, int]


def roi_layout(
    points, size: int, groups: dict, margin: float, eye_mask, nose, source: str = "video"
) -> RoiLayout:
    """ROIs named by `groups` (name -> 0-based iBUG landmark indices), `margin` px around them."""
    if not groups:
        raise ConfigError("roi_flow.rois names no ROI; give at least one landmark group")
    masks = np.zeros((len(groups), size, size), dtype=np.float32)
    keep = ~np.asarray(eye_mask, dtype=bool)
    for i, (name, indices) in enumerate(groups.items()):
        x0, y0, x1, y1 = landmark_box(points, indices, margin, size, f"ROI {name}", source)
        masks[i, y0:y1, x0:x1] = keep[y0:y1, x0:x1]
        if not masks[i].any():
            raise InputError(
                f"{source}: ROI {name} lies entirely inside the eye mask; move it (roi_flow.rois)"
            )
    return RoiLayout(tuple(groups), masks, tuple(int(c) for c in nose))


def roi_values(flows: np.ndarray, layout: RoiLayout) -> np.ndarray:
    """(B, H, W, 2) flows -> (B, R) mean |flow - nose mean flow| inside each ROI."""
    flows = np.asarray(flows, dtype=np.float32)
    x0, y0, x1, y1 = layout.nose
    head = flows[:, y0:y1, x0:x1].mean(axis=(1, 2), dtype=np.float64).astype(np.float32)
    magnitude = np.linalg.norm(flows - head[:, None, None, :], axis=-1)
    weights = layout.masks.reshape(len(layout.names), -1)
    totals = magnitude.reshape(len(flows), -1) @ weights.T
    return totals / weights.sum(axis=1)


def gap_curves(faces, gap: int, flow_fn, layout: RoiLayout, block: int, report=None) -> np.ndarray:
    """(R, n) float32 curves of frame gap `gap` over a (n, H, W) face array (numpy or zarr),
    reading `block` pairs' frames at a time."""
    n = int(faces.shape[0])
    if gap < 1 or gap >= n:
        raise InputError(f"frame gap {gap} does not fit a video of {n} frames (needs 1..{n - 1})")
    curves = np.zeros((len(layout.names), n), dtype=np.float32)
    pairs = n - gap
    for t0 in range(0, pairs, block):
        t1 = min(t0 + block, pairs)
        frames = np.asarray(faces[t0 : t1 + gap])
        flows = np.stack([flow_fn(frames[i], frames[i + gap]) for i in range(t1 - t0)])
        curves[:, t0 + gap // 2 : t1 + gap // 2] = roi_values(flows, layout).T
        if report is not None:
            report(t1)
    return curves


def gap_frames(gap_s: float, fps: float) -> int:
    """A gap in seconds -> frames at `fps` (at least 1)."""
    return max(1, int(round(float(gap_s) * float(fps))))


@dataclass(frozen=True)
class RoiCurves:
    """One video's curves: curves[g] is (R, n) for gaps_s[g] seconds (gaps[g] frames)."""

    gaps_s: tuple[float, ...]
    gaps: tuple[int, ...]
    curves: np.ndarray  # (G, R, n) float32
    rois: tuple[str, ...]
    first_frame: int
    fps: float
    source: str

    def for_gap(self, gap_s: float) -> np.ndarray:
        """(R, n) curves of the gap of `gap_s` seconds; InputError if it was not computed."""
        for g, value in enumerate(self.gaps_s):
            if np.isclose(value, gap_s):
                return self.curves[g]
        raise InputError(
            f"{self.source}: no ROI curves for a gap of {gap_s} s (has {list(self.gaps_s)}); "
            "rerun the roi_curves rule"
        )


def compute_roi_curves(
    faces, gaps_s, flow_fn, layout: RoiLayout, fps: float, block: int, source: str, log=None
) -> RoiCurves:
    """Curves of every gap (seconds, converted at `fps`) of one video's faces."""
    gaps_s = tuple(sorted({float(g) for g in gaps_s}))
    gaps = tuple(gap_frames(g, fps) for g in gaps_s)
    n = int(faces.shape[0])
    pairs = [max(n - k, 0) for k in gaps]
    before = np.concatenate([[0], np.cumsum(pairs)]).tolist()
    report = Progress(sum(pairs), log or quiet, f"ROI curves {source}").to
    curves = [
        gap_curves(faces, k, flow_fn, layout, block, lambda t, g=g: report(before[g] + t))
        for g, k in enumerate(gaps)
    ]
    first = int(faces.attrs.get("first_frame", 0)) if hasattr(faces, "attrs") else 0
    return RoiCurves(gaps_s, gaps, np.stack(curves), layout.names, first, float(fps), source)


def write_roi_curves(curves: RoiCurves, out: str | Path) -> None:
    """One .npz (written aside, renamed): the curves and a JSON header of everything else."""
    header = {
        "gaps_s": list(curves.gaps_s),
        "gaps": list(curves.gaps),
        "rois": list(curves.rois),
        "first_frame": curves.first_frame,
        "fps": curves.fps,
        "source": curves.source,
    }

    def write(tmp: Path) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, curves=curves.curves, header=np.array(json.dumps(header)))
        tmp.write_bytes(buffer.getvalue())

    atomic_write(out, write)


def read_roi_curves(path: str | Path) -> RoiCurves:
    """Back from write_roi_curves; InputError naming the file if it is missing or damaged."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            curves = np.asarray(data["curves"], dtype=np.float32)
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{path}: unreadable ROI curves ({exc}); delete it and rerun") from exc
    return RoiCurves(
        tuple(float(g) for g in header["gaps_s"]),
        tuple(int(g) for g in header["gaps"]),
        curves,
        tuple(header["rois"]),
        int(header["first_frame"]),
        float(header["fps"]),
        str(header.get("source", path)),
    )
