"""Crop/resize (with its interpolation), landmark mapping and the face geometry (eye hexagons,
ROIs, nose patch)."""

import cv2
import numpy as np
import pytest

from benchmarks.fixtures.video import face_points_128
from tsmsnet.errors import ConfigError, InputError
from tsmsnet.preprocess.align import crop_resize, map_points
from tsmsnet.preprocess.geometry import FaceGeometry, eye_hexagons, nose_patch, roi_boxes

SIZE = 128


def test_map_points_honours_crop_offset():
    box = (100, 50, 300, 250)  # 200x200 crop away from the origin
    pts = np.zeros((68, 2))
    pts[0] = (100, 50)  # the crop's corner -> (0, 0)
    pts[1] = (200, 150)  # the crop's centre -> (64, 64)
    pts[2] = (300, 250)  # far corner -> (128, 128)
    pts[3] = (150, 100)
    mapped = map_points(pts, box, SIZE)
    assert mapped.shape == (68, 2)
    np.testing.assert_allclose(mapped[:4], [(0, 0), (64, 64), (128, 128), (32, 32)])


def test_map_points_non_square_box():
    mapped = map_points(np.array([[110.0, 70.0]] * 68), (10, 20, 210, 120), 100)
    np.testing.assert_allclose(mapped[0], (50.0, 50.0))


def test_crop_resize_takes_the_box():
    frame = np.zeros((300, 400), dtype=np.uint8)
    frame[50:250, 100:300] = 200  # exactly the box
    out = crop_resize(frame, (100, 50, 300, 250), SIZE, "linear")
    assert out.shape == (SIZE, SIZE) and out.dtype == np.uint8
    assert (out == 200).all()


def test_crop_resize_empty_box_is_an_error():
    with pytest.raises(InputError):
        crop_resize(np.zeros((10, 10), np.uint8), (5, 5, 5, 8), SIZE, "linear")


def test_crop_resize_uses_the_configured_interpolation(cfg):
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (60, 80), dtype=np.uint8)
    box, crop = (10, 5, 50, 45), frame[5:45, 10:50]  # 40 x 40, shrunk to 16 x 16
    linear = crop_resize(frame, box, 16, "linear")
    area = crop_resize(frame, box, 16, "area")
    np.testing.assert_array_equal(
        linear, cv2.resize(crop, (16, 16), interpolation=cv2.INTER_LINEAR)
    )
    np.testing.assert_array_equal(linear, cv2.resize(crop, (16, 16)))  # upstream's call
    np.testing.assert_array_equal(area, cv2.resize(crop, (16, 16), interpolation=cv2.INTER_AREA))
    assert not np.array_equal(linear, area)
    # area only ever shrinks with INTER_AREA: an enlarged crop is bilinear (the former behaviour)
    np.testing.assert_array_equal(
        crop_resize(frame, box, 64, "area"),
        cv2.resize(crop, (64, 64), interpolation=cv2.INTER_LINEAR),
    )
    assert cfg["preprocess"]["face_interpolation"] == "linear"  # upstream's default


def test_crop_resize_unknown_interpolation_is_a_config_error():
    with pytest.raises(ConfigError, match="face_interpolation 'cubic'"):
        crop_resize(np.zeros((10, 10), np.uint8), (0, 0, 8, 8), SIZE, "cubic")


def test_eye_hexagons_push_points_out():
    pts = face_points_128()
    left, right = eye_hexagons(pts, 15)
    assert left.dtype == np.int32 and left.shape == (6, 2)
    np.testing.assert_array_equal(
        left, [(15, 50), (37, 31), (44, 31), (66, 50), (44, 68), (37, 68)]
    )
    np.testing.assert_array_equal(
        right, [(62, 50), (84, 31), (91, 31), (113, 50), (91, 69), (84, 69)]
    )


def test_eye_mask_covers_eyes_and_pushed_corners():
    pts = face_points_128()
    geom = FaceGeometry.from_points(pts, SIZE, 28, 11, 15, 12)
    assert geom.eye_mask.dtype == bool and geom.eye_mask.shape == (SIZE, SIZE)
    for x, y in pts[36:48].astype(int):
        assert geom.eye_mask[y, x]
    for x, y in [(15, 50), (66, 50), (62, 50), (113, 50), (40, 32), (40, 67)]:
        assert geom.eye_mask[y, x]
    # Outside the hexagons: forehead, nose tip, mouth, far sides.
    for x, y in [(64, 10), (64, 90), (5, 50), (122, 50)]:
        assert not geom.eye_mask[y, x]


def test_roi_boxes_exact():
    top, bottom = roi_boxes(face_points_128(), 12, SIZE)
    assert top == (8, 20, 120, 66)  # x 20-12..108+12, y min(32,33)-12..max(53,54)+12
    assert bottom == (36, 78, 92, 118)  # x 48-12..80+12, y 90-12..106+12


def test_roi_boxes_clamped():
    top, bottom = roi_boxes(face_points_128(), 30, SIZE)
    assert top == (0, 2, 128, 84)
    assert bottom == (18, 60, 110, 128)


def test_roi_degenerate_names_the_video():
    pts = face_points_128()
    pts[[60, 64]] = (200, 96)  # mouth entirely off the right edge
    with pytest.raises(InputError, match="subj01/vid02"):
        roi_boxes(pts, 12, SIZE, source="subj01/vid02")


def test_nose_patch_centred_and_clamped():
    pts = face_points_128()
    assert nose_patch(pts, 28, 11, SIZE) == (59, 55, 70, 66)
    pts[28] = (2, 126)
    assert nose_patch(pts, 28, 11, SIZE) == (0, 121, 8, 128)  # x -3..8, y 121..132, clamped


def test_face_geometry_bundles_boxes():
    geom = FaceGeometry.from_points(face_points_128(), SIZE, 28, 11, 15, 12)
    assert geom.top == (8, 20, 120, 66)
    assert geom.bottom == (36, 78, 92, 118)
    assert geom.nose == (59, 55, 70, 66)
    assert geom.size == SIZE


def test_landmark_box_covers_the_group_with_margin_and_clamps():
    from tsmsnet.preprocess.geometry import landmark_box

    pts = face_points_128()
    assert landmark_box(pts, [17, 19], 4, SIZE, "ROI brow", "v") == (16, 28, 39, 44)
    assert landmark_box(pts, [17], 30, SIZE, "ROI x", "v") == (0, 10, 50, 70)
    with pytest.raises(InputError, match="ROI y"):
        landmark_box(np.full((68, 2), 200.0), [0], 1, SIZE, "ROI y", "v")
