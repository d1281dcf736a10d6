"""Where to look on the aligned face: eye hexagons to mask, two ROIs, the nose patch.

Boxes are (x0, y0, x1, y1) slice bounds (x1, y1 exclusive), clamped to [0, size]; landmark
indices are 0-based iBUG 300-W.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tsmsnet.errors import InputError

# Per eye: landmark indices in polygon order and the (dx, dy) direction each is pushed by.
_EYE_PUSH = (
    (-1, 0),  # outer/inner corner on the left of the image: sideways, left
    (0, -1),  # upper lid
    (0, -1),  # upper lid
    (1, 0),  # corner on the right: sideways, right
    (0, 1),  # lower lid
    (0, 1),  # lower lid
)
_EYES = (range(36, 42), range(42, 48))


def eye_hexagons(points: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Two int32 (6, 2) polygons around landmarks 36-41 and 42-47, pushed out by `margin`."""
    pts = np.asarray(points, dtype=np.float64)
    push = np.asarray(_EYE_PUSH, dtype=np.float64) * margin
    return tuple(np.round(pts[list(idx)] + push).astype(np.int32) for idx in _EYES)


def _clamp_box(x0, y0, x1, y1, size: int, what: str, source: str) -> tuple[int, int, int, int]:
    box = tuple(int(np.clip(round(float(c)), 0, size)) for c in (x0, y0, x1, y1))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise InputError(
            f"{source}: the {what} box {box} is empty on the {size}x{size} face; the landmarks "
            "are implausible (check the face detection of this video)"
        )
    return box


def roi_boxes(points: np.ndarray, margin: float, size: int, source: str = "video"):
    """(top, bottom) boxes: brows+eyes and mouth, `margin` px around the landmark extents."""
    p = np.asarray(points, dtype=np.float64)
    x, y = p[:, 0], p[:, 1]
    top = _clamp_box(
        x[17] - margin,
        min(y[19], y[24]) - margin,
        x[26] + margin,
        max(y[41], y[46]) + margin,
        size,
        "top ROI",
        source,
    )
    bottom = _clamp_box(
        x[60] - margin, y[50] - margin, x[64] + margin, y[57] + margin, size, "bottom ROI", source
    )
    return top, bottom


def landmark_box(points: np.ndarray, indices, margin: float, size: int, what: str, source: str):
    """Box of the landmarks `indices`, `margin` px around their extent, clamped to the face."""
    p = np.asarray(points, dtype=np.float64)[list(indices)]
    (x0, y0), (x1, y1) = p.min(axis=0) - margin, p.max(axis=0) + margin
    return _clamp_box(x0, y0, x1, y1, size, what, source)


def nose_patch(points: np.ndarray, index: int, patch: int, size: int, source: str = "video"):
    """patch x patch box centred on landmark `index` (head-motion reference), clamped."""
    cx, cy = (int(round(float(c))) for c in np.asarray(points)[index])
    x0, y0 = cx - patch // 2, cy - patch // 2
    return _clamp_box(x0, y0, x0 + patch, y0 + patch, size, "nose patch", source)


# FaceGeometry.from_points has an argument called nose_patch (the config key).
_nose = nose_patch


@dataclass(frozen=True)
class FaceGeometry:
    """Everything features need about one video's aligned face (fixed for the whole video)."""

    size: int
    eye_mask: np.ndarray  # bool (size, size), True inside either eye hexagon
    top: tuple[int, int, int, int]
    bottom: tuple[int, int, int, int]
    nose: tuple[int, int, int, int]

    @classmethod
    def from_points(
        cls,
        points: np.ndarray,
        size: int,
        nose_landmark: int,
        nose_patch: int,
        eye_margin: float,
        roi_margin: float,
        source: str = "video",
    ) -> FaceGeometry:
        """Build from landmarks already mapped into the (size x size) face."""
        mask = np.zeros((size, size), dtype=np.uint8)
        cv2.fillPoly(mask, list(eye_hexagons(points, eye_margin)), 1)
        top, bottom = roi_boxes(points, roi_margin, size, source)
        nose = _nose(points, nose_landmark, nose_patch, size, source)
        return cls(size, mask.astype(bool), top, bottom, nose)
