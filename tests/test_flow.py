"""FlowFn: one pair (call / calc) or blocks of pairs (calc_many); the method registry."""

import cv2
import numpy as np
import pytest

from tsmsnet.errors import ConfigError
from tsmsnet.preprocess.flow import FlowFn, make_flow, params_section

SIZE = 64


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    """Four smooth random textures, each next one shifted by a little more."""
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 255, (SIZE, SIZE)).astype(np.float32)
    tex = cv2.GaussianBlur(noise, (0, 0), 2.0)
    tex = ((tex - tex.min()) / (tex.max() - tex.min()) * 255).astype(np.uint8)
    shifted = [np.roll(tex, k, axis=1) for k in range(4)]
    return np.stack(shifted)


def test_calc_many_loops_over_opencv_methods(frames):
    fn = make_flow("dis", {"preset": "ultrafast"}, threads=1)
    prevs, nexts = frames[:-1], frames[1:]
    many = fn.calc_many(prevs, nexts)
    assert many.shape == (3, SIZE, SIZE, 2) and many.dtype == np.float32
    for i in range(3):
        np.testing.assert_array_equal(many[i], fn(prevs[i], nexts[i]))
        np.testing.assert_array_equal(many[i], fn.calc(prevs[i], nexts[i]))
    assert fn.calc_many(prevs[:0], nexts[:0]).shape == (0, SIZE, SIZE, 2)


class _Batched:
    """An algorithm that solves blocks itself (like tvl1_torch)."""

    def __init__(self):
        self.blocks = []

    def calc(self, prev, nxt, flow):
        return np.zeros(prev.shape + (2,), np.float64)

    def calc_many(self, prevs, nexts):
        self.blocks.append(len(prevs))
        return np.ones(prevs.shape + (2,), np.float64)


def test_calc_many_hands_blocks_to_a_batched_algorithm(frames):
    algo = _Batched()
    fn = FlowFn("fake", {}, algo)
    out = fn.calc_many(frames[:3], frames[1:])
    assert algo.blocks == [3]
    assert out.dtype == np.float32 and (out == 1).all()
    assert fn(frames[0], frames[1]).dtype == np.float32


def test_calc_many_checks_shapes(frames):
    fn = FlowFn("fake", {}, _Batched())
    with pytest.raises(ValueError, match="equal shape"):
        fn.calc_many(frames[:2], frames[:3])
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        fn.calc_many(frames[0], frames[1])


def test_registry_and_params_sections():
    assert params_section("tvl1") == "tvl1"
    assert params_section("tvl1_torch") == "tvl1"
    assert params_section("dis") == "dis"
    with pytest.raises(ConfigError, match="tvl1_torch"):
        params_section("farneback")
    with pytest.raises(ConfigError, match="tvl1, dis, tvl1_torch"):
        make_flow("farneback", {}, 1)
    with pytest.raises(ConfigError, match="theta"):
        make_flow("tvl1_torch", {"tau": 0.25}, 1, device="cpu")
