"""ROI motion curves: per-ROI residual flow after the nose patch's motion is removed; a moving
ROI peaks where it moves, a whole-face translation leaves the ROIs quiet."""

import cv2
import numpy as np
import pytest

from benchmarks.fixtures.video import face_points_128
from tsmsnet.config import load_config
from tsmsnet.errors import InputError
from tsmsnet.preprocess.flow import make_flow
from tsmsnet.preprocess.roi_curves import (
    compute_roi_curves,
    gap_curves,
    read_roi_curves,
    roi_layout,
    roi_values,
    write_roi_curves,
)

SIZE = 128
GROUPS = {"brow": [17, 19], "mouth": [50, 57, 60, 64]}  # boxes x20-35,y32-40; x48-80,y90-106
NOSE = (58, 54, 69, 65)  # around landmark 28 at (64, 60)


def layout(eye_mask=None, margin=4):
    mask = np.zeros((SIZE, SIZE), dtype=bool) if eye_mask is None else eye_mask
    return roi_layout(face_points_128(), SIZE, GROUPS, margin, mask, NOSE)


def test_values_remove_the_head_motion_and_skip_the_eyes():
    flows = np.zeros((2, SIZE, SIZE, 2), dtype=np.float32)
    flows[:] = (2.0, 1.0)  # the whole head moves
    flows[1, 86:110, 44:84] += (3.0, 4.0)  # the mouth box (margin 4) moves on top of it
    values = roi_values(flows, layout())
    np.testing.assert_allclose(values, [[0.0, 0.0], [0.0, 5.0]], atol=1e-6)
    eyes = np.zeros((SIZE, SIZE), dtype=bool)
    eyes[86:98, 44:84] = True  # masked pixels do not count, whatever they hold
    flows[1, 86:98, 44:84] = 100.0
    np.testing.assert_allclose(roi_values(flows, layout(eyes))[1], [0.0, 5.0], atol=1e-5)


def test_roi_inside_the_eye_mask_is_an_error():
    eyes = np.zeros((SIZE, SIZE), dtype=bool)
    eyes[20:50, 10:50] = True  # covers the whole brow box
    with pytest.raises(InputError, match="ROI brow"):
        layout(eyes)


def moving_face(n=40, seed=0):
    """Textured frames: the head translates by up to 3 px at frames 6-16 (and back), the mouth
    alone moves up to 3 px down at frames 24-32 (and back)."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (200, 200)).astype(np.float32), (0, 0), 2.0)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    mouth = np.exp(-(((xs - 64) / 14) ** 2 + ((ys - 98) / 7) ** 2)).astype(np.float32)
    frames = np.empty((n, SIZE, SIZE), dtype=np.uint8)
    for t in range(n):
        head = 3.0 * np.sin(np.pi * np.clip((t - 6) / 10, 0, 1))
        local = 3.0 * np.sin(np.pi * np.clip((t - 24) / 8, 0, 1))
        map_x = (xs + 36 - head).astype(np.float32)
        map_y = (ys + 36 - local * mouth).astype(np.float32)
        frames[t] = np.clip(cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR), 0, 255)
    return frames


@pytest.fixture(scope="module")
def dis():
    return make_flow("dis", load_config()["preprocess"]["flow"]["dis"], 1)


def test_moving_roi_peaks_where_it_moves_and_head_motion_is_removed(dis):
    frames = moving_face()
    curves = gap_curves(frames, 2, dis, layout(), block=16)
    brow, mouth = curves
    assert curves.shape == (2, len(frames)) and curves.dtype == np.float32
    assert 24 <= int(mouth.argmax()) <= 32
    # The head really moved (raw flow on the mouth), yet the mouth curve stays low then.
    raw = np.linalg.norm(dis(frames[9], frames[11]), axis=-1)[86:110, 44:84].mean()
    assert raw > 0.5
    assert mouth[6:17].max() < 0.25 * mouth.max()
    assert brow[24:33].max() < 0.25 * mouth.max()
    assert curves[:, 0].tolist() == [0.0, 0.0]  # no pair's middle lands on frame 0


def test_blocks_do_not_change_the_curves(dis):
    frames = moving_face(n=20)
    np.testing.assert_array_equal(
        gap_curves(frames, 3, dis, layout(), block=4), gap_curves(frames, 3, dis, layout(), 64)
    )


def test_gap_must_fit_the_video(dis):
    with pytest.raises(InputError, match="gap 5"):
        gap_curves(np.zeros((5, SIZE, SIZE), np.uint8), 5, dis, layout(), block=4)


def test_curves_round_trip_and_gaps_in_seconds(tmp_path, dis):
    frames = moving_face(n=20)
    curves = compute_roi_curves(frames, [0.2, 0.1, 0.1], dis, layout(), 30.0, 8, "v1")
    assert curves.gaps_s == (0.1, 0.2) and curves.gaps == (3, 6)
    write_roi_curves(curves, tmp_path / "v1.npz")
    back = read_roi_curves(tmp_path / "v1.npz")
    np.testing.assert_array_equal(back.for_gap(0.2), gap_curves(frames, 6, dis, layout(), 8))
    assert (back.rois, back.fps, back.first_frame) == (("brow", "mouth"), 30.0, 0)
    with pytest.raises(InputError, match="no ROI curves for a gap of 0.3"):
        back.for_gap(0.3)
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(InputError, match="bad.npz"):
        read_roi_curves(tmp_path / "bad.npz")


def test_step_reads_the_fps_and_writes_every_gap(tmp_path):
    import pandas as pd
    import zarr

    from tsmsnet.preprocess.flow import flow_settings
    from tsmsnet.steps.preprocess import roi_curves

    cfg = load_config()
    frames = moving_face(n=24)
    faces = zarr.create_array(store=str(tmp_path / "v1.zarr"), shape=frames.shape, dtype="uint8")
    faces[:] = frames
    faces.attrs.update({"landmarks": face_points_128().tolist(), "first_frame": 5})
    videos = tmp_path / "videos.csv"
    pd.DataFrame({"subject": ["s1"], "video": ["v1"], "fps": [50]}).to_csv(videos, index=False)
    out = tmp_path / "v1.npz"
    roi_curves(
        str(tmp_path / "v1.zarr"),
        str(videos),
        "v1",
        str(out),
        [0.1, 0.04],
        {"rois": GROUPS, "roi_margin": 4},
        flow_settings({**cfg["preprocess"]["flow"], "method": "dis"}),
        cfg["preprocess"]["features"],
        8,
        1,
        lambda message: None,
    )
    back = read_roi_curves(out)
    assert (back.gaps_s, back.gaps, back.fps, back.first_frame) == ((0.04, 0.1), (2, 5), 50.0, 5)
    assert back.curves.shape == (2, 2, 24)
    with pytest.raises(InputError, match="0 rows for video v2"):
        roi_curves(
            str(tmp_path / "v1.zarr"), str(videos), "v2", str(out), [0.1], {}, {}, {}, 8, 1, print
        )
