"""Step 1: peaks of a per-video score curve become fixed-length interval proposals."""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks


def peak_threshold(scores: np.ndarray, P: float) -> float:
    """mean + P * (max - mean): P is the fraction of the way from the mean to the maximum."""
    mean = float(scores.mean())
    return mean + P * (float(scores.max()) - mean)


def find_proposals(scores, K: int, P: float, n_frames: int) -> np.ndarray:
    """(n, 3) [onset, offset, score] in store-index space, sorted by onset.

    Peaks above peak_threshold at least 2K apart (scipy find_peaks); peak p gives [p-K, p+K]
    clipped to [0, n_frames-1] and its score. Empty or flat curves give no proposals.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if K < 1:
        raise ValueError(f"K must be a positive frame skip, got {K}")
    if n_frames < 1:
        raise ValueError(f"n_frames must be positive, got {n_frames}")
    if scores.size == 0:
        return np.empty((0, 3), dtype=np.float64)
    if not np.isfinite(scores).all():
        raise ValueError(f"score curve has {int((~np.isfinite(scores)).sum())} non-finite values")
    peaks, _ = find_peaks(scores, height=peak_threshold(scores, P), distance=2 * K)
    onsets = np.clip(peaks - K, 0, n_frames - 1)
    offsets = np.clip(peaks + K, 0, n_frames - 1)
    return np.column_stack([onsets, offsets, scores[peaks]]).astype(np.float64).reshape(-1, 3)


def to_frame_numbers(proposals, first_frame: int) -> np.ndarray:
    """Store indices -> the dataset's own frame numbers (store index i is first_frame + i)."""
    out = np.array(proposals, dtype=np.float64).reshape(-1, 3)
    out[:, :2] += first_frame
    return out
