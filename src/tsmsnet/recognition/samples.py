"""Which stage-1 samples stand for one expression, and reading them.

Stage-1 sample t of a store is the motion from frame index t to t + K. An expression is
represented by the K + 1 samples whose span holds its centre frame (t = centre - K .. centre,
clipped to the store): each sees the motion into or out of the expression's peak. Training
centres on the ground truth's apex (where the face moves most); a spotted interval, whose
apex is unknown, on its midpoint (for step-2 micro intervals, 2K + 1 frames around the stage-1
peak, that is the peak).
"""

from __future__ import annotations

import numpy as np

from tsmsnet.errors import InputError


def centre_frame(onset: int, offset: int, apex: int | None = None) -> int:
    """The frame an expression is centred on: its apex when inside onset..offset, else the
    midpoint (rounded down)."""
    if apex is not None and onset <= apex <= offset:
        return int(apex)
    return (int(onset) + int(offset)) // 2


def sample_indices(centre: int, K: int, n_samples: int) -> np.ndarray:
    """Store indices t of the samples whose span [t, t + K] holds store index `centre`, clipped
    to 0 .. n_samples - 1; the nearest sample when the centre lies outside every span."""
    if n_samples < 1:
        return np.zeros(0, dtype=np.int64)
    lo = min(max(centre - K, 0), n_samples - 1)
    hi = min(max(centre, 0), n_samples - 1)
    return np.arange(lo, hi + 1, dtype=np.int64)


def store_step(store, where: str) -> int:
    """The frame step K a stage-1 store was built with (its `step` attr)."""
    step = store.attrs.get("step")
    if step is None:
        raise InputError(f"feature store {where} records no step: rebuild it")
    return int(step)


def read_samples(store, indices: np.ndarray) -> np.ndarray:
    """(n, 3, H, W) float32 samples of an open store at sorted, contiguous-or-not indices."""
    if len(indices) == 0:
        return np.zeros((0, *store.shape[1:]), dtype=np.float32)
    lo, hi = int(indices.min()), int(indices.max()) + 1
    block = np.asarray(store[lo:hi], dtype=np.float32)
    return block[np.asarray(indices) - lo]
