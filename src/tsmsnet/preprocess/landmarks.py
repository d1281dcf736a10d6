"""Face box and 68 iBUG landmarks on the first frame that shows a face (dlib HOG + shape model).

The method uses one box and one set of landmarks for a whole video, so we detect once, on the
first frame (within a search budget) where the detector finds a face.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from tsmsnet.atomic import atomic_json
from tsmsnet.errors import InputError, NoFaceError

N_POINTS = 68


@dataclass(frozen=True)
class Landmarks:
    """One detection: source frame index (0-based store index), box and points in source pixels.

    `box` is (left, top, right, bottom) as slice bounds (right/bottom exclusive), clamped to
    the frame; `points` is (68, 2) float (x, y); `frame_shape` is the source (H, W).
    """

    frame_index: int
    box: tuple[int, int, int, int]
    points: np.ndarray
    frame_shape: tuple[int, int]

    def to_json(self, path: str | Path) -> None:
        """Write as a small JSON file (the landmarks rule's output), aside then renamed."""
        data = {
            "frame_index": int(self.frame_index),
            "box": [int(b) for b in self.box],
            "points": np.asarray(self.points, dtype=float).tolist(),
            "frame_shape": [int(s) for s in self.frame_shape],
        }
        atomic_json(data, path, indent=1)

    @classmethod
    def from_json(cls, path: str | Path) -> Landmarks:
        """Read what `to_json` wrote; InputError naming the file if it is not that."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            points = np.asarray(data["points"], dtype=np.float64)
            if points.shape != (N_POINTS, 2):
                raise ValueError(f"points have shape {points.shape}, expected (68, 2)")
            return cls(
                frame_index=int(data["frame_index"]),
                box=tuple(int(b) for b in data["box"]),
                points=points,
                frame_shape=tuple(int(s) for s in data["frame_shape"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not a landmarks file ({exc}); delete it and rerun") from exc


def _predictor_path() -> Path:
    """The 68-point model shipped by face_recognition_models (located, never imported)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise InputError("package face_recognition_models is not installed (68-point model)")
    path = Path(spec.origin).parent / "models" / "shape_predictor_68_face_landmarks.dat"
    if not path.is_file():
        raise InputError(f"68-point landmark model missing: {path}; reinstall the package")
    return path


@lru_cache(maxsize=1)
def _models():
    """dlib detector and predictor, loaded once per process (the predictor is ~100 MB)."""
    import dlib

    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(_predictor_path()))


def _largest(rects):
    return max(rects, key=lambda r: r.width() * r.height())


def detect_frame(frame: np.ndarray, upsample: int) -> tuple[tuple, np.ndarray] | None:
    """Box and points of the largest face in one grey frame, or None when there is none."""
    detector, predictor = _models()
    img = np.ascontiguousarray(frame, dtype=np.uint8)
    rects = detector(img, int(upsample))
    if len(rects) == 0:
        return None
    rect = _largest(rects)
    shape = predictor(img, rect)
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
    h, w = img.shape[:2]
    box = (
        int(np.clip(rect.left(), 0, w)),
        int(np.clip(rect.top(), 0, h)),
        int(np.clip(rect.right() + 1, 0, w)),
        int(np.clip(rect.bottom() + 1, 0, h)),
    )
    return box, points


def detect(source, search_frames: int, upsample: int) -> Landmarks:
    """Landmarks on the first of the first `search_frames` frames where a face is found.

    `source` is a FrameSource (or anything with `.n_frames`, `.iter_grey(start, stop)` and
    optionally `.path`); if several faces are found, the largest is used.
    """
    n_search = min(int(search_frames), int(source.n_frames))
    for index, frame in enumerate(source.iter_grey(0, n_search)):
        found = detect_frame(frame, upsample)
        if found is None:
            continue
        box, points = found
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        return Landmarks(index, box, points, tuple(int(s) for s in frame.shape[:2]))
    name = getattr(source, "path", source)
    raise NoFaceError(
        f"{name}: no face found in the first {n_search} frame(s) searched; raise "
        "preprocess.landmarks.search_frames (or landmarks.upsample) or check the video"
    )
