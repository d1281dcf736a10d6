"""Building blocks shared by both networks: the conv unit, size arithmetic, input min-max
scaling and the weight initialisations."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tsmsnet.errors import ConfigError

# How a network's weights start: torch's own per-layer defaults (upstream trains from these:
# model.py and model_merge.py are built with init_weights=False) or init_weights below.
INITS = ("pytorch", "xavier")

# Both networks are many thin convolutions (1-16 channels); with the channels innermost,
# oneDNN trains them 1.3-1.4x faster on one CPU thread, the workflow's setting (ApexNet with
# two threads is slower: docs/benchmarks.md).
FAST_FORMAT = torch.channels_last


def fast_layout(x: torch.Tensor) -> torch.Tensor:
    """A 4-D batch in the memory layout the convolutions are fastest in (same values)."""
    return x.contiguous(memory_format=FAST_FORMAT)


def conv_unit(
    c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0
) -> nn.Sequential:
    """Conv2d (no bias, BN follows) -> BatchNorm -> ReLU, the unit both networks are made of."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def out_size(n: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a conv/pool along one axis (floor mode), so no size is hard-coded."""
    return (n + 2 * padding - kernel) // stride + 1


def minmax_channels(x):
    """Min-max normalise each channel of each sample over its (H, W) plane, to [0, 1].

    Works on numpy arrays (returns float32) and torch tensors (returns a float tensor). A
    constant channel, zero padding included, becomes all 0 instead of upstream's 0/0 NaN.
    """
    if isinstance(x, torch.Tensor):
        x = x.float() if not torch.is_floating_point(x) or x.dtype == torch.float16 else x
        lo = x.amin(dim=(-2, -1), keepdim=True)
        span = x.amax(dim=(-2, -1), keepdim=True) - lo
        ok = span > 0
        return torch.where(ok, (x - lo) / torch.where(ok, span, torch.ones_like(span)), 0.0)
    x = np.asarray(x, dtype=np.float32)
    lo = x.min(axis=(-2, -1), keepdims=True)
    span = x.max(axis=(-2, -1), keepdims=True) - lo
    ok = span > 0
    return np.where(ok, (x - lo) / np.where(ok, span, 1.0), 0.0).astype(np.float32)


def check_init(init: str) -> str:
    """ConfigError unless `init` is one of INITS."""
    if init not in INITS:
        raise ConfigError(f"unknown weight init '{init}'; use one of {', '.join(INITS)}")
    return init


def init_weights(module: nn.Module) -> None:
    """The `xavier` init: xavier-uniform convs, unit BN, N(0, 0.01) linears, zero biases.

    Upstream defines this (_initialize_weights) but never calls it. Draws from torch's global
    generator, so construct models after seeding.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)


def initialise(module: nn.Module, init: str) -> None:
    """Start a freshly built network's weights as `init` (one of INITS) says, then put it in
    the fast memory layout (values unchanged; checkpoints load into it).

    `pytorch` keeps the draws torch made while building the layers (from the global
    generator, so seeding before construction makes them repeatable).
    """
    if check_init(init) == "xavier":
        init_weights(module)
    module.to(memory_format=FAST_FORMAT)
