"""Training labels of both stages, from ground-truth intervals in store-index space."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Intervals = Sequence[tuple[int, int]]


def _as_intervals(intervals: Intervals) -> np.ndarray:
    """(m, 2) int64 array of inclusive (onset, offset) pairs, empty-safe."""
    return np.asarray(list(intervals), dtype=np.int64).reshape(-1, 2)


def apex_labels(n_samples: int, K: int, intervals: Intervals) -> np.ndarray:
    """Stage-1 targets: 1 where sample t's window [t, t+K] shares at least one frame with an
    interval (inclusive ends), else 0."""
    t = np.arange(max(0, n_samples), dtype=np.int64)[:, None]
    iv = _as_intervals(intervals)
    overlap = np.maximum(t, iv[:, 0]) <= np.minimum(t + K, iv[:, 1])  # (n, m)
    return overlap.any(axis=1).astype(np.float32)


def window_starts(n_clips: int, L: int) -> np.ndarray:
    """First clip of every run of L consecutive clips: 0 .. n_clips - L (empty if too short)."""
    return np.arange(max(0, n_clips - L + 1), dtype=np.int64)


def window_labels(
    n_clips: int, L: int, stride: int, intervals: Intervals, cover: float
) -> np.ndarray:
    """Stage-2 targets for `window_starts(n_clips, L)`: (n,) int64.

    Window j spans frames [stride*j, stride*(j+L)] (inclusive, stride*L + 1 frames). It is
    positive when a single interval covers at least `cover` of those frames, as upstream.
    """
    j = window_starts(n_clips, L)[:, None]
    iv = _as_intervals(intervals)
    start, end = stride * j, stride * (j + L)
    inter = np.minimum(end, iv[:, 1]) - np.maximum(start, iv[:, 0]) + 1  # (n, m) frames
    frames = stride * L + 1
    return (inter >= cover * frames).any(axis=1).astype(np.int64)


def balanced_indices(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """All positives plus as many negatives drawn without replacement (all, if fewer).

    Returned sorted so that reads stay local; the data loader does the shuffling.
    """
    labels = np.asarray(labels)
    pos = np.flatnonzero(labels > 0)
    neg = np.flatnonzero(labels <= 0)
    take = rng.choice(neg, size=min(len(pos), len(neg)), replace=False)
    return np.sort(np.concatenate([pos, take]).astype(np.int64))
