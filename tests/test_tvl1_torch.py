"""tvl1_torch: the batched PyTorch Dual TV-L1 against OpenCV's, on faces with known warps.

Real-looking pairs: the astronaut's face (skimage), cropped with dlib's box and resized to
128x128 like the pipeline's aligned faces, warped by smooth known displacements (head shift
plus a local mouth movement, a pure shift, a small rotation) with cv2.remap. Everything runs
on the CPU; one CUDA check runs only where torch sees a GPU.
"""

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from tsmsnet.config import DEFAULT_CONFIG, load_config
from tsmsnet.errors import ConfigError
from tsmsnet.preprocess.align import crop_resize
from tsmsnet.preprocess.features import flow_to_sample
from tsmsnet.preprocess.flow import flow_from_config, make_flow, params_section
from tsmsnet.preprocess.geometry import FaceGeometry
from tsmsnet.preprocess.tvl1_torch import (
    TorchTVL1,
    median_blur,
    median_blur_torch,
    remap_cubic,
    resize_linear,
)

SIZE = 128
# dlib's face box on the grey astronaut (left, top, right, bottom), as detect_frame finds it.
FACE_BOX = (175, 76, 266, 167)
MOUTH = (67.0, 99.0)
# 68-point landmarks of that face in the 128x128 crop (dlib, rounded); only the indices the
# geometry uses matter.
POINTS = {
    17: (15.5, 25.3),
    19: (35.2, 15.5),
    24: (108.3, 21.1),
    26: (126.6, 30.9),
    28: (70.3, 49.2),
    36: (28.1, 35.2),
    37: (35.2, 30.9),
    38: (45.0, 30.9),
    39: (52.0, 39.4),
    40: (43.6, 39.4),
    41: (35.2, 39.4),
    42: (87.2, 40.8),
    43: (95.6, 33.8),
    44: (105.5, 33.8),
    45: (112.5, 39.4),
    46: (105.5, 42.2),
    47: (97.1, 42.2),
    50: (60.5, 88.6),
    57: (66.1, 111.1),
    60: (39.4, 90.0),
    64: (95.6, 92.8),
}


def params() -> dict:
    return dict(load_config(DEFAULT_CONFIG)["preprocess"]["flow"]["tvl1"])


def opencv_tvl1(p: dict):
    """OpenCV's TV-L1 with the same parameters (the project's `tvl1` method), one thread."""
    return make_flow("tvl1", p, threads=1)


def grey_astronaut() -> np.ndarray:
    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)


def warp_pair(img: np.ndarray, disp) -> tuple[np.ndarray, np.ndarray]:
    """next(x) = img(x - d(x)) and the exact forward flow f (next(x + f) = img(x)).

    `disp(xs, ys)` gives d; f solves f = d(x + f), found by fixed-point iteration.
    """
    h, w = img.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    du, dv = disp(xs, ys)
    nxt = cv2.remap(img, xs - du, ys - dv, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    fu, fv = du, dv
    for _ in range(30):
        fu, fv = disp(xs + fu, ys + fv)
    return nxt, np.stack([fu, fv], axis=-1).astype(np.float32)


def bump(xs, ys, centre=MOUTH, sigma=8.0):
    return np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma**2))


def head_and_mouth(xs, ys):
    """Head shift of 1.3 px right; the mouth moves 2 px further right and 1 px up."""
    b = bump(xs, ys)
    return (1.3 + 2.0 * b).astype(np.float32), (-1.0 * b).astype(np.float32)


def shift(xs, ys):
    return np.full_like(xs, -0.7), np.full_like(ys, 0.9)


def rotation(xs, ys, degrees=1.5):
    a = np.deg2rad(degrees)
    cx = cy = (SIZE - 1) / 2
    x, y = xs - cx, ys - cy
    return (np.cos(a) * x - np.sin(a) * y - x).astype(np.float32), (
        np.sin(a) * x + np.cos(a) * y - y
    ).astype(np.float32)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread, like OpenCV here: a shared CI machine punishes idle OpenMP spinning."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return crop_resize(grey_astronaut(), FACE_BOX, SIZE, "linear")


@pytest.fixture(scope="module")
def geom() -> FaceGeometry:
    pts = np.full((68, 2), 64.0)
    for i, xy in POINTS.items():
        pts[i] = xy
    return FaceGeometry.from_points(pts, SIZE, 28, 11, 15, 12)


@pytest.fixture(scope="module")
def pairs(face):
    """Four pairs of different content and motion: (prevs, nexts, true flows)."""
    other = crop_resize(grey_astronaut(), (150, 60, 290, 200), SIZE, "linear")  # a wider crop
    made = [
        (face, *warp_pair(face, head_and_mouth)),
        (face, *warp_pair(face, shift)),
        (other, *warp_pair(other, head_and_mouth)),
        (face, *warp_pair(face, rotation)),
    ]
    prevs, nexts, truth = (np.stack(x) for x in zip(*made, strict=True))
    return prevs, nexts, truth


@pytest.fixture(scope="module")
def solver() -> TorchTVL1:
    return TorchTVL1(params(), device="cpu")


@pytest.fixture(scope="module")
def torch_flows(solver, pairs):
    prevs, nexts, _ = pairs
    return solver.calc_many(prevs, nexts)


@pytest.fixture(scope="module")
def opencv_flows(pairs):
    prevs, nexts, _ = pairs
    tv = opencv_tvl1(params())
    return np.stack([tv(a, b) for a, b in zip(prevs, nexts, strict=True)])


def endpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=-1)


def test_shapes_and_dtype(torch_flows, pairs):
    assert torch_flows.shape == pairs[0].shape + (2,)
    assert torch_flows.dtype == np.float32
    assert np.isfinite(torch_flows).all()


def test_matches_opencv(torch_flows, opencv_flows):
    for mine, ref in zip(torch_flows, opencv_flows, strict=True):
        diff = endpoint(mine, ref)
        assert np.median(diff) <= 0.1
        assert np.percentile(diff, 95) <= 0.25


def test_stage1_features_correlate_with_opencv(torch_flows, opencv_flows, geom):
    for mine, ref in zip(torch_flows, opencv_flows, strict=True):
        a = flow_to_sample(mine, geom, 42, 21).ravel()
        b = flow_to_sample(ref, geom, 42, 21).ravel()
        assert np.corrcoef(a, b)[0, 1] >= 0.99


def test_accuracy_against_known_warp(torch_flows, opencv_flows, pairs):
    inner = (slice(8, -8), slice(8, -8))  # the warp's reflected border is not a true motion
    truth = pairs[2]
    for mine, ref, gt in zip(torch_flows, opencv_flows, truth, strict=True):
        ours = np.median(endpoint(mine, gt)[inner])
        theirs = np.median(endpoint(ref, gt)[inner])
        assert ours < 0.1
        assert ours <= theirs * 1.1 + 0.002, (ours, theirs)


def test_mouth_motion_lands_in_the_bottom_roi(torch_flows, geom):
    sample = flow_to_sample(torch_flows[0], geom, 42, 21)
    top, bottom = sample[0, :21], sample[0, 21:]
    assert bottom.max() > 1.2  # the 2 px mouth movement, relative to the head
    assert np.median(top) < 0.15


def test_batch_equals_one_at_a_time(solver, pairs, torch_flows):
    prevs, nexts, _ = pairs
    for i in (1, 3):
        np.testing.assert_array_equal(solver.calc(prevs[i], nexts[i]), torch_flows[i])
    # blocks smaller than the batch: pairs solved in other company give the same flows
    split = TorchTVL1(params(), device="cpu", max_batch=2)
    np.testing.assert_array_equal(split.calc_many(prevs[:3], nexts[:3]), torch_flows[:3])


def small_pair(face) -> tuple[np.ndarray, np.ndarray]:
    small = cv2.resize(face, (64, 64), interpolation=cv2.INTER_AREA)
    return small, warp_pair(small, shift)[0]


def test_float_frames_follow_opencv_convention(solver, face):
    """Floating frames are taken to be in [0, 1] (OpenCV multiplies them by 255)."""
    prev, nxt = (f.astype(np.float32) / 255 for f in small_pair(face))
    ref = opencv_tvl1(params())(prev, nxt)
    assert np.median(endpoint(solver.calc(prev, nxt), ref)) <= 0.05


def test_gamma_and_other_parameters_match_opencv(face):
    """The illumination term (gamma), a coarser pyramid and no median filter, at 64x64."""
    small, nxt = small_pair(face)
    nxt = cv2.convertScaleAbs(nxt, alpha=1.05, beta=3)  # a brightness change for gamma
    p = params()
    p.update(gamma=0.2, scale_step=0.5, nscales=3, warps=3, median_filtering=1)
    ref = opencv_tvl1(p)(small, nxt)
    mine = TorchTVL1(p, device="cpu").calc(small, nxt)
    assert np.median(endpoint(mine, ref)) <= 0.05


def test_building_blocks_match_opencv():
    rng = np.random.default_rng(3)
    img = rng.uniform(0, 255, (40, 50)).astype(np.float32)
    t = torch.from_numpy(img)[None]
    ref = cv2.resize(img, None, fx=0.8, fy=0.8, interpolation=cv2.INTER_LINEAR)
    got = resize_linear(t, ref.shape, (0.8, 0.8))[0].numpy()
    np.testing.assert_allclose(got, ref, atol=1e-3)
    ref = cv2.resize(img, (67, 53), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(resize_linear(t, (53, 67))[0].numpy(), ref, atol=1e-3)
    u, v = (rng.normal(0, 3, img.shape).astype(np.float32) for _ in range(2))
    ys, xs = np.mgrid[0:40, 0:50].astype(np.float32)
    ref = cv2.remap(img, xs + u, ys + v, cv2.INTER_CUBIC)  # zero outside, as TV-L1 uses it
    flow = torch.from_numpy(np.stack([u, v]))[None]
    got = remap_cubic(t[None], flow)[0, 0].numpy()
    np.testing.assert_allclose(got, ref, atol=0.02)
    ref = cv2.medianBlur(u, 5)
    np.testing.assert_array_equal(median_blur(torch.from_numpy(u), 5).numpy(), ref)
    # the torch median (used off the CPU) is OpenCV's too
    got = median_blur_torch(torch.from_numpy(u)[None], 5)[0].numpy()
    np.testing.assert_array_equal(got, ref)


def test_make_flow_and_config(face):
    fn = make_flow("tvl1_torch", params(), threads=1, device="cpu")
    assert fn.method == "tvl1_torch" and fn.params == params()
    nxt, _ = warp_pair(face, shift)
    one = fn(face, nxt)
    many = fn.calc_many(np.stack([face, nxt]), np.stack([nxt, face]))
    np.testing.assert_array_equal(many[0], one)
    assert many.shape == (2, SIZE, SIZE, 2)
    assert params_section("tvl1_torch") == "tvl1"
    cfg = load_config(DEFAULT_CONFIG)["preprocess"]["flow"]
    cfg["method"] = "tvl1_torch"
    fn = flow_from_config(cfg, threads=1, device="cpu")
    assert fn.method == "tvl1_torch" and fn.params == cfg["tvl1"]


def test_device_auto_picks_cuda_when_present():
    solver = TorchTVL1(params())
    assert solver.device.type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_bad_parameters_and_inputs(solver):
    p = params()
    del p["theta"]
    with pytest.raises(ConfigError, match="theta"):
        TorchTVL1(p, device="cpu")
    with pytest.raises(ConfigError, match="median_filtering"):
        TorchTVL1({**params(), "median_filtering": 4}, device="cpu")
    with pytest.raises(ConfigError, match="scale_step"):
        TorchTVL1({**params(), "scale_step": 1.0}, device="cpu")
    frames = np.zeros((2, 32, 32), np.uint8)
    with pytest.raises(ValueError, match="equal shape"):
        solver.calc_many(frames, frames[:1])
    with pytest.raises(ValueError, match="uint8 or floating"):
        solver.calc_many(frames.astype(np.int32), frames.astype(np.int32))
    assert solver.calc_many(frames[:0], frames[:0]).shape == (0, 32, 32, 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_cuda_matches_cpu(pairs, torch_flows):
    prevs, nexts, _ = pairs
    gpu = TorchTVL1(params(), device="cuda").calc_many(prevs, nexts)
    for mine, ref in zip(gpu, torch_flows, strict=True):
        assert np.median(endpoint(mine, ref)) <= 0.05
