"""A training-free reference curve: how much the face moves in each stage-1 sample.

Spotting this curve with the same step-1 peaks gives a classical baseline to judge what the
networks add. Samples are already head-motion-compensated and eye-masked by preprocessing.
"""

from __future__ import annotations

import numpy as np


def flow_magnitude_curve(samples, block: int = 1024) -> np.ndarray:
    """(n,) mean of sqrt(u^2 + v^2) over each (3, H, W) sample (channels u, v, strain).

    Accepts a numpy or zarr array of shape (n, 3, H, W); reads `block` samples at a time so
    memory stays bounded on long videos.
    """
    shape = tuple(samples.shape)
    if len(shape) != 4 or shape[1] < 2:
        raise ValueError(f"expected samples of shape (n, 3, H, W), got {shape}")
    if block < 1:
        raise ValueError(f"block must be positive, got {block}")
    n = shape[0]
    curve = np.empty(n, dtype=np.float64)
    for start in range(0, n, block):
        chunk = np.asarray(samples[start : start + block, :2], dtype=np.float64)
        magnitude = np.sqrt(chunk[:, 0] ** 2 + chunk[:, 1] ** 2)
        curve[start : start + len(chunk)] = magnitude.reshape(len(chunk), -1).mean(axis=1)
    return curve
