"""Training steps: one leave-one-subject-out fold of stage 1 or stage 2.

The fold receives only its training videos' stores and labels; the held-out subject is
named for the record and checked absent (the leak guard), never read.
"""

from __future__ import annotations

import pandas as pd
import yaml

from tsmsnet.atomic import atomic_text
from tsmsnet.config import SpotConfig
from tsmsnet.datasets.table import read_annotations
from tsmsnet.errors import InputError
from tsmsnet.runlog import Log

STAGES = ("apex", "interval")


def check_no_leak(truth: pd.DataFrame, videos: list[str], held_out: str) -> None:
    """InputError if a training video belongs to the held-out subject."""
    leaked = truth.loc[truth["video"].isin(videos) & (truth["subject"] == held_out), "video"]
    if len(leaked):
        raise InputError(
            f"held-out subject {held_out} is in the training videos: {sorted(set(leaked))}"
        )


def fold_items(
    truth: pd.DataFrame, stores: list[str], videos: list[str], held_out: str, kind: str
) -> list[tuple[str, list[tuple[int, int]]]]:
    """(store, intervals of `kind` in store-index frames) for each training video."""
    from tsmsnet.preprocess.stores import open_store

    check_no_leak(truth, videos, held_out)
    truth = truth[truth["type"] == kind]
    items = []
    for video, store in zip(videos, stores, strict=True):
        first = int(open_store(store).attrs["first_frame"])
        rows = truth[truth["video"] == video]
        intervals = [
            (int(a) - first, int(b) - first)
            for a, b in zip(rows["onset"], rows["offset"], strict=True)
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
        net_cfg = IntervalNetConfig.from_spot(spot, features)
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

    cpu_kernels: the environment config `cpu_kernels` pins (config.cpu_kernel_pins), set
    before torch's first operation so that any x86-64 CPU trains the same bits.

    The record the checkpoint keeps (fold, spotting config, training settings, seed, the
    training videos' fps, the preprocessing record of tsmsnet.preprocess.record and the CPU
    kernels in effect) is also written, as it is, to `used_out`; returns it.
    """
    from tsmsnet.training.device import pin_cpu_kernels
    from tsmsnet.training.train import save_checkpoint, write_losses_csv

    if stage not in STAGES:
        raise ValueError(f"unknown training stage {stage!r}; use one of {STAGES}")
    kernels = pin_cpu_kernels(cpu_kernels, log)
    truth = read_annotations(annotations_csv)
    items = fold_items(truth, stores, videos, held_out, spot.type)
    log(f"fold held out={held_out}, stage {stage}")
    model, net_cfg, losses = _fit_stage(stage, items, spot, train, preprocess, seed, device, log)
    record = {
        "held_out": held_out,
        "videos": list(videos),
        "spot": spot.record(),
        "train": dict(train),
        "seed": int(seed),
        "fps": training_fps(truth, videos),
        "preprocess": preprocess,
        "cpu_kernels": kernels,
    }
    save_checkpoint(model_out, model, net_cfg, losses, record)
    write_losses_csv(losses_out, losses)
    atomic_text(yaml.safe_dump(record, sort_keys=True), used_out)
    return record
