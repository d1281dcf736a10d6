"""dlib face box + 68 landmarks on the first frame with a face; JSON round trip."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from tsmsnet.datasets.frames import FrameSource
from tsmsnet.errors import NoFaceError
from tsmsnet.preprocess.landmarks import Landmarks, detect


def astronaut_grey() -> np.ndarray:
    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)


def write_frames(folder: Path, frames: list[np.ndarray], first: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"img{first + i}.png"), frame)
    return folder


def test_finds_astronaut_on_first_frame_with_a_face(tmp_path):
    face = astronaut_grey()
    blank = np.full_like(face, 128)
    src = FrameSource(write_frames(tmp_path / "v", [blank, face, face]))
    lm = detect(src, search_frames=3, upsample=1)
    assert lm.frame_index == 1
    assert lm.frame_shape == face.shape
    assert lm.points.shape == (68, 2)
    left, top, right, bottom = lm.box
    assert 0 <= left < right <= face.shape[1] and 0 <= top < bottom <= face.shape[0]
    # Inner face (brows, eyes, nose, mouth) inside the box, with a few px of slack for brows.
    inner = lm.points[17:]
    assert (inner[:, 0] >= left - 3).all() and (inner[:, 0] <= right + 3).all()
    assert (inner[:, 1] >= top - 3).all() and (inner[:, 1] <= bottom + 3).all()
    # Anatomy: left eye left of right eye, mouth below the nose bridge.
    assert lm.points[36, 0] < lm.points[45, 0]
    assert lm.points[57, 1] > lm.points[28, 1]


def test_largest_face_wins(tmp_path):
    face = astronaut_grey()
    canvas = np.full((512, 768), 128, np.uint8)
    canvas[:, 256:] = face
    canvas[128:384, :256] = cv2.resize(face, (256, 256), interpolation=cv2.INTER_AREA)
    src = FrameSource(write_frames(tmp_path / "v", [canvas]))
    lm = detect(src, search_frames=1, upsample=1)
    assert lm.box[0] >= 256  # the full-size face on the right


def test_no_face_names_source_and_count(tmp_path):
    blank = np.full((120, 160), 90, np.uint8)
    folder = write_frames(tmp_path / "empty_video", [blank] * 6)
    with pytest.raises(NoFaceError) as info:
        detect(FrameSource(folder), search_frames=4, upsample=0)
    message = str(info.value)
    assert "empty_video" in message
    assert "4 frame" in message
    assert "search_frames" in message


def test_json_round_trip(tmp_path):
    pts = np.random.default_rng(0).uniform(0, 200, (68, 2))
    lm = Landmarks(frame_index=3, box=(10, 20, 110, 130), points=pts, frame_shape=(240, 320))
    lm.to_json(tmp_path / "lm.json")
    back = Landmarks.from_json(tmp_path / "lm.json")
    assert back.frame_index == 3 and back.box == (10, 20, 110, 130)
    assert back.frame_shape == (240, 320)
    np.testing.assert_array_equal(back.points, pts)


def test_landmark_model_is_the_pinned_one():
    """resources/landmark_model.sha256 pins the 68-point model face-recognition-models ships:
    another model would move every landmark, face box and feature."""
    import hashlib

    from tsmsnet.preprocess.landmarks import _predictor_path

    pinned = Path(__file__).resolve().parents[1] / "resources" / "landmark_model.sha256"
    digest, name = pinned.read_text().split()
    path = _predictor_path()
    assert path.name == name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
