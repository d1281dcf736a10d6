"""Crop every frame to the one face box and resize; map landmarks into the resized crop."""

from __future__ import annotations

import cv2
import numpy as np

from tsmsnet.errors import InputError


def crop_box(landmarks) -> tuple[int, int, int, int]:
    """The crop used for the whole video: the detector's box (left, top, right, bottom)."""
    return tuple(int(b) for b in landmarks.box)


def crop_resize(frame: np.ndarray, box, size: int) -> np.ndarray:
    """uint8 (size, size) crop of `frame`; INTER_AREA when shrinking, INTER_LINEAR otherwise."""
    left, top, right, bottom = (int(b) for b in box)
    crop = frame[top:bottom, left:right]
    if crop.shape[0] == 0 or crop.shape[1] == 0:
        raise InputError(f"face box {tuple(box)} is empty in a frame of shape {frame.shape}")
    shrink = crop.shape[0] > size or crop.shape[1] > size
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    out = cv2.resize(crop, (size, size), interpolation=interp)
    return out.astype(np.uint8, copy=False)


def map_points(points: np.ndarray, box, size: int) -> np.ndarray:
    """Source-pixel points -> (size x size) crop pixels: subtract the crop offset, then scale."""
    left, top, right, bottom = (float(b) for b in box)
    pts = np.asarray(points, dtype=np.float64)
    scale = np.array([size / (right - left), size / (bottom - top)])
    return (pts - np.array([left, top])) * scale
