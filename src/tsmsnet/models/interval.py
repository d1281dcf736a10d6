"""Stage 2: STCNet, classifying a window of L short-skip clips as expression or not."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tsmsnet.config import SpotConfig, spot_config, training
from tsmsnet.errors import ConfigError
from tsmsnet.models.layers import check_init, conv_unit, fast_layout, initialise, out_size


@dataclass(frozen=True)
class IntervalNetConfig:
    """Everything needed to rebuild an IntervalNet (stored in checkpoints via `asdict`).

    L, stride, padding and fc_hidden depend on the spotting config (config.yaml `configs`),
    init comes from config.yaml `interval_net`; the channel widths are the published
    architecture.
    """

    L: int
    stride: int
    padding: tuple[int, int, int]
    fc_hidden: int
    init: str
    in_height: int = 42
    in_width: int = 42
    cnn_channels: int = 16
    seq_channels: tuple[int, int, int] = (128, 64, 32)

    def __post_init__(self):
        # Checkpoints store tuples as lists; keep the dataclass hashable and comparable.
        object.__setattr__(self, "padding", tuple(int(p) for p in self.padding))
        object.__setattr__(self, "seq_channels", tuple(int(c) for c in self.seq_channels))
        if len(self.padding) != len(self.seq_channels):
            raise ConfigError(f"interval_net padding needs {len(self.seq_channels)} values")
        check_init(self.init)

    @classmethod
    def from_spot(cls, spot: SpotConfig, train: dict, features: dict) -> IntervalNetConfig:
        """Build from one spotting config (L and its interval net), the training settings
        (`interval_net`, as `config.training` gives them) and `preprocess.features` (the ROI
        layout)."""
        return cls(
            L=spot.L,
            stride=spot.interval_stride,
            padding=spot.interval_padding,
            fc_hidden=spot.interval_fc_hidden,
            init=str(train["init"]),
            in_height=2 * int(features["roi_height"]),
            in_width=int(features["roi_width"]),
        )

    @classmethod
    def from_cfg(cls, cfg: dict, config_name: str) -> IntervalNetConfig:
        """Build from the full config dict for one spotting config (e.g. `cas_micro`)."""
        spot = spot_config(cfg, config_name)
        return cls.from_spot(spot, training(cfg, "interval_net"), cfg["preprocess"]["features"])

    def sequence_length(self) -> int:
        """Length of the temporal axis after the three Conv1d layers."""
        n = self.L
        for p in self.padding:
            n = out_size(n, 3, self.stride, p)
        return n


class IntervalNet(nn.Module):
    """Shared per-clip 2-D CNN -> three Conv1d over the clips -> FC -> 2 logits."""

    def __init__(self, cfg: IntervalNetConfig):
        super().__init__()
        self.cfg = cfg
        c = cfg.cnn_channels
        self.cnn = nn.Sequential(
            conv_unit(3, c, 3, 1),
            conv_unit(c, c, 3, 2),
            conv_unit(c, c, 3, 1),
            conv_unit(c, c, 3, 2),
        )
        h, w = cfg.in_height, cfg.in_width
        for stride in (1, 2, 1, 2):
            h, w = out_size(h, 3, stride, 0), out_size(w, 3, stride, 0)
        h, w = h // 2, w // 2  # avg_pool2d(2)
        if h < 1 or w < 1:
            raise ConfigError(f"IntervalNet input {cfg.in_height}x{cfg.in_width} is too small")
        self.clip_features = c * h * w
        seq = []
        c_in = self.clip_features
        for c_out, pad in zip(cfg.seq_channels, cfg.padding, strict=True):
            seq.append(nn.Conv1d(c_in, c_out, 3, stride=cfg.stride, padding=pad))
            seq.append(nn.ReLU(inplace=True))
            c_in = c_out
        self.temporal = nn.Sequential(*seq)
        n = cfg.sequence_length()
        if n < 1:
            raise ConfigError(
                f"IntervalNet: L={cfg.L} with stride {cfg.stride} and padding {cfg.padding} "
                "leaves no time steps; use a larger L or smaller stride"
            )
        self.flat = c_in * n
        self.fc1 = nn.Linear(self.flat, cfg.fc_hidden)
        self.fc2 = nn.Linear(cfg.fc_hidden, 2)
        initialise(self, cfg.init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, L, 3, H, W), each clip channel already min-max normalised
        (layers.minmax_channels, applied where windows are read) -> (B, 2) logits."""
        b, n_clips = x.shape[:2]
        if n_clips != self.cfg.L:
            raise ValueError(f"IntervalNet expects {self.cfg.L} clips per window, got {n_clips}")
        y = self.cnn(fast_layout(x.reshape(b * n_clips, *x.shape[2:])))  # (B*L, 16, 8, 8)
        y = F.avg_pool2d(y, 2)  # (B*L, 16, 4, 4)
        y = y.reshape(b, n_clips, -1).transpose(1, 2)  # (B, 256, L)
        y = self.temporal(y).flatten(1)  # (B, flat): 128 for L=6, 32 for L=16/21, 416 for L=114
        return self.fc2(torch.relu(self.fc1(y)))  # (B, 2)
