"""Load config.yaml and answer the questions every stage asks of it (one place, no copies)."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tsmsnet.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "config.yaml"


def load_config(path: str | Path = DEFAULT_CONFIG, overrides: dict[str, Any] | None = None) -> dict:
    """Read a config file and apply flat or nested overrides (as `--config k=v` would)."""
    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh)
    for key, value in (overrides or {}).items():
        set_path(cfg, key, value)
    return cfg


def set_path(cfg: dict, dotted: str, value: Any) -> None:
    """Set `a.b.c` in a nested dict, creating no new top-level sections by accident."""
    keys = dotted.split(".")
    node = cfg
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


@dataclass(frozen=True)
class SpotConfig:
    """One spotting configuration (`configs.<name>`): a dataset x expression type with its K, L,
    P and the interval network's shape. Rules, steps, checkpoints and the CLI all pass this."""

    name: str
    type: str
    K: int
    L: int
    P: float
    interval_stride: int
    interval_padding: tuple[int, int, int]
    interval_fc_hidden: int

    @classmethod
    def from_section(cls, name: str, section: dict) -> SpotConfig:
        """From a `configs.<name>` section (or the record a checkpoint keeps of one)."""
        net = section["interval_net"]
        return cls(
            name=name,
            type=str(section["type"]),
            K=int(section["K"]),
            L=int(section["L"]),
            P=float(section["P"]),
            interval_stride=int(net["stride"]),
            interval_padding=tuple(int(p) for p in net["padding"]),
            interval_fc_hidden=int(net["fc_hidden"]),
        )

    @classmethod
    def from_record(cls, record: dict) -> SpotConfig:
        """Back from `record()` (rule params, checkpoints)."""
        return cls.from_section(record["name"], record)

    def record(self) -> dict:
        """Plain data in the config's own shape plus the name (for params and checkpoints)."""
        return {
            "name": self.name,
            "type": self.type,
            "K": self.K,
            "L": self.L,
            "P": self.P,
            "interval_net": {
                "stride": self.interval_stride,
                "padding": list(self.interval_padding),
                "fc_hidden": self.interval_fc_hidden,
            },
        }


def spot_config(cfg: dict, name: str) -> SpotConfig:
    """The named spotting configuration, with a clear error for an unknown name."""
    try:
        section = cfg["configs"][name]
    except KeyError:
        known = ", ".join(sorted(cfg["configs"]))
        raise ConfigError(f"unknown spotting config '{name}'; known: {known}") from None
    return SpotConfig.from_section(name, section)


def synthetic_preset(cfg: dict) -> dict:
    """The active synthetic preset's settings."""
    name = cfg["synthetic"]["preset"]
    presets = cfg["synthetic"]["presets"]
    if name not in presets:
        raise ConfigError(f"unknown synthetic preset '{name}'; known: {', '.join(presets)}")
    return presets[name]


def dataset_configs(cfg: dict) -> list[str]:
    """Names of the spotting configs that run on the selected dataset."""
    dataset = cfg["dataset"]
    if dataset == "synthetic":
        layout = synthetic_preset(cfg)["layout"]
        return list(cfg["datasets"][layout]["configs"])
    return list(cfg["datasets"][dataset]["configs"])


def stage1_input(cfg: dict) -> str:
    """How stage 1 scales its inputs on the selected dataset (`minmax` or `raw`).

    datasets.<name>.stage1_input; a synthetic run takes its preset's `stage1_input` when it
    sets one, else the value of the dataset whose layout it writes.
    """
    dataset = cfg["dataset"]
    if dataset == "synthetic":
        preset = synthetic_preset(cfg)
        if "stage1_input" in preset:
            return str(preset["stage1_input"])
        dataset = preset["layout"]
    return str(cfg["datasets"][dataset]["stage1_input"])


TRAINED_NETS = ("apex_net", "interval_net")


def training(cfg: dict, net: str) -> dict:
    """Training settings of `net` (apex_net or interval_net) for the selected dataset.

    The top-level section holds the method's numbers (sized for CAS(ME)^2 and SAMM-LV); a
    dataset may override some of them under `train` (datasets.<name>.train or, for synthetic,
    the active preset's train), e.g. a smaller batch where a few videos would give only a few
    optimiser steps per epoch. Test subjects never enter: these are fixed before any training.
    apex_net also gets `input_scaling` (stage1_input): it shapes what the network learns, so
    it travels with the training settings into the rule's params and the checkpoint.
    """
    if net not in TRAINED_NETS:
        raise ConfigError(f"unknown network section '{net}'; known: {', '.join(TRAINED_NETS)}")
    dataset = cfg["dataset"]
    if dataset == "synthetic":
        overrides = synthetic_preset(cfg).get("train", {})
    else:
        overrides = cfg["datasets"][dataset].get("train", {})
    settings = {**cfg[net], **(overrides.get(net) or {})}
    if net == "apex_net":
        settings["input_scaling"] = stage1_input(cfg)
    return settings


def job_environment(cfg: dict, environ: MutableMapping[str, str]) -> dict[str, str]:
    """Put config.yaml `malloc` into `environ` (for the jobs a workflow starts), keeping any
    value already there; returns what was set. glibc reads these when a process starts."""
    added = {}
    for name, value in cfg["malloc"].items():
        if name not in environ:
            environ[name] = added[name] = str(int(value))
    return added


def cpu_kernel_pins(cfg: dict) -> dict[str, str]:
    """The environment config `cpu_kernels` pins for training and spotting ({} when not
    portable: each CPU's own kernels). tsmsnet.training.device.pin_cpu_kernels applies it."""
    section = cfg["cpu_kernels"]
    if not section["portable"]:
        return {}
    return {str(name): str(value) for name, value in section["pins"].items()}
