"""Optical flow between two aligned grey faces: TV-L1 (the method's) or DIS (quick looks)."""

from __future__ import annotations

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
    """callable(prev, next) -> (H, W, 2) float32 flow; remembers method and params for attrs."""

    def __init__(self, method: str, params: dict, algo):
        self.method = method
        self.params = dict(params)
        self._algo = algo

    def __call__(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        flow = self._algo.calc(prev, nxt, None)
        return np.asarray(flow, dtype=np.float32)


def _tvl1(params: dict):
    missing = [k for k in TVL1_PARAMS if k not in params]
    unknown = [k for k in params if k not in TVL1_PARAMS]
    if missing or unknown:
        raise ConfigError(
            f"preprocess.flow.tvl1: missing {missing or 'nothing'}, unknown {unknown or 'nothing'};"
            f" expected exactly {', '.join(TVL1_PARAMS)}"
        )
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


def _dis(params: dict):
    preset = params.get("preset")
    if preset not in DIS_PRESETS:
        raise ConfigError(
            f"preprocess.flow.dis.preset is {preset!r}; known: {', '.join(DIS_PRESETS)}"
        )
    return cv2.DISOpticalFlow_create(DIS_PRESETS[preset])


_METHODS = {"tvl1": _tvl1, "dis": _dis}


def make_flow(method: str, params: dict, threads: int) -> FlowFn:
    """Flow function for `method` with `params` (config.yaml preprocess.flow.<method>).

    Sets OpenCV's thread count for this process: the job's declared threads, no more.
    """
    if method not in _METHODS:
        raise ConfigError(f"unknown flow method {method!r}; known: {', '.join(_METHODS)}")
    cv2.setNumThreads(int(threads))
    return FlowFn(method, params, _METHODS[method](params))


def flow_from_config(flow_cfg: dict, threads: int) -> FlowFn:
    """make_flow from config.yaml's preprocess.flow section (method + that method's params)."""
    method = flow_cfg.get("method")
    return make_flow(method, flow_cfg.get(method, {}), threads)
