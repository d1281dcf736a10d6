"""Upstream's (xly135846/MEGC2021) state dicts in our networks, through an explicit key map.

Upstream's `spot_Net` is our ApexNet and its `merge_Net` our IntervalNet, layer for layer; only
the names differ. Upstream wraps each conv-BN(-ReLU) unit in a module whose Sequential is
called `seq`, so its `branch2.1.seq.0.weight` is our `v_stream.1.0.weight`. The map below
names every module prefix of both nets; a key that no prefix claims, or a state dict that does
not fit our net exactly (strict load: every key present, every shape equal), is an error.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from tsmsnet.errors import InputError

# (upstream module prefix, our module prefix), per network class of ours.
KEY_MAPS: dict[str, tuple[tuple[str, str], ...]] = {
    "ApexNet": (
        ("branch1.1.seq.", "u_stream.1."),  # branch1.0 is the AvgPool (no weights)
        ("branch2.0.seq.", "v_stream.0."),
        ("branch2.1.seq.", "v_stream.1."),
        ("branch3.0.seq.", "s_stream.0."),
        ("branch3.1.seq.", "s_stream.1."),
        ("branch3.2.seq.", "s_stream.2."),
        ("branch4.1.seq.", "branch_a.1."),  # branch4.0 is the AvgPool
        ("branch5.0.seq.", "branch_b.0."),
        ("branch5.1.seq.", "branch_b.1."),
        ("branch6.0.seq.", "branch_c.0."),
        ("branch6.1.seq.", "branch_c.1."),
        ("branch6.2.seq.", "branch_c.2."),
        ("se_fc1.", "se_squeeze."),
        ("se_fc2.", "se_excite."),
        ("fc1.", "fc1."),
        ("fc2.", "fc2."),
    ),
    "IntervalNet": (
        ("branch1.0.seq.", "cnn.0."),
        ("branch1.1.seq.", "cnn.1."),
        ("branch4.0.seq.", "cnn.2."),
        ("branch4.1.seq.", "cnn.3."),
        ("conv1d_1.", "temporal.0."),  # temporal.1, .3 and .5 are the ReLUs
        ("conv1d_2.", "temporal.2."),
        ("conv1d_3.", "temporal.4."),
        ("fc1.", "fc1."),
        ("fc2.", "fc2."),
    ),
}


def map_keys(state: dict, model_name: str, source: str | Path) -> dict[str, torch.Tensor]:
    """Upstream's key names -> ours for `model_name` (ApexNet, IntervalNet); tensors unchanged."""
    rules = KEY_MAPS[model_name]
    mapped = {}
    for key, value in state.items():
        hits = [(up, ours) for up, ours in rules if key.startswith(up)]
        if len(hits) != 1:
            raise InputError(
                f"{source}: key {key!r} is not a layer of upstream's net for our {model_name} "
                "(is this file from another stage or another network?)"
            )
        up, ours = hits[0]
        mapped[ours + key[len(up) :]] = value
    return mapped


def load_upstream(model: nn.Module, state: object, source: str | Path) -> nn.Module:
    """Load an upstream state dict into `model` (strict), or InputError naming `source`."""
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise InputError(f"{source} is not a PyTorch state dict (names -> tensors)")
    name = type(model).__name__
    try:
        model.load_state_dict(map_keys(state, name, source), strict=True)
    except RuntimeError as exc:  # missing or unexpected keys, shape mismatches
        raise InputError(
            f"{source} does not fit our {name} for this config: {exc}; check that the file "
            "sits in the folder of its config (weights/<stage>/<config>/)"
        ) from None
    return model
