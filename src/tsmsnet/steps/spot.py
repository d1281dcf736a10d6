"""Spotting steps per fold: step 1 (apex scores -> proposals), step 2 (classify + merge),
the classical reference and the training-free ROI-flow spotter on the same held-out videos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tsmsnet.atomic import atomic_csv
from tsmsnet.config import SpotConfig
from tsmsnet.errors import InputError
from tsmsnet.runlog import Log

PREDICTION_COLUMNS = ["video", "type", "onset", "offset", "score"]


def _predictions(video: str, kind: str, intervals: np.ndarray, first_frame: int) -> pd.DataFrame:
    """Intervals in store-index frames -> prediction rows in the dataset's frame numbers."""
    from tsmsnet.spotting.proposals import to_frame_numbers

    rows = to_frame_numbers(intervals, first_frame) if len(intervals) else np.zeros((0, 3))
    return pd.DataFrame(
        {
            "video": video,
            "type": kind,
            "onset": rows[:, 0].astype(int),
            "offset": rows[:, 1].astype(int),
            "score": np.round(rows[:, 2].astype(float), 6),
        },
        columns=PREDICTION_COLUMNS,
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PREDICTION_COLUMNS)
    )


@dataclass(frozen=True)
class Spotted:
    """Both steps' predictions and the step-1 score curves of some videos, one config."""

    step1: pd.DataFrame
    step2: pd.DataFrame
    scores: pd.DataFrame  # video, frame, score


def load_models(paths: Sequence[str], device) -> tuple[list, list]:
    """The checkpoints of one fold or of an ensemble -> (models, payloads), in the given order."""
    from tsmsnet.training.train import load_checkpoint

    if not paths:
        raise ValueError("no checkpoints given")
    loaded = [load_checkpoint(path, device) for path in paths]
    return [m for m, _ in loaded], [p for _, p in loaded]


def check_held_out(
    paths: Sequence[str], payloads: Sequence[dict], held_out: str, videos: Sequence[str], log: Log
) -> None:
    """Say which folds spot the held-out subject; InputError for a model whose record lists
    one of its videos among its training videos (leakage)."""
    test = set(videos)
    for path, payload in zip(paths, payloads, strict=True):
        seen = sorted(test & set(payload.get("extra", {}).get("videos") or ()))
        if seen:
            raise InputError(
                f"{path} was trained on {', '.join(seen)}, a video of held-out subject "
                f"{held_out}: spot it with the models of its own fold"
            )
    folds = list(dict.fromkeys(str(p.get("extra", {}).get("held_out")) for p in payloads))
    if folds == [held_out]:
        log(f"subject {held_out}: spotted by its own fold")
    elif held_out not in folds:
        log(
            f"subject {held_out} has no fold of its own: spotted by the ensemble of "
            f"{len(folds)} folds (held out: {', '.join(folds)}), none of which trained on it"
        )
    else:
        log(f"subject {held_out}: spotted by the ensemble of folds {', '.join(folds)}")


def spot_stores(
    apex_models: Sequence[str],
    interval_models: Sequence[str],
    stage1: list[str],
    stage2: list[str],
    videos: list[str],
    spot: SpotConfig,
    stride: int,
    device: str,
    log: Log,
    block: int = 1024,
    held_out: str | None = None,
) -> Spotted:
    """Both steps of the method on the videos' feature stores, with one config's models.

    apex_models, interval_models: the checkpoints of one fold, or of every fold of an ensemble
    (stage-1 scores averaged over folds, then the usual peaks and proposals; stage-2 labels by
    majority of the folds whose stage 2 was trained, a tie keeping proposals apart).
    held_out: the subject whose videos these are (a workflow fold; `check_held_out`).
    The workflow's folds and `tsmsnet spot` (one new video) both call this.
    """
    from tsmsnet.preprocess.stores import open_store
    from tsmsnet.spotting.inference import apex_scores, classify_proposals
    from tsmsnet.spotting.merge import merge
    from tsmsnet.spotting.proposals import find_proposals
    from tsmsnet.training.device import pick_device
    from tsmsnet.training.train import was_trained

    dev = pick_device(device)
    apex, apex_payloads = load_models(apex_models, dev)
    intervals, payloads = load_models(interval_models, dev)
    if held_out is not None:
        paths = [*apex_models, *interval_models]
        check_held_out(paths, [*apex_payloads, *payloads], held_out, videos, log)
    voters = [m for m, p in zip(intervals, payloads, strict=True) if was_trained(p)]
    if not voters:
        log("WARNING: stage 2 was not trained in this fold (no positive windows): no fusion")
    elif len(voters) < len(intervals):
        log(
            f"WARNING: stage 2 was not trained in {len(intervals) - len(voters)} of "
            f"{len(intervals)} folds (no positive windows): they do not vote"
        )
    K, L, P, kind = spot.K, spot.L, spot.P, spot.type
    step1, step2, curves = [], [], []
    for video, s1_path, s2_path in zip(videos, stage1, stage2, strict=True):
        s1, s2 = open_store(s1_path), open_store(s2_path)
        first, n_frames = int(s1.attrs["first_frame"]), int(s1.attrs["n_frames"])
        scores = apex_scores(apex, s1, dev, block)
        proposals = find_proposals(scores, K, P, n_frames)
        labels = (
            classify_proposals(voters, s2, proposals, L, stride, dev, block)
            if voters
            else np.zeros(len(proposals), dtype=np.int64)
        )
        merged = merge(proposals, labels, K)
        log(
            f"{video}: {len(proposals)} proposals, {int(labels.sum())} kept by stage 2, "
            f"{len(merged)} after merge"
        )
        step1.append(_predictions(video, kind, proposals, first))
        step2.append(_predictions(video, kind, merged, first))
        curves.append(
            pd.DataFrame({"video": video, "frame": first + np.arange(len(scores)), "score": scores})
        )
    return Spotted(_concat(step1), _concat(step2), pd.concat(curves, ignore_index=True))


def spot_fold(
    apex_models: Sequence[str],
    interval_models: Sequence[str],
    stage1: list[str],
    stage2: list[str],
    test_videos: list[str],
    spot: SpotConfig,
    stride: int,
    device: str,
    cpu_kernels: dict,
    step1_out: str,
    step2_out: str,
    scores_out: str,
    log: Log,
    block: int = 1024,
    held_out: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both steps of the method on the held-out subject's videos, with that fold's models (or
    an ensemble's, as spot_stores).

    cpu_kernels: as steps.train.train_fold's (the same config), pinned before any operation.
    """
    from tsmsnet.training.device import pin_cpu_kernels

    pin_cpu_kernels(cpu_kernels, log)
    spotted = spot_stores(
        apex_models,
        interval_models,
        stage1,
        stage2,
        test_videos,
        spot,
        stride,
        device,
        log,
        block,
        held_out=held_out,
    )
    atomic_csv(spotted.step1, step1_out)
    atomic_csv(spotted.step2, step2_out)
    atomic_csv(spotted.scores, scores_out)
    return spotted.step1, spotted.step2


def classical_fold(
    stage1: list[str], test_videos: list[str], spot: SpotConfig, out: str, log: Log
) -> pd.DataFrame:
    """Reference without training: flow magnitude in the ROIs, the same peak rule as step 1."""
    from tsmsnet.preprocess.stores import open_store
    from tsmsnet.spotting.classical import flow_magnitude_curve
    from tsmsnet.spotting.proposals import find_proposals

    K, P, kind = spot.K, spot.P, spot.type
    rows = []
    for video, path in zip(test_videos, stage1, strict=True):
        store = open_store(path)
        scores = flow_magnitude_curve(store)
        proposals = find_proposals(scores, K, P, int(store.attrs["n_frames"]))
        log(f"{video}: {len(proposals)} classical proposals")
        rows.append(_predictions(video, kind, proposals, int(store.attrs["first_frame"])))
    df = _concat(rows)
    atomic_csv(df, out)
    return df


def _type_truth(truth: pd.DataFrame, video: str, kind: str, first_frame: int) -> np.ndarray:
    """(m, 2) [onset, offset] of one video's ground truth of `kind`, in store-index frames."""
    rows = truth[(truth["video"] == video) & (truth["type"] == kind)]
    return rows[["onset", "offset"]].to_numpy(dtype=np.int64).reshape(-1, 2) - first_frame


def roi_flow_fold(
    annotations: str,
    train_curves: list[str],
    test_curves: list[str],
    train_videos: list[str],
    test_videos: list[str],
    held_out: str,
    spot: SpotConfig,
    roi_flow: dict,
    out: str,
    choice: str,
    log: Log,
) -> dict:
    """Training-free ROI-flow spotter on one fold: its parameters are the grid candidate with
    the best pooled F1 on the training videos (their curves and ground truth only), then
    applied to the held-out videos. `choice` records the space, the pick and its scores."""
    from tsmsnet.atomic import atomic_json
    from tsmsnet.datasets.table import read_annotations
    from tsmsnet.preprocess.roi_curves import read_roi_curves
    from tsmsnet.spotting.roi_flow import Limits, choose_params, spot_video
    from tsmsnet.steps.train import check_no_leak

    kind = spot.type
    truth = read_annotations(annotations)
    check_no_leak(truth, train_videos, held_out)
    limits = Limits(*(float(s) for s in roi_flow["durations_s"][kind]))
    search = roi_flow["search"][kind]
    training = {}
    for video, path in zip(train_videos, train_curves, strict=True):
        curves = read_roi_curves(path)
        training[video] = (curves, _type_truth(truth, video, kind, curves.first_frame))
    result = choose_params(training, search, limits)
    log(
        f"{spot.name} without {held_out}: chose {result.best} on {len(training)} training videos "
        f"(F1 {result.scores['F1']:.4f}, best of {len(result.f1)})"
    )
    rows = []
    for video, path in zip(test_videos, test_curves, strict=True):
        curves = read_roi_curves(path)
        intervals = spot_video(curves, result.best, limits)
        log(f"{video}: {len(intervals)} ROI-flow intervals")
        rows.append(_predictions(video, kind, intervals, curves.first_frame))
    record = {
        "config": spot.name,
        "type": kind,
        "held_out": held_out,
        "train_videos": list(train_videos),
        "durations_s": [limits.min_s, limits.max_s],
        "search": {k: list(v) for k, v in search.items()},
        "chosen": result.best,
        "train_scores": result.scores,
    }
    atomic_csv(_concat(rows), out)
    atomic_json(record, choice)
    return record
