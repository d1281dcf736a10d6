"""The recognition network: a small CNN over one stage-1 sample (|u|, |v|, strain of the two
ROIs stacked, brows+eyes above the mouth) -> one logit per emotion class.

Classes differ by which region moves and how (as action units do), so the network keeps the
spatial layout to the end: the last feature map is pooled to a coarse grid whose upper rows
are the brows and lower rows the mouth, never to one global value.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tsmsnet.errors import ConfigError
from tsmsnet.models.apex import check_scaling, scale_inputs
from tsmsnet.models.layers import check_init, conv_unit, fast_layout, initialise


@dataclass(frozen=True)
class RecognitionNetConfig:
    """Everything needed to rebuild a RecognitionNet (stored in checkpoints via `asdict`).

    channels, fc_hidden, dropout, input_scaling, init: config.yaml `recognition`; classes: the
    class list it names (str.classes, plus others where scored); the input size follows the
    ROI layout (preprocess.features).
    """

    classes: tuple[str, ...]
    channels: tuple[int, ...]
    fc_hidden: int
    dropout: float
    input_scaling: str
    init: str
    pooled: int = 4
    in_height: int = 42
    in_width: int = 42

    def __post_init__(self):
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ConfigError(f"recognition needs two or more distinct classes; got {self.classes}")
        if not self.channels:
            raise ConfigError("recognition.channels must list at least one width")
        check_scaling(self.input_scaling)
        check_init(self.init)

    @classmethod
    def from_sections(
        cls, settings: dict, features: dict, classes: tuple[str, ...]
    ) -> RecognitionNetConfig:
        """From config.yaml `recognition`, `preprocess.features` and the class list."""
        return cls(
            classes=tuple(classes),
            channels=tuple(settings["channels"]),
            fc_hidden=int(settings["fc_hidden"]),
            dropout=float(settings["dropout"]),
            input_scaling=str(settings["input_scaling"]),
            init=str(settings["init"]),
            in_height=2 * int(features["roi_height"]),
            in_width=int(features["roi_width"]),
        )


class RecognitionNet(nn.Module):
    """Input scaling -> conv units with 2x2 max pooling -> average pool to pooled x pooled ->
    dropout, FC, ReLU, dropout, FC -> (B, n_classes) logits."""

    def __init__(self, cfg: RecognitionNetConfig):
        super().__init__()
        self.cfg = cfg
        layers, c_in = [], 3
        for i, width in enumerate(cfg.channels):
            layers.append(conv_unit(c_in, width, 3, 1, 1))
            if i < len(cfg.channels) - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = width
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(cfg.pooled))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(cfg.dropout),
            nn.Linear(c_in * cfg.pooled * cfg.pooled, cfg.fc_hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.fc_hidden, len(cfg.classes)),
        )
        initialise(self, cfg.init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, H, W) stage-1 samples as stored -> (B, n_classes) logits."""
        x = fast_layout(scale_inputs(x.float(), self.cfg.input_scaling))
        return self.head(self.features(x))
