"""Crop every frame to the one face box and resize; map landmarks into the resized crop."""

from __future__ import annotations

import cv2
import numpy as np

from tsmsnet.errors import ConfigError, InputError

# config.yaml preprocess.face_interpolation: linear, OpenCV's bilinear (upstream: cv2.resize's
# default in utils/utils.py img_crop_resize); area, INTER_AREA whenever the crop is larger
# than the face in either direction, else bilinear (what tsmsnet used before).
FACE_INTERPOLATIONS = ("linear", "area")


def crop_box(landmarks) -> tuple[int, int, int, int]:
    """The crop used for the whole video: the detector's box (left, top, right, bottom)."""
    return tuple(int(b) for b in landmarks.box)


def check_interpolation(interpolation: str) -> str:
    """ConfigError unless `interpolation` is one of FACE_INTERPOLATIONS."""
    if interpolation not in FACE_INTERPOLATIONS:
        raise ConfigError(
            f"unknown preprocess.face_interpolation '{interpolation}'; "
            f"use one of {', '.join(FACE_INTERPOLATIONS)}"
        )
    return interpolation


def crop_resize(frame: np.ndarray, box, size: int, interpolation: str) -> np.ndarray:
    """uint8 (size, size) crop of `frame`, resized as `interpolation` (FACE_INTERPOLATIONS)."""
    check_interpolation(interpolation)
    left, top, right, bottom = (int(b) for b in box)
    crop = frame[top:bottom, left:right]
    if crop.shape[0] == 0 or crop.shape[1] == 0:
        raise InputError(f"face box {tuple(box)} is empty in a frame of shape {frame.shape}")
    shrink = crop.shape[0] > size or crop.shape[1] > size
    interp = cv2.INTER_AREA if interpolation == "area" and shrink else cv2.INTER_LINEAR
    out = cv2.resize(crop, (size, size), interpolation=interp)
    return out.astype(np.uint8, copy=False)


def map_points(points: np.ndarray, box, size: int) -> np.ndarray:
    """Source-pixel points -> (size x size) crop pixels: subtract the crop offset, then scale."""
    left, top, right, bottom = (float(b) for b in box)
    pts = np.asarray(points, dtype=np.float64)
    scale = np.array([size / (right - left), size / (bottom - top)])
    return (pts - np.array([left, top])) * scale
