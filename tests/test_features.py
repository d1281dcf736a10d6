"""Flow (TV-L1, DIS) and flow -> sample: strain, head-motion removal, eye mask, ROIs."""

import cv2
import numpy as np
import pytest

from benchmarks.fixtures.video import face_points_128
from tsmsnet.errors import ConfigError
from tsmsnet.preprocess.features import flow_to_sample, flows_to_samples, motion_maps, strain
from tsmsnet.preprocess.flow import flow_from_config, make_flow
from tsmsnet.preprocess.geometry import FaceGeometry

SIZE = 128
SHIFT = 1.5
MOUTH = (64.0, 98.0)


@pytest.fixture(scope="module")
def geom() -> FaceGeometry:
    return FaceGeometry.from_points(face_points_128(), SIZE, 28, 11, 15, 12)


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    """A smooth random texture: every pixel carries flow information."""
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 255, (SIZE, SIZE)).astype(np.float32)
    tex = cv2.GaussianBlur(noise, (0, 0), 2.0)
    tex = (tex - tex.min()) / (tex.max() - tex.min()) * 255
    return tex.astype(np.uint8)


def warp(img: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """next(x) = img(x - dx): a flow of u = dx, v = 0 from img to the result."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    return cv2.remap(img, xs - dx, ys, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def mouth_bump() -> np.ndarray:
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    return 2.0 * np.exp(-((xs - MOUTH[0]) ** 2 + (ys - MOUTH[1]) ** 2) / (2 * 8.0**2))


@pytest.fixture(scope="module")
def tvl1(cfg_module):
    return make_flow("tvl1", cfg_module["preprocess"]["flow"]["tvl1"], threads=1)


@pytest.fixture(scope="module")
def cfg_module():
    from tsmsnet.config import DEFAULT_CONFIG, load_config

    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="module")
def global_flow(tvl1, texture):
    return tvl1(texture, warp(texture, np.full((SIZE, SIZE), SHIFT, np.float32)))


def test_tvl1_recovers_a_uniform_shift(global_flow):
    assert global_flow.shape == (SIZE, SIZE, 2) and global_flow.dtype == np.float32
    inner = global_flow[16:-16, 16:-16]
    assert np.median(np.abs(inner[..., 0] - SHIFT)) < 0.1
    assert np.median(np.abs(inner[..., 1])) < 0.1


def test_strain_of_translation_is_zero(global_flow):
    const = np.zeros((1, 32, 32, 2), np.float32)
    const[..., 0], const[..., 1] = 2.5, -1.0
    np.testing.assert_array_equal(strain(const), 0.0)
    assert np.median(strain(global_flow[None])[0, 16:-16, 16:-16]) < 0.05


def test_strain_forward_differences():
    ys, xs = np.mgrid[0:8, 0:8].astype(np.float32)
    flow = np.stack([0.1 * xs**2, 0.3 * ys], axis=-1)[None]  # u_x = 0.1(2x+1), v_y = 0.3
    s = strain(flow)[0]
    expected = np.sqrt((0.1 * (2 * xs + 1)) ** 2 + 0.3**2)
    np.testing.assert_allclose(s[:, :-1], expected[:, :-1], rtol=1e-5)
    np.testing.assert_allclose(s[:, -1], s[:, -2])  # last column replicates


def test_global_shift_removed_by_nose_patch(global_flow, geom):
    maps = motion_maps(global_flow[None], geom)[0]
    inner = maps[16:-16, 16:-16]
    assert np.median(inner[..., 0]) < 0.1
    assert np.median(inner[..., 1]) < 0.1
    sample = flow_to_sample(global_flow, geom, 42, 21)
    assert np.median(np.abs(sample[:2])) < 0.1


def test_local_mouth_motion_survives(tvl1, texture, geom):
    nxt = warp(texture, SHIFT + mouth_bump())
    sample = flow_to_sample(tvl1(texture, nxt), geom, 42, 21)
    top, bottom = sample[0, :21], sample[0, 21:]
    assert bottom.max() > 1.2  # the 2 px bump, relative to the head
    assert np.median(top) < 0.15 and np.median(bottom) < bottom.max() / 2


def test_exact_local_flow_lands_in_bottom_roi(geom):
    flow = np.zeros((SIZE, SIZE, 2), np.float32)
    flow[..., 0], flow[..., 1] = 2.0, -1.0  # head motion
    flow[88:108, 50:78, 0] += 1.5  # mouth moves right
    sample = flow_to_sample(flow, geom, 42, 21)
    assert sample.shape == (3, 42, 42) and sample.dtype == np.float32
    np.testing.assert_allclose(sample[:2, :21], 0.0, atol=1e-6)  # brows/eyes still
    assert sample[0, 21:].max() == pytest.approx(1.5, abs=1e-5)
    np.testing.assert_allclose(sample[1], 0.0, atol=1e-6)


def test_eyes_are_zeroed(geom):
    rng = np.random.default_rng(1)
    flow = rng.normal(0, 3, (SIZE, SIZE, 2)).astype(np.float32)
    maps = motion_maps(flow[None], geom)[0]
    assert (maps[geom.eye_mask] == 0).all()
    assert (np.abs(maps[~geom.eye_mask][:, :2]) > 0).mean() > 0.99


def test_batched_matches_single(geom):
    rng = np.random.default_rng(2)
    flows = rng.normal(0, 1, (64, SIZE, SIZE, 2)).astype(np.float32)  # > OpenCV's channel cap
    batch = flows_to_samples(flows, geom, 42, 21)
    assert batch.shape == (64, 3, 42, 42)
    for i in (0, 5, 42, 43, 63):
        np.testing.assert_allclose(batch[i], flow_to_sample(flows[i], geom, 42, 21), atol=1e-4)


def test_dis_flow_and_config(cfg_module, texture):
    fn = flow_from_config({"method": "dis", "dis": {"preset": "medium"}}, threads=1)
    assert fn.method == "dis"
    flow = fn(texture, warp(texture, np.full((SIZE, SIZE), SHIFT, np.float32)))
    assert flow.shape == (SIZE, SIZE, 2) and flow.dtype == np.float32
    assert abs(np.median(flow[16:-16, 16:-16, 0]) - SHIFT) < 0.2


def test_flow_config_errors(cfg_module):
    with pytest.raises(ConfigError, match="tvl1, dis"):
        make_flow("farneback", {}, 1)
    params = dict(cfg_module["preprocess"]["flow"]["tvl1"])
    del params["theta"]
    with pytest.raises(ConfigError, match="theta"):
        make_flow("tvl1", params, 1)
    with pytest.raises(ConfigError, match="ultrafast"):
        make_flow("dis", {"preset": "slowest"}, 1)
