"""Training steps: one leave-one-subject-out fold of stage 1 or stage 2.

The fold receives only its training videos' stores and labels; the held-out subject is
named for the record and checked absent (the leak guard), never read. Targets come from the
annotations' training intervals (train_onset, train_offset), not the scored ones.
"""

from __future__ import annotations

import pandas as pd
import yaml

from tsmsnet.atomic import atomic_text
from tsmsnet.config import SpotConfig
from tsmsnet.datasets.table import TRAIN_COLUMNS, read_annotations
from tsmsnet.errors import ConfigError, InputError
from tsmsnet.runlog import Log

STAGES = ("apex", "interval")
NETWORKS = {"apex": "apex_net", "interval": "interval_net"}
# Which training videos a config trains on: those holding a ground truth of its type (as
# upstream), or all of them.
VIDEO_CHOICES = ("with_type", "all")


def check_no_leak(truth: pd.DataFrame, videos: list[str], held_out: str) -> None:
    """InputError if a training video belongs to the held-out subject."""
    leaked = truth.loc[truth["video"].isin(videos) & (truth["subject"] == held_out), "video"]
    if len(leaked):
        raise InputError(
            f"held-out subject {held_out} is in the training videos: {sorted(set(leaked))}"
        )


def select_videos(
    truth: pd.DataFrame,
    stores: list[str],
    videos: list[str],
    kind: str,
    which: str,
    network: str,
    log: Log,
) -> tuple[list[str], list[str]]:
    """(stores, videos) a config trains on: `which` is `with_type` (the videos holding at least
    one ground truth of `kind`, as upstream) or `all`. The scoring covers every video either way.
    """
    if which not in VIDEO_CHOICES:
        raise ConfigError(f"{network}.videos is {which!r}: use one of {', '.join(VIDEO_CHOICES)}")
    if which == "all":
        log(f"training on all {len(videos)} training videos ({network}.videos: all)")
        return list(stores), list(videos)
    holding = set(truth.loc[truth["type"] == kind, "video"])
    kept = [(s, v) for s, v in zip(stores, videos, strict=True) if v in holding]
    left = [v for v in videos if v not in holding]
    log(
        f"training on the {len(kept)} of {len(videos)} training videos holding a {kind} ground "
        f"truth ({network}.videos: with_type)" + (f"; left out: {', '.join(left)}" if left else "")
    )
    if not kept:
        raise InputError(
            f"none of the {len(videos)} training videos holds a {kind} ground truth: "
            f"set {network}.videos: all to train on them anyway, or leave this config out"
        )
    return [s for s, _ in kept], [v for _, v in kept]


def fold_items(
    truth: pd.DataFrame, stores: list[str], videos: list[str], held_out: str, kind: str
) -> list[tuple[str, list[tuple[int, int]]]]:
    """(store, training intervals of `kind` in store-index frames) for each training video."""
    from tsmsnet.preprocess.stores import open_store

    check_no_leak(truth, videos, held_out)
    missing = [c for c in TRAIN_COLUMNS if c not in truth.columns]
    if missing:
        raise InputError(
            f"the annotations table lacks {', '.join(missing)} (written by an older tsmsnet): "
            "rerun the annotations rule (snakemake --forcerun annotations)"
        )
    truth = truth[truth["type"] == kind]
    items = []
    for video, store in zip(videos, stores, strict=True):
        first = int(open_store(store).attrs["first_frame"])
        rows = truth[truth["video"] == video]
        intervals = [
            (int(a) - first, int(b) - first)
            for a, b in zip(rows["train_onset"], rows["train_offset"], strict=True)
        ]
        items.append((store, intervals))
    return items


def training_fps(truth: pd.DataFrame, videos: list[str]) -> float | None:
    """Frame rate of the fold's training videos (annotations.csv has it per row).

    None when they have no rows or differ: `tsmsnet spot` then cannot check a new video's fps.
    """
    if "fps" not in truth.columns:
        return None
    values = sorted({float(v) for v in truth.loc[truth["video"].isin(videos), "fps"].dropna()})
    return values[0] if len(values) == 1 else None


def _fit_stage(
    stage: str, items, spot: SpotConfig, train: dict, preprocess: dict, seed, device, log
):
    """Train one stage's network on the fold's items -> (model, net_cfg, losses)."""
    from tsmsnet.models.apex import ApexNetConfig
    from tsmsnet.models.interval import IntervalNetConfig
    from tsmsnet.training.train import train_apex, train_interval

    features = preprocess["features"]
    if stage == "apex":
        net_cfg = ApexNetConfig.from_sections(train, features)
        log(f"{len(items)} training videos, K={spot.K}")
        model, losses = train_apex(items, net_cfg, train, seed, device, log, K=spot.K)
    else:
        net_cfg = IntervalNetConfig.from_spot(spot, train, features)
        log(f"{len(items)} training videos, L={spot.L}")
        model, losses = train_interval(
            items, net_cfg, train, seed, device, log, clip_stride=preprocess["stage2_stride"]
        )
    return model, net_cfg, losses


def train_fold(
    stage: str,
    annotations_csv: str,
    stores: list[str],
    videos: list[str],
    held_out: str,
    spot: SpotConfig,
    train: dict,
    targets: dict,
    preprocess: dict,
    seed: int,
    device: str,
    cpu_kernels: dict,
    model_out: str,
    losses_out: str,
    used_out: str,
    log: Log,
) -> dict:
    """One fold of stage 'apex' (stage 1: apex scores regressed on window-overlap targets,
    MSE) or 'interval' (stage 2: windows of L stride-4 clips classified, balanced
    cross-entropy); writes the checkpoint, the per-epoch losses and the exact settings.

    `videos` are the fold's training videos; `train["videos"]` picks those it trains on
    (select_videos). `targets` are the reader's choices that shaped the training intervals
    (tsmsnet.datasets.target_settings). The record the checkpoint keeps (fold, the videos
    trained on, spotting config, training settings, targets, seed, the training videos' fps,
    the preprocessing record of tsmsnet.preprocess.record and the CPU kernels in effect) is
    also written, as it is, to `used_out`; returns it.

    cpu_kernels: the environment config `cpu_kernels` pins (config.cpu_kernel_pins), set
    before torch's first operation so that any x86-64 CPU trains the same bits.
    """
    from tsmsnet.training.device import pin_cpu_kernels

    if stage not in STAGES:
        raise ValueError(f"unknown training stage {stage!r}; use one of {STAGES}")
    kernels = pin_cpu_kernels(cpu_kernels, log)
    truth = read_annotations(annotations_csv)
    log(f"fold held out={held_out}, stage {stage}")
    check_no_leak(truth, videos, held_out)  # before the selection, which could hide a leak
    stores, videos = select_videos(
        truth, stores, videos, spot.type, train["videos"], NETWORKS[stage], log
    )
    items = fold_items(truth, stores, videos, held_out, spot.type)
    model, net_cfg, losses = _fit_stage(stage, items, spot, train, preprocess, seed, device, log)
    record = {
        "held_out": held_out,
        "videos": list(videos),
        "spot": spot.record(),
        "train": dict(train),
        "targets": dict(targets),
        "seed": int(seed),
        "fps": training_fps(truth, videos),
        "preprocess": preprocess,
        "cpu_kernels": kernels,
    }
    return write_fold(model_out, losses_out, used_out, model, net_cfg, losses, record)


def write_fold(model_out, losses_out, used_out, model, net_cfg, losses, record: dict) -> dict:
    """A trained fold's three outputs: the checkpoint (with `record`), the per-epoch losses and
    the record as YAML (what the rules' `used` output shows); returns the record."""
    from tsmsnet.training.train import save_checkpoint, write_losses_csv

    save_checkpoint(model_out, model, net_cfg, losses, record)
    write_losses_csv(losses_out, losses)
    atomic_text(yaml.safe_dump(record, sort_keys=True), used_out)
    return record
