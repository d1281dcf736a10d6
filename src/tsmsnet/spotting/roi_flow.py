"""Training-free spotter in the family of the MEGC 2022 winners: per-ROI flow curves (head
motion removed, preprocess.roi_curves) -> one denoised curve -> peaks -> variable-length
intervals from where the curve crosses a fraction of each peak's height.

Every number is a parameter: the search space and the type's duration limits come from
config.yaml `roi_flow`; `choose_params` picks one candidate per fold on training videos only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.signal import find_peaks

from tsmsnet.errors import ConfigError
from tsmsnet.preprocess.roi_curves import RoiCurves
from tsmsnet.spotting.proposals import peak_threshold
from tsmsnet.spotting.search import SearchResult, grid, grid_search, pooled_scores

COMBINE = ("max", "mean")
# The search space's keys, in grid order (config.yaml roi_flow.search).
PARAMS = ("gap_s", "combine", "smooth_s", "detrend_s", "P", "fraction")


def frames(seconds: float, fps: float, odd: bool = False) -> int:
    """Seconds -> whole frames at `fps`; odd (at least 1) for centred filter widths."""
    count = int(round(float(seconds) * float(fps)))
    return max(1, count | 1) if odd else max(0, count)


def combine_rois(curves: np.ndarray, how: str) -> np.ndarray:
    """(R, n) -> (n,): the largest ROI (one region moving) or the mean (the whole face)."""
    curves = np.asarray(curves, dtype=np.float64)
    if how == "max":
        return curves.max(axis=0)
    if how == "mean":
        return curves.mean(axis=0)
    raise ConfigError(f"roi_flow combine {how!r} is unknown; known: {', '.join(COMBINE)}")


def denoise(curve: np.ndarray, smooth: int, detrend: int) -> np.ndarray:
    """Moving average over `smooth` frames, minus a moving median over `detrend` frames (slow
    drift, lighting; 0 keeps the curve), clipped at 0."""
    out = uniform_filter1d(np.asarray(curve, dtype=np.float64), size=max(1, smooth), mode="nearest")
    if detrend > 0:
        out = np.clip(out - median_filter(out, size=detrend, mode="nearest"), 0.0, None)
    return out


def intervals_from_curve(
    curve: np.ndarray, P: float, fraction: float, min_len: int, max_len: int
) -> np.ndarray:
    """(m, 3) [onset, offset, score] in curve-index frames, sorted by onset.

    Peaks above proposals.peak_threshold(curve, P), at least `min_len` apart; each spans the
    frames around its peak where the curve stays at or above `fraction` of the peak's height.
    Spans shorter than `min_len` or longer than `max_len` frames are dropped; of overlapping
    spans the higher peak's is kept.
    """
    curve = np.asarray(curve, dtype=np.float64).reshape(-1)
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"roi_flow fraction must be in (0, 1], got {fraction}")
    if min_len < 1 or max_len < min_len:
        raise ConfigError(f"roi_flow durations need 1 <= min <= max frames: {min_len}, {max_len}")
    empty = np.empty((0, 3), dtype=np.float64)
    if curve.size == 0 or not curve.max() > 0:
        return empty
    peaks, _ = find_peaks(curve, height=peak_threshold(curve, P), distance=min_len)
    spans = []
    for p in sorted(peaks, key=lambda q: (-curve[q], q)):
        level = fraction * curve[p]
        left = np.flatnonzero(curve[:p] < level)
        right = np.flatnonzero(curve[p + 1 :] < level)
        onset = int(left[-1]) + 1 if left.size else 0
        offset = p + int(right[0]) if right.size else curve.size - 1
        if not min_len <= offset - onset + 1 <= max_len:
            continue
        if any(onset <= off and on <= offset for on, off, _ in spans):
            continue
        spans.append((onset, offset, float(curve[p])))
    return np.array(sorted(spans), dtype=np.float64).reshape(-1, 3) if spans else empty


@dataclass(frozen=True)
class Limits:
    """Duration limits of one expression type, in seconds (config.yaml roi_flow.durations_s)."""

    min_s: float
    max_s: float

    def frames(self, fps: float) -> tuple[int, int]:
        return max(1, frames(self.min_s, fps)), max(1, frames(self.max_s, fps))


CURVE_PARAMS = ("gap_s", "combine", "smooth_s", "detrend_s")  # what shapes the curve


def video_curve(curves: RoiCurves, params: Mapping) -> np.ndarray:
    """(n,) one video's denoised curve under `params` (its CURVE_PARAMS)."""
    fps, detrend = curves.fps, float(params["detrend_s"])
    return denoise(
        combine_rois(curves.for_gap(params["gap_s"]), params["combine"]),
        frames(params["smooth_s"], fps, odd=True),
        frames(detrend, fps, odd=True) if detrend > 0 else 0,
    )


def spot_video(curves: RoiCurves, params: Mapping, limits: Limits, curve=None) -> np.ndarray:
    """(m, 3) [onset, offset, score] in store-index frames of one video under `params`
    (`curve`: its video_curve, when the caller has it already)."""
    if curve is None:
        curve = video_curve(curves, params)
    return intervals_from_curve(curve, params["P"], params["fraction"], *limits.frames(curves.fps))


def search_space(search: Mapping) -> list[dict]:
    """The grid of config.yaml roi_flow.search (every key of PARAMS, nothing else)."""
    unknown = sorted(set(search) - set(PARAMS))
    missing = [k for k in PARAMS if k not in search]
    if unknown or missing:
        raise ConfigError(
            f"roi_flow.search: unknown {unknown or 'none'}, missing {missing or 'none'}; "
            f"needs exactly {', '.join(PARAMS)}"
        )
    return grid({k: list(search[k]) for k in PARAMS})


def choose_params(
    videos: Mapping[str, tuple[RoiCurves, np.ndarray]], search: Mapping, limits: Limits
) -> SearchResult:
    """The candidate of `search` with the best pooled F1 on `videos` (name -> (curves, ground
    truth (m, 2) [onset, offset] in store-index frames, of the type being spotted)).

    Pass training videos only: whatever is passed decides the choice.
    """
    cache: dict = {}
    truth = {name: gt for name, (_, gt) in videos.items()}

    def curve(name: str, curves: RoiCurves, params: dict) -> np.ndarray:
        key = (name, *(params[k] for k in CURVE_PARAMS))
        if key not in cache:
            cache[key] = video_curve(curves, params)
        return cache[key]

    def evaluate(params: dict) -> dict:
        predicted = {
            name: spot_video(curves, params, limits, curve(name, curves, params))
            for name, (curves, _) in videos.items()
        }
        return pooled_scores(truth, predicted)

    return grid_search(search_space(search), evaluate)
