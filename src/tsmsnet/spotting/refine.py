"""Boundary refinement after step 2 (our extension, issue 16.2): intervals that fit the motion.

Step 2's intervals are fused fixed windows of 2K+1 frames, which cannot match expressions
shorter than K+1 frames (tsmsnet.evaluation.findable). Here each interval's onset and offset
move to where a smoothed motion curve falls below a fraction of its value at the interval's
peak, searched at most `reach` frames either side of the peak. The curve is the training-free
flow magnitude of the stage-1 stores (spotting.classical), so it depends on no labels; the
three parameters are chosen per fold on the training subjects only (`choose`).

Curve sample t is the flow from frame t to t+K; it stands for the pair's middle frame
t + K // 2. Smoothing and reach are given in units of K, so one grid serves every config.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from tsmsnet.errors import ConfigError


@dataclass(frozen=True)
class RefineParams:
    """fraction: of the peak's value where a boundary stops; smoothing: moving-average length
    and reach: the search range either side of the peak, both in units of K."""

    fraction: float
    smoothing: float
    reach: float

    def window(self, K: int) -> int:
        """Odd moving-average length in samples (1: no smoothing)."""
        return 2 * int(round(self.smoothing * K / 2)) + 1

    def reach_frames(self, K: int) -> int:
        return max(1, int(round(self.reach * K)))

    def record(self) -> dict:
        return asdict(self)


def grid(settings: Mapping) -> list[RefineParams]:
    """Every combination of config.yaml `refine`'s lists, in their order (the search's order)."""
    values = [settings[key] for key in ("fraction", "smoothing", "reach")]
    for key, options in zip(("fraction", "smoothing", "reach"), values, strict=True):
        if not options:
            raise ConfigError(f"refine.{key} is empty: give at least one value")
    return [RefineParams(float(f), float(s), float(r)) for f, s, r in itertools.product(*values)]


def smooth(curve: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; edges repeat the end values."""
    curve = np.asarray(curve, dtype=np.float64)
    if window <= 1 or curve.size == 0:
        return curve
    return uniform_filter1d(curve, size=window, mode="nearest")


def _boundary(curve: np.ndarray, peak: int, level: float, limit: int, step: int) -> int:
    """First sample from the peak (in direction `step`) below `level`, else the search limit."""
    t = peak
    while t != limit:
        t += step
        if curve[t] < level:
            return t
    return limit


def refine_intervals(
    intervals,
    curve,
    K: int,
    params: RefineParams,
    n_frames: int,
    smoothed: np.ndarray | None = None,
) -> np.ndarray:
    """(n, 3) [onset, offset, score] in store-index frames -> the same with refined bounds.

    The peak is the smoothed curve's maximum over the samples standing for the interval's
    frames; scores are kept. `smoothed` may pass the curve already smoothed with `params`.
    """
    items = np.asarray(intervals, dtype=np.float64).reshape(-1, 3)
    values = smoothed if smoothed is not None else smooth(curve, params.window(K))
    out = items.copy()
    if len(values) == 0:
        return out
    half, reach, last = K // 2, params.reach_frames(K), len(values) - 1
    for row in out:
        lo = int(np.clip(row[0] - half, 0, last))
        hi = int(np.clip(row[1] - half, lo, last))
        peak = lo + int(np.argmax(values[lo : hi + 1]))
        level = params.fraction * values[peak]
        left = _boundary(values, peak, level, max(0, peak - reach), -1)
        right = _boundary(values, peak, level, min(last, peak + reach), 1)
        row[0] = min(left + half, n_frames - 1)
        row[1] = min(right + half, n_frames - 1)
    return out


@dataclass(frozen=True)
class TrainingVideo:
    """What the search needs of one training video: its curve, length and ground truths of
    the config's type, in store-index frames (onset, offset)."""

    curve: np.ndarray
    n_frames: int
    truth: np.ndarray


def training_proposals(truth: np.ndarray, K: int) -> np.ndarray:
    """The windows step 1 would propose with its peak on each ground truth's middle frame."""
    from tsmsnet.evaluation.findable import fixed_window_intervals

    windows = fixed_window_intervals(truth, K)
    return np.column_stack([windows, np.ones(len(windows))])


def score(videos: Sequence[TrainingVideo], K: int, params: RefineParams) -> dict:
    """The protocol's counts and F1 of the refined training proposals vs the training truth."""
    from tsmsnet.evaluation.megc import match_video, scores

    n = tp = m = 0
    for video in videos:
        smoothed = smooth(video.curve, params.window(K))
        proposals = training_proposals(video.truth, K)
        refined = refine_intervals(proposals, video.curve, K, params, video.n_frames, smoothed)
        match = match_video(video.truth, refined[:, :2].astype(np.int64))
        n, tp, m = n + match.n, tp + match.tp, m + match.m
    return scores(n, tp, m)


def choose(
    videos: Sequence[TrainingVideo], K: int, candidates: Sequence[RefineParams]
) -> tuple[RefineParams, list[dict]]:
    """The candidate with the highest training F1 (the first in grid order on a tie), and
    every candidate's record with its N, TP, M and F1."""
    if not candidates:
        raise ConfigError("the refine grid is empty")
    table = []
    for params in candidates:
        counts = score(videos, K, params)
        table.append({**params.record(), **{k: counts[k] for k in ("N", "TP", "M", "F1")}})
    best = max(range(len(table)), key=lambda i: (table[i]["F1"], -i))
    return candidates[best], table
