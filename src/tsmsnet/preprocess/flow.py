"""Optical flow between two aligned grey faces: TV-L1 (the method's) or DIS (quick looks).

Methods: ``tvl1`` (OpenCV contrib Dual TV-L1, one pair at a time), ``tvl1_torch`` (the same
algorithm and parameters in PyTorch, many pairs at once, on a CUDA GPU when there is one; it
reads the ``tvl1`` section of the config), ``dis`` (OpenCV DIS) and ``auto`` (the default:
``tvl1_torch`` where the job sees a CUDA GPU, else ``tvl1``).
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from tsmsnet.errors import ConfigError

# config key -> position in cv2.optflow.DualTVL1OpticalFlow_create's argument list.
TVL1_PARAMS = (
    "tau",
    "lambda",
    "theta",
    "nscales",
    "warps",
    "epsilon",
    "inner_iterations",
    "outer_iterations",
    "scale_step",
    "gamma",
    "median_filtering",
)
DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


class FlowFn:
    """callable(prev, next) -> (H, W, 2) float32 flow; remembers method and params for attrs.

    ``calc_many(prevs, nexts)`` takes blocks of pairs, (B, H, W) each, and returns (B, H, W, 2)
    float32 flows; methods that solve pairs together (tvl1_torch) do so, the others loop.
    """

    def __init__(self, method: str, params: dict, algo):
        self.method = method
        self.params = dict(params)
        self._algo = algo

    def __call__(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        return self.calc(prev, nxt)

    def calc(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """Flow from prev to next, (H, W) grey frames -> (H, W, 2) float32."""
        flow = self._algo.calc(prev, nxt, None)
        return np.asarray(flow, dtype=np.float32)

    def calc_many(self, prevs, nexts) -> np.ndarray:
        """Flows of pairs (prevs[i], nexts[i]): two (B, H, W) stacks -> (B, H, W, 2) float32."""
        prevs, nexts = as_stacks(prevs, nexts)
        batched = getattr(self._algo, "calc_many", None)
        if batched is not None:
            return np.asarray(batched(prevs, nexts), dtype=np.float32)
        out = np.empty(prevs.shape + (2,), dtype=np.float32)
        for i in range(len(prevs)):
            out[i] = self.calc(prevs[i], nexts[i])
        return out


def check_tvl1_params(params: dict) -> None:
    """ConfigError unless `params` has exactly the TV-L1 keys (config.yaml preprocess.flow.tvl1)."""
    missing = [k for k in TVL1_PARAMS if k not in params]
    unknown = [k for k in params if k not in TVL1_PARAMS]
    if missing or unknown:
        raise ConfigError(
            f"preprocess.flow.tvl1: missing {missing or 'nothing'}, unknown {unknown or 'nothing'};"
            f" expected exactly {', '.join(TVL1_PARAMS)}"
        )


def _tvl1(params: dict, device):
    check_tvl1_params(params)
    p = params
    return cv2.optflow.DualTVL1OpticalFlow_create(
        float(p["tau"]),
        float(p["lambda"]),
        float(p["theta"]),
        int(p["nscales"]),
        int(p["warps"]),
        float(p["epsilon"]),
        int(p["inner_iterations"]),
        int(p["outer_iterations"]),
        float(p["scale_step"]),
        float(p["gamma"]),
        int(p["median_filtering"]),
        False,  # useInitialFlow: every pair is independent
    )


def _dis(params: dict, device):
    preset = params.get("preset")
    if preset not in DIS_PRESETS:
        raise ConfigError(
            f"preprocess.flow.dis.preset is {preset!r}; known: {', '.join(DIS_PRESETS)}"
        )
    return cv2.DISOpticalFlow_create(DIS_PRESETS[preset])


def _tvl1_torch(params: dict, device):
    from tsmsnet.preprocess.tvl1_torch import TorchTVL1

    return TorchTVL1(params, device=device)


def as_stacks(prevs, nexts) -> tuple[np.ndarray, np.ndarray]:
    """Two (B, H, W) frame stacks of equal shape, or a ValueError saying what came instead."""
    prevs, nexts = np.asarray(prevs), np.asarray(nexts)
    if prevs.ndim != 3 or prevs.shape != nexts.shape:
        raise ValueError(
            f"calc_many takes two (B, H, W) stacks of equal shape, got {prevs.shape}"
            f" and {nexts.shape}"
        )
    return prevs, nexts


_METHODS = {"tvl1": _tvl1, "dis": _dis, "tvl1_torch": _tvl1_torch}
# Resolved per job (where the job runs, which on a cluster is not where the DAG is built).
AUTO = "auto"
# The methods that compute on a CUDA GPU where there is one (the workflow gives their jobs
# the config's device and, with a GPU, the gpu resource).
GPU_METHODS = (AUTO, "tvl1_torch")
# Which config section (preprocess.flow.<section>) holds each method's parameters.
_PARAMS_SECTION = {AUTO: "tvl1", "tvl1": "tvl1", "dis": "dis", "tvl1_torch": "tvl1"}
# Files a GPU driver puts on Linux (NVIDIA, AMD ROCm, WSL2): without any, there is no CUDA
# device and `auto` need not import torch (about 1 s of CPU per job) to find that out.
GPU_DRIVER_FILES = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd", "/dev/dxg")


def _check_known(method: str) -> None:
    if method not in _PARAMS_SECTION:
        known = ", ".join([AUTO, *_METHODS])
        raise ConfigError(f"unknown flow method {method!r}; known: {known}")


def params_section(method: str) -> str:
    """Name of the preprocess.flow section with `method`'s parameters (tvl1_torch, auto: tvl1)."""
    _check_known(method)
    return _PARAMS_SECTION[method]


def gpu_driver_present() -> bool:
    """Whether this machine has a GPU driver at all (cheap; no torch import)."""
    return any(os.path.exists(path) for path in GPU_DRIVER_FILES)


def uses_cuda(method: str, device="auto") -> bool:
    """Whether `method` computes on a CUDA GPU on this machine (auto or tvl1_torch, with a GPU
    that `device` allows); the workflow's flow rules ask for the gpu resource by it."""
    if method not in GPU_METHODS or str(device) == "cpu" or not gpu_driver_present():
        return False
    from tsmsnet.training.device import pick_device

    return pick_device(device).type == "cuda"


def resolve_method(method: str, device="auto") -> str:
    """The method a job runs: `auto` is tvl1_torch when `device` gives a CUDA GPU here, else
    tvl1 (same model and parameters; features within 0.03 of OpenCV's). Others unchanged."""
    if method != AUTO:
        return method
    return "tvl1_torch" if uses_cuda(method, device) else "tvl1"


def make_flow(method: str, params: dict, threads: int, device="auto") -> FlowFn:
    """Flow function for `method` with `params` (config.yaml preprocess.flow.<section>).

    Sets OpenCV's (and, for tvl1_torch, torch's) thread count for this process: the job's
    declared threads, no more. `device` matters to tvl1_torch and auto only: 'auto' is CUDA
    when torch sees a GPU, else the CPU. The FlowFn names the method it resolved to.
    """
    _check_known(method)
    method = resolve_method(method, device)
    cv2.setNumThreads(int(threads))
    if method == "tvl1_torch":
        from tsmsnet.training.device import set_threads

        set_threads(int(threads))
    return FlowFn(method, params, _METHODS[method](params, device))


def flow_settings(flow_cfg: dict, device: str | None = None) -> dict:
    """The active method and only its parameters (config.yaml preprocess.flow), so tuning
    another method's section reruns nothing; with `device` where the method can use a GPU.

    The flow rules, the checkpoints' preprocessing record (no device), `tsmsnet spot` and the
    benchmarks all build their flow settings here.
    """
    method = flow_cfg["method"]
    return on_device({"method": method, "params": flow_cfg[params_section(method)]}, device)


def on_device(settings: dict, device: str | None) -> dict:
    """Flow settings (method, params) with `device` added where the method can use a GPU."""
    out = {"method": settings["method"], "params": dict(settings["params"])}
    if device is not None and settings["method"] in GPU_METHODS:
        out["device"] = device
    return out


def flow_from_settings(settings: dict, threads: int) -> FlowFn:
    """make_flow from what `flow_settings` gives."""
    return make_flow(
        settings["method"], settings["params"], threads, settings.get("device", "auto")
    )


def flow_from_config(flow_cfg: dict, threads: int, device="auto") -> FlowFn:
    """make_flow from config.yaml's preprocess.flow section (method + that method's params)."""
    return flow_from_settings(flow_settings(flow_cfg, device), threads)
