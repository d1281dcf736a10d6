"""Stage 1: the apex network, scoring how expressive the motion of one (3, H, W) sample is."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tsmsnet.config import training
from tsmsnet.errors import ConfigError
from tsmsnet.models.layers import (
    check_init,
    conv_unit,
    fast_layout,
    initialise,
    minmax_channels,
    out_size,
)

# How stage 1 scales a sample before its first layer (config datasets.<name>.stage1_input):
# minmax, each channel of each sample to [0, 1] (upstream for CAS(ME)^2, data/data.py), or
# raw, the features as stored (upstream for SAMM).
INPUT_SCALINGS = ("minmax", "raw")


@dataclass(frozen=True)
class ApexNetConfig:
    """Everything needed to rebuild an ApexNet (stored in checkpoints via `asdict`).

    fc_hidden, se_channels and init come from config.yaml (`apex_net`), input_scaling from
    the dataset's `stage1_input` (both as `config.training` gives them); the stream widths are
    the published architecture; the input size follows the ROI layout (`from_cfg`).
    """

    fc_hidden: int
    se_channels: int
    input_scaling: str
    init: str
    in_height: int = 42
    in_width: int = 42
    u_channels: int = 3
    v_channels: int = 5
    s_channels: int = 8
    inception_channels: int = 16

    def __post_init__(self):
        check_scaling(self.input_scaling)
        check_init(self.init)

    @classmethod
    def from_sections(cls, train: dict, features: dict) -> ApexNetConfig:
        """Build from config sections: a network's training settings (`apex_net`, as
        `config.training` gives them, with input_scaling) and `preprocess.features` (the ROI
        layout)."""
        return cls(
            fc_hidden=int(train["fc_hidden"]),
            se_channels=int(train["se_channels"]),
            input_scaling=str(train["input_scaling"]),
            init=str(train["init"]),
            in_height=2 * int(features["roi_height"]),
            in_width=int(features["roi_width"]),
        )

    @classmethod
    def from_cfg(cls, cfg: dict) -> ApexNetConfig:
        """Build from the full config dict, with the dataset's overrides as the workflow."""
        return cls.from_sections(training(cfg, "apex_net"), cfg["preprocess"]["features"])


def check_scaling(scaling: str) -> str:
    """ConfigError unless `scaling` is one of INPUT_SCALINGS."""
    if scaling not in INPUT_SCALINGS:
        raise ConfigError(
            f"unknown stage-1 input scaling '{scaling}'; use one of {', '.join(INPUT_SCALINGS)}"
        )
    return scaling


def scale_inputs(x: torch.Tensor, scaling: str) -> torch.Tensor:
    """A stage-1 batch (B, 3, H, W) as the network sees it under `scaling` (INPUT_SCALINGS).

    minmax works per sample and channel over the whole H x W map (both ROIs stacked, as
    upstream); a constant channel becomes 0 (upstream divides 0 by 0 and gets NaN).
    """
    return minmax_channels(x) if check_scaling(scaling) == "minmax" else x


def _reduce(n: int) -> int:
    """Every spatial reduction of this net is a 3x3, stride 3, padding 1 window."""
    return out_size(n, 3, 3, 1)


class ApexNet(nn.Module):
    """Input scaling -> three single-map streams (u, v, strain) -> inception ->
    squeeze-excitation -> FC score. The scaling is part of the network, so training, step 1
    and `tsmsnet spot` apply the one the checkpoint's net_cfg records."""

    def __init__(self, cfg: ApexNetConfig):
        super().__init__()
        self.cfg = cfg
        c = cfg.inception_channels
        stem = cfg.u_channels + cfg.v_channels + cfg.s_channels
        self.u_stream = nn.Sequential(nn.AvgPool2d(3, 3, 1), conv_unit(1, cfg.u_channels, 1))
        self.v_stream = nn.Sequential(
            conv_unit(1, cfg.v_channels, 1),
            conv_unit(cfg.v_channels, cfg.v_channels, 3, 3, 1),
        )
        self.s_stream = nn.Sequential(
            conv_unit(1, cfg.s_channels, 1),
            conv_unit(cfg.s_channels, cfg.s_channels, 3, 1, 1),
            conv_unit(cfg.s_channels, cfg.s_channels, 3, 3, 1),
        )
        self.branch_a = nn.Sequential(nn.AvgPool2d(3, 3, 1), conv_unit(stem, c, 1))
        self.branch_b = nn.Sequential(conv_unit(stem, c, 1), conv_unit(c, c, 3, 3, 1))
        self.branch_c = nn.Sequential(
            conv_unit(stem, c, 1), conv_unit(c, c, 3, 1, 1), conv_unit(c, c, 3, 3, 1)
        )
        merged = 3 * c
        self.se_squeeze = nn.Conv2d(merged, cfg.se_channels, 1)
        self.se_excite = nn.Conv2d(cfg.se_channels, merged, 1)
        self.pool = nn.MaxPool2d(2)
        h = _reduce(_reduce(cfg.in_height)) // 2
        w = _reduce(_reduce(cfg.in_width)) // 2
        if h < 1 or w < 1:
            raise ConfigError(f"ApexNet input {cfg.in_height}x{cfg.in_width} is too small")
        self.fc1 = nn.Linear(merged * h * w, cfg.fc_hidden)
        self.fc2 = nn.Linear(cfg.fc_hidden, 1)
        initialise(self, cfg.init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, H, W) with channels u, v, strain, as stored -> (B,) scores."""
        x = fast_layout(scale_inputs(x, self.cfg.input_scaling))
        u, v, s = x[:, 0:1], x[:, 1:2], x[:, 2:3]  # (B, 1, 42, 42) each
        stem = torch.cat(
            [self.u_stream(u), self.v_stream(v), self.s_stream(s)], dim=1
        )  # (B, 16, 14, 14)
        y = torch.cat(
            [self.branch_a(stem), self.branch_b(stem), self.branch_c(stem)], dim=1
        )  # (B, 48, 5, 5)
        w = y.mean(dim=(2, 3), keepdim=True)  # (B, 48, 1, 1)
        w = torch.sigmoid(self.se_excite(torch.relu(self.se_squeeze(w))))  # (B, 48, 1, 1)
        y = self.pool(y * w).flatten(1)  # (B, 192)
        return self.fc2(self.fc1(y)).squeeze(1)  # (B,)
