"""Training steps: one leave-one-subject-out fold of stage 1 or stage 2.

The fold receives only its training videos' stores and labels; the held-out subject is
named for the record and checked absent, never read.
"""

from __future__ import annotations

import pandas as pd
import yaml

from tsmsnet.errors import InputError
from tsmsnet.runlog import Log
from tsmsnet.steps.files import atomic_text


def fold_items(
    annotations_csv: str, stores: list[str], videos: list[str], held_out: str, kind: str
) -> list[tuple[str, list[tuple[int, int]]]]:
    """(store, intervals of `kind` in store-index frames) for each training video."""
    from tsmsnet.preprocess.stores import open_store

    truth = pd.read_csv(annotations_csv, dtype={"video": str, "subject": str})
    leaked = truth.loc[truth["video"].isin(videos) & (truth["subject"] == held_out), "video"]
    if len(leaked):
        raise InputError(f"held-out subject {held_out} is in the training videos: {list(leaked)}")
    truth = truth[truth["type"] == kind]
    items = []
    for video, store in zip(videos, stores, strict=True):
        first = int(open_store(store).attrs["first_frame"])
        rows = truth[truth["video"] == video]
        items.append(
            (
                store,
                [
                    (int(a) - first, int(b) - first)
                    for a, b in zip(rows["onset"], rows["offset"], strict=True)
                ],
            )
        )
    return items


def training_fps(annotations_csv: str, videos: list[str]) -> float | None:
    """Frame rate of the fold's training videos (annotations.csv has it per row).

    None when they have no rows or differ: `tsmsnet spot` then cannot check a new video's fps.
    """
    truth = pd.read_csv(annotations_csv, dtype={"video": str, "subject": str})
    if "fps" not in truth.columns:
        return None
    values = sorted({float(v) for v in truth.loc[truth["video"].isin(videos), "fps"].dropna()})
    return values[0] if len(values) == 1 else None


def preprocess_record(
    face_size: int,
    landmarks: dict,
    flow: dict,
    features: dict,
    stage2_stride: int | None = None,
) -> dict:
    """The preprocessing a model's inputs went through, so new videos get the same."""
    record = {
        "face_size": int(face_size),
        "landmarks": dict(landmarks),
        "flow": {"method": flow["method"], "params": dict(flow["params"])},
        "features": dict(features),
    }
    if stage2_stride is not None:
        record["stage2_stride"] = int(stage2_stride)
    return record


def _extra(
    annotations_csv: str, videos: list[str], held_out: str, spot: dict, seed: int, preprocess: dict
) -> dict:
    """What a checkpoint records besides its weights: the fold, and what inference must match."""
    return {
        "held_out": held_out,
        "videos": videos,
        "spot": spot,
        "seed": seed,
        "fps": training_fps(annotations_csv, videos),
        "preprocess": preprocess,
    }


def _record(used_out: str, **sections) -> None:
    """The exact settings a fold was trained with, beside its checkpoint."""
    atomic_text(yaml.safe_dump(sections, sort_keys=True), used_out)


def _fit_stage(
    stage: str, items, spot: dict, train: dict, features: dict, stride, seed, device, log
):
    """Train one stage's network on the fold's items -> (model, net_cfg, losses)."""
    from tsmsnet.models.apex import ApexNetConfig
    from tsmsnet.models.interval import IntervalNetConfig
    from tsmsnet.training.train import train_apex, train_interval

    if stage == "apex":
        net_cfg = ApexNetConfig.from_sections(train, features)
        log(f"{len(items)} training videos, K={spot['K']}")
        model, losses = train_apex(items, net_cfg, train, seed, device, log, K=int(spot["K"]))
    elif stage == "interval":
        net_cfg = IntervalNetConfig.from_sections(spot, features)
        log(f"{len(items)} training videos, L={spot['L']}")
        model, losses = train_interval(
            items, net_cfg, train, seed, device, log, clip_stride=int(stride)
        )
    else:
        raise ValueError(f"unknown training stage {stage!r}; use 'apex' or 'interval'")
    return model, net_cfg, losses


def train_fold(
    stage: str,
    annotations_csv: str,
    stores: list[str],
    videos: list[str],
    held_out: str,
    spot: dict,
    train: dict,
    features: dict,
    face_size: int,
    landmarks: dict,
    flow: dict,
    seed: int,
    device: str,
    model_out: str,
    losses_out: str,
    used_out: str,
    log: Log,
    stride: int | None = None,
) -> None:
    """One fold of stage 'apex' (stage 1: apex scores regressed on window-overlap targets,
    MSE) or 'interval' (stage 2: windows of L stride-`stride` clips classified, balanced
    cross-entropy); writes the checkpoint, the per-epoch losses and the exact settings.

    face_size, landmarks, flow, features (and stride) are recorded in the checkpoint with the
    training videos' fps, so `tsmsnet spot` preprocesses a new video the same way.
    """
    from tsmsnet.training.train import save_checkpoint, write_losses_csv

    items = fold_items(annotations_csv, stores, videos, held_out, spot["type"])
    log(f"fold held out={held_out}, stage {stage}")
    model, net_cfg, losses = _fit_stage(
        stage, items, spot, train, features, stride, seed, device, log
    )
    preprocess = preprocess_record(face_size, landmarks, flow, features, stage2_stride=stride)
    extra = _extra(annotations_csv, videos, held_out, spot, seed, preprocess)
    save_checkpoint(model_out, model, net_cfg, train, losses, extra)
    write_losses_csv(losses_out, losses)
    record = {} if stride is None else {"stride": stride}
    _record(
        used_out,
        spot=spot,
        train=train,
        features=dict(features),
        seed=seed,
        held_out=held_out,
        videos=videos,
        fps=extra["fps"],
        preprocess=preprocess,
        **record,
    )
