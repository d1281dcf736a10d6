"""Fake upstream checkouts for tests: our freshly initialised nets saved under upstream's key
names (the key map reversed) and file names, in the layout of xly135846/MEGC2021."""

from __future__ import annotations

from pathlib import Path

import torch

from tsmsnet.models import ApexNet, ApexNetConfig, IntervalNet, IntervalNetConfig
from tsmsnet.models.upstream import KEY_MAPS
from tsmsnet.upstream import STAGE_DIRS, upstream_config


def upstream_state(model: torch.nn.Module) -> dict:
    """Our net's weights under upstream's names (the key map reversed): an upstream-like file."""
    state = {}
    for key, value in model.state_dict().items():
        (up, ours) = [(u, o) for u, o in KEY_MAPS[type(model).__name__] if key.startswith(o)][0]
        state[up + key[len(ours) :]] = value.contiguous()
    return state


def upstream_names(config: str, subject: str, epoch: int = 3) -> dict[str, str]:
    """Upstream's file names of one fold (our config and subject id) per stage of ours."""
    up = upstream_config(config)
    prefix = up.subject_format.split("{}")[0]
    digits = subject[len(prefix) :]
    assert up.subject_format.format(digits) == subject and len(digits) == up.subject_digits
    apex = f"net_min_loss_{digits}{epoch}_0.5.pt" if prefix else f"net_min_loss_{digits}_0.5.pt"
    return {"apex": apex, "interval": f"net_min_loss_{digits}.pt"}


def fake_checkout(root: Path, cfg: dict, folds: dict[str, list[str]], seed: int = 0) -> Path:
    """A checkout at `root` holding, per config of ours, a fold of each listed subject."""
    for config, subjects in folds.items():
        folder = upstream_config(config).folder
        for i, subject in enumerate(subjects):
            torch.manual_seed(seed + i)
            nets = {
                "apex": ApexNet(ApexNetConfig.from_cfg(cfg)),
                "interval": IntervalNet(IntervalNetConfig.from_cfg(cfg, config)),
            }
            for stage, name in upstream_names(config, subject).items():
                path = root / "weights" / STAGE_DIRS[stage] / folder / name
                path.parent.mkdir(parents=True, exist_ok=True)
                torch.save(upstream_state(nets[stage]), path)
    return root
