"""A SAMM-like long video for benchmarks: numbered grey JPEG frames, known face box and points.

No face detector runs on it: the landmarks are placed by hand (the same 68-point geometry the
features use), so benchmarks time the streaming stores, flow and training, nothing else.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tsmsnet.preprocess.landmarks import Landmarks


def face_points_128() -> np.ndarray:
    """68 points on a 128x128 face; only the indices the geometry uses matter."""
    p = np.full((68, 2), 64.0)
    p[17], p[19], p[24], p[26] = (20, 40), (35, 32), (93, 33), (108, 40)
    p[36:42] = [(30, 50), (37, 46), (44, 46), (51, 50), (44, 53), (37, 53)]
    p[42:48] = [(77, 50), (84, 46), (91, 46), (98, 50), (91, 54), (84, 54)]
    p[28] = (64, 60)
    p[50], p[57], p[60], p[64] = (57, 90), (64, 106), (48, 96), (80, 96)
    return p


def video_landmarks(size: int = 600) -> Landmarks:
    """Face box (the middle half of a size x size frame) and its 68 points, in frame pixels."""
    left, top, right, bottom = size // 4, size // 5, 3 * size // 4, size // 5 + size // 2
    scale = np.array([(right - left) / 128, (bottom - top) / 128])
    points = face_points_128() * scale + np.array([left, top])
    return Landmarks(
        frame_index=0, box=(left, top, right, bottom), points=points, frame_shape=(size, size)
    )


def write_video(
    folder: str | Path, n_frames: int, size: int = 600, seed: int = 0, name: str = "006_1"
) -> Path:
    """`folder/<name>_0001.jpg` ... : a blurred texture drifting slowly, with a local bump that
    grows and fades every 400 frames (an 'expression'), sensor noise. Existing frames are
    kept (a benchmark reuses them)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (size, size)).astype(np.float32), (0, 0), 3.0)
    tex = cv2.normalize(tex, None, 20, 235, cv2.NORM_MINMAX)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cx, cy, r = size * 0.5, size * 0.62, size * 0.06
    bump = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    noise = rng.normal(0, 1.5, (8, size, size)).astype(np.float32)  # cycled: cheap per frame
    for i in range(n_frames):
        path = folder / f"{name}_{i + 1:04d}.jpg"
        if path.exists():
            continue
        phase = (i % 400) / 400.0
        amp = 3.0 * float(np.sin(np.pi * phase)) ** 2
        map_x = (xx + 0.6 * float(np.sin(i / 150.0)) + amp * bump).astype(np.float32)
        map_y = (yy + 0.4 * float(np.cos(i / 170.0))).astype(np.float32)
        frame = cv2.remap(tex, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        frame += noise[i % len(noise)]
        ok, data = cv2.imencode(".jpg", np.clip(frame, 0, 255).astype(np.uint8))
        if not ok:
            raise RuntimeError(f"could not encode {path}")
        path.write_bytes(data.tobytes())
    return folder
