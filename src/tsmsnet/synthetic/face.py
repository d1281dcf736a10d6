"""Per-subject neutral face: the astronaut photo (shipped by scikit-image), varied per subject.

The real dlib detector and 68-point model must run on it, so the face stays a photographed
face; only a similarity transform, mirroring, grey-level changes and a background texture
differ between subjects. Everything is drawn from (seed, subject_index) alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from tsmsnet.errors import NoFaceError

# dlib's face box on skimage.data.astronaut() (grey, 512x512): left, top, right, bottom.
ASTRONAUT_FACE_BOX = (175.0, 76.0, 266.0, 167.0)
# At scale 1 the face box spans this fraction of the output side (CAS crops are face-filled,
# yet the HOG detector needs some context around the box).
FACE_FRACTION = 0.55
# Background texture: grey-level std and blob size (fraction of the image side).
TEXTURE_STD = 18.0
TEXTURE_BLOB = 0.04
# Outside this ellipse (semi-axes as multiples of the face box half-size) the texture applies.
FACE_ELLIPSE = (1.15, 1.45)
# Stream tag so face draws never collide with the video draws of the same subject.
FACE_STREAM = 0


@dataclass(frozen=True)
class Face:
    """A subject's neutral face image and what dlib sees on it."""

    image: np.ndarray  # (S, S) uint8
    box: tuple[int, int, int, int]  # dlib box, right/bottom exclusive
    points: np.ndarray  # (68, 2) float64, image pixels

    @property
    def box_width(self) -> float:
        """Width of the face box the pipeline will crop (sets the 128-px amplitude scale)."""
        return float(self.box[2] - self.box[0])


@lru_cache(maxsize=1)
def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _uniform(rng: np.random.Generator, bounds) -> float:
    lo, hi = (float(b) for b in bounds)
    return float(rng.uniform(lo, hi))


def face_rng(seed: int, subject_index: int) -> np.random.Generator:
    """The subject's face stream: depends on (seed, subject index) only."""
    return np.random.default_rng(
        np.random.SeedSequence([int(seed), int(subject_index), FACE_STREAM])
    )


def _transform(size: int, scale: float, angle_deg: float, mirror: bool) -> np.ndarray:
    """2x3 affine: astronaut pixels -> output pixels, face centred, scaled and rotated."""
    left, top, right, bottom = ASTRONAUT_FACE_BOX
    centre = ((left + right) / 2.0, (top + bottom) / 2.0)
    zoom = scale * FACE_FRACTION * size / (right - left)
    m = cv2.getRotationMatrix2D(centre, angle_deg, zoom)
    m[:, 2] += np.array([size / 2.0, size / 2.0]) - np.array(centre)
    if mirror:
        m[0, :] = -m[0, :]
        m[0, 2] += size - 1
    return m


def _texture(rng: np.random.Generator, size: int, box_half: float) -> np.ndarray:
    """Smooth random background texture, faded to zero over the face ellipse."""
    noise = rng.standard_normal((size, size)).astype(np.float32)
    blob = max(1.0, TEXTURE_BLOB * size)
    tex = cv2.GaussianBlur(noise, (0, 0), blob)
    tex *= TEXTURE_STD / max(float(tex.std()), 1e-6)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    c = (size - 1) / 2.0
    r = np.hypot((xx - c) / (FACE_ELLIPSE[0] * box_half), (yy - c) / (FACE_ELLIPSE[1] * box_half))
    outside = np.clip((r - 1.0) * 4.0, 0.0, 1.0)
    return tex * outside


def neutral_image(seed: int, subject_index: int, image_size: int, face_cfg: dict) -> np.ndarray:
    """The subject's neutral (S, S) uint8 face image, before any detection."""
    rng = face_rng(seed, subject_index)
    scale = _uniform(rng, face_cfg["scale"])
    angle = _uniform(rng, face_cfg["rotation_deg"])
    mirror = bool(rng.integers(0, 2))
    brightness = _uniform(rng, face_cfg["brightness"])
    contrast = _uniform(rng, face_cfg["contrast"])
    size = int(image_size)
    m = _transform(size, scale, angle, mirror)
    img = cv2.warpAffine(
        _astronaut(), m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT
    )
    box_half = 0.5 * scale * FACE_FRACTION * size
    img = img + _texture(rng, size, box_half)
    mean = float(img.mean())
    img = (img - mean) * contrast + mean + brightness
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def make_face(
    seed: int, subject_index: int, image_size: int, face_cfg: dict, upsample: int = 1
) -> Face:
    """Neutral face plus the dlib box and 68 landmarks found on it (expressions deform there)."""
    from tsmsnet.preprocess.landmarks import detect_frame

    img = neutral_image(seed, subject_index, image_size, face_cfg)
    found = detect_frame(img, upsample)
    if found is None:
        raise NoFaceError(
            f"synthetic subject {subject_index} (seed {seed}, image_size {image_size}): dlib "
            "finds no face on the neutral image; raise synthetic image_size or narrow "
            "synthetic.face.scale / rotation_deg"
        )
    box, points = found
    return Face(img, tuple(int(b) for b in box), np.asarray(points, dtype=np.float64))
