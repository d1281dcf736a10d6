"""Building blocks shared by both networks: the conv unit, size arithmetic, upstream init."""

from __future__ import annotations

import torch
from torch import nn

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


def init_weights(module: nn.Module) -> None:
    """Upstream's init: xavier-uniform convs, unit BN, small-normal linears; biases zero.

    Draws from torch's global generator, so construct models after seeding. Leaves the
    weights in the fast memory layout (values unchanged; checkpoints load into it).
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
    module.to(memory_format=FAST_FORMAT)
