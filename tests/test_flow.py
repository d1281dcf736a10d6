"""FlowFn: one pair (call / calc) or blocks of pairs (calc_many); the method registry."""

import subprocess
import sys

import cv2
import numpy as np
import pytest

from tsmsnet.errors import ConfigError
from tsmsnet.preprocess import flow
from tsmsnet.preprocess.flow import (
    FlowFn,
    make_flow,
    params_section,
    resolve_method,
    uses_cuda,
)

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


TVL1 = {
    "tau": 0.25,
    "lambda": 0.15,
    "theta": 0.3,
    "nscales": 3,
    "warps": 2,
    "epsilon": 0.01,
    "inner_iterations": 5,
    "outer_iterations": 2,
    "scale_step": 0.8,
    "gamma": 0.0,
    "median_filtering": 5,
}


def test_auto_is_opencv_tvl1_without_a_gpu(frames, monkeypatch):
    monkeypatch.setattr(flow, "gpu_driver_present", lambda: False)
    assert params_section("auto") == "tvl1"
    fn = make_flow("auto", TVL1, threads=1)
    assert fn.method == "tvl1"  # stores and checkpoints record what ran
    want = make_flow("tvl1", TVL1, threads=1)(frames[0], frames[1])
    np.testing.assert_array_equal(fn(frames[0], frames[1]), want)


def test_auto_picks_the_gpu_flow_where_torch_sees_cuda(monkeypatch):
    import tsmsnet.training.device as device

    monkeypatch.setattr(flow, "gpu_driver_present", lambda: True)
    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: True)
    assert resolve_method("auto") == "tvl1_torch"
    assert resolve_method("auto", device="cpu") == "tvl1"  # config device: cpu wins
    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: False)
    assert resolve_method("auto") == "tvl1"  # a driver but no usable GPU
    assert resolve_method("dis") == "dis" and resolve_method("tvl1_torch") == "tvl1_torch"


def test_flow_jobs_take_the_gpu_resource_only_where_they_compute_on_cuda(monkeypatch):
    import tsmsnet.training.device as device

    monkeypatch.setattr(flow, "gpu_driver_present", lambda: True)
    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: True)
    assert uses_cuda("auto") and uses_cuda("tvl1_torch") and uses_cuda("auto", "cuda")
    assert not uses_cuda("tvl1") and not uses_cuda("dis") and not uses_cuda("auto", "cpu")
    monkeypatch.setattr(flow, "gpu_driver_present", lambda: False)
    assert not uses_cuda("auto") and not uses_cuda("tvl1_torch")


def test_auto_without_a_gpu_driver_does_not_import_torch():
    code = (
        "import sys\n"
        "from tsmsnet.preprocess import flow\n"
        "flow.gpu_driver_present = lambda: False\n"
        "print(flow.resolve_method('auto'), 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["tvl1", "False"]
