"""Deformation fields and distractors of a synthetic video, rendered one frame at a time.

Every field is a backward map offset (H, W, 2): output pixel x samples the neutral image at
x + field(x). An expression that moves skin by v therefore stores -v. One cv2.remap per frame
applies the expressions, blinks and head pose together; noise and flicker follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

# iBUG 300-W 68-point groups (0-based).
RIGHT_BROW = tuple(range(17, 22))
LEFT_BROW = tuple(range(22, 27))
BROWS = RIGHT_BROW + LEFT_BROW
INNER_BROWS = (20, 21, 22, 23)
RIGHT_EYE = tuple(range(36, 42))
LEFT_EYE = tuple(range(42, 48))
NOSE_WINGS = (31, 35)
MOUTH_CORNERS = (48, 54)
UPPER_LIP = (49, 50, 51, 52, 53)
LOWER_LIP = (55, 56, 57, 58, 59)
CHIN, NOSE_BRIDGE, NOSE_TIP = 8, 27, 30

# Expression kinds: (landmarks, outward weight, upward weight) in the face's own frame
# (outward = away from the face's midline, upward = chin -> nose bridge).
TOP_KINDS = {
    "brow_raise": ((BROWS, 0.0, 1.0),),
    "brow_lower": ((INNER_BROWS, -0.7, -0.7),),
}
BOTTOM_KINDS = {
    "smile": ((MOUTH_CORNERS, 0.7, 0.7), (UPPER_LIP, 0.0, 0.3)),
    "lip_corner_down": ((MOUTH_CORNERS, 0.3, -1.0), (LOWER_LIP, 0.0, -0.3)),
    "upper_lip_raise": ((UPPER_LIP, 0.0, 1.0), (NOSE_WINGS, 0.0, 0.5)),
    "lip_stretch": ((MOUTH_CORNERS, 1.0, 0.0), (LOWER_LIP, 0.0, -0.2)),
}
EXPRESSION_KINDS = {**TOP_KINDS, **BOTTOM_KINDS}
# Bump width of a moving landmark, as a fraction of the face box width (muscles move skin
# well beyond the landmark itself).
BUMP_SIGMA = 0.07
# Blink: horizontal window sigma and vertical reach (compact, so the brows stay put) as
# fractions of the eye width, and the squeeze at full closure (source offset per unit
# distance from the eye's centre line; below 1.25 the map never folds).
BLINK_SIGMA_X = 0.55
BLINK_REACH_Y = 0.6
BLINK_SQUEEZE = 1.2


def face_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Face centre line origin, its upward and rightward unit vectors (image coordinates)."""
    up = points[NOSE_BRIDGE] - points[CHIN]
    up = up / np.linalg.norm(up)
    right = np.array([-up[1], up[0]])
    return points[NOSE_BRIDGE], up, right


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return xx, yy


def expression_field(
    points: np.ndarray, box_width: float, shape: tuple[int, int], kind: str, amplitude: float
) -> np.ndarray:
    """Backward field of one expression at its apex; its peak displacement is `amplitude` px."""
    origin, up, right = face_axes(points)
    xx, yy = _grid(shape)
    field = np.zeros((*shape, 2), np.float32)
    sigma2 = 2.0 * (BUMP_SIGMA * box_width) ** 2
    for indices, out_w, up_w in EXPRESSION_KINDS[kind]:
        for i in indices:
            p = points[i]
            side = np.sign(np.dot(p - origin, right)) or 1.0
            v = out_w * side * right + up_w * up
            g = np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / sigma2)
            field[..., 0] -= g * v[0]
            field[..., 1] -= g * v[1]
    peak = float(np.sqrt((field**2).sum(-1)).max())
    return field * np.float32(amplitude / peak) if peak > 0 else field


def blink_field(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Backward field of both eyes fully closed: lids squeezed onto each eye's centre line."""
    xx, yy = _grid(shape)
    field = np.zeros((*shape, 2), np.float32)
    for eye in (RIGHT_EYE, LEFT_EYE):
        pts = points[list(eye)]
        cx, cy = pts.mean(0)
        width = float(np.linalg.norm(pts[3] - pts[0]))
        gx = np.exp(-0.5 * ((xx - cx) / (BLINK_SIGMA_X * width)) ** 2)
        u2 = ((yy - cy) / (BLINK_REACH_Y * width)) ** 2
        gy = np.where(u2 < 1.0, (1.0 - u2) ** 2, 0.0).astype(np.float32)
        field[..., 1] += BLINK_SQUEEZE * gx * gy * (yy - cy)
    return field


def raised_cosine(n_frames: int, start: int, peak: int, end: int) -> np.ndarray:
    """(n_frames,) weights: 0 at start, rising to 1 at peak, back to 0 at end (0-based)."""
    w = np.zeros(n_frames, np.float64)
    t = np.arange(n_frames)
    rise = (t >= start) & (t <= peak)
    fall = (t > peak) & (t <= end)
    w[rise] = 0.5 * (1 - np.cos(np.pi * (t[rise] - start) / max(peak - start, 1)))
    w[fall] = 0.5 * (1 + np.cos(np.pi * (t[fall] - peak) / max(end - peak, 1)))
    return w


def smooth_walk(rng: np.random.Generator, n_frames: int, amplitude: float) -> np.ndarray:
    """A random walk over the video, scaled so its largest excursion is `amplitude`."""
    walk = np.cumsum(rng.standard_normal(n_frames))
    walk -= walk[0]
    peak = float(np.abs(walk).max())
    return walk * (amplitude / peak) if peak > 0 else walk


@dataclass(frozen=True)
class Layer:
    """A field and its strength per frame (0 where it is inactive)."""

    field: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True)
class HeadTrack:
    """Per-frame head translation (px) and rotation (deg) about `centre`."""

    dx: np.ndarray
    dy: np.ndarray
    angle_deg: np.ndarray
    centre: tuple[float, float]


def head_track(
    rng: np.random.Generator, n_frames: int, drift_px: float, rotation_deg: float, centre
) -> HeadTrack:
    """Slow head drift and small rotation (independent random walks)."""
    dx = smooth_walk(rng, n_frames, drift_px)
    dy = smooth_walk(rng, n_frames, drift_px)
    angle = smooth_walk(rng, n_frames, rotation_deg)
    return HeadTrack(dx, dy, angle, (float(centre[0]), float(centre[1])))


def frame_maps(
    t: int, shape: tuple[int, int], layers: list[Layer], head: HeadTrack
) -> tuple[np.ndarray, np.ndarray]:
    """remap's (map_x, map_y) for frame index t: head pose undone, then the active layers."""
    xx, yy = _grid(shape)
    cx, cy = head.centre
    a = np.deg2rad(head.angle_deg[t])
    c, s = np.cos(a), np.sin(a)
    # Inverse of "rotate about the centre by a, then translate": output -> neutral pixel.
    ux, uy = xx - cx - head.dx[t], yy - cy - head.dy[t]
    map_x = (c * ux + s * uy + cx).astype(np.float32)
    map_y = (-s * ux + c * uy + cy).astype(np.float32)
    for layer in layers:
        w = float(layer.weights[t])
        if w != 0.0:
            map_x += np.float32(w) * layer.field[..., 0]
            map_y += np.float32(w) * layer.field[..., 1]
    return map_x, map_y


def render_frames(
    neutral: np.ndarray,
    layers: list[Layer],
    head: HeadTrack,
    noise_sigma: float,
    flicker: float,
    rng: np.random.Generator,
) -> Iterator[np.ndarray]:
    """Yield the video's uint8 frames in order (one remap each; never the whole video)."""
    src = neutral.astype(np.float32)
    n_frames = len(head.dx)
    for t in range(n_frames):
        map_x, map_y = frame_maps(t, src.shape, layers, head)
        img = cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        gain = 1.0 + flicker * rng.standard_normal()
        img = img * np.float32(gain) + np.float32(noise_sigma) * rng.standard_normal(
            img.shape, dtype=np.float32
        )
        yield np.clip(np.rint(img), 0, 255).astype(np.uint8)
