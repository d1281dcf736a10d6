"""Refinement step per fold (our extension, issue 16.2): choose the boundary rule's parameters
on the training subjects, then move the held-out subject's step-2 boundaries with them.

What the search refines on the training videos: the window step 1 would propose with its peak
on each training ground truth's middle frame (`spotting.refine.training_proposals`). The
fold's own networks would be judged on the videos they trained on (near-perfect peaks, and
spotting them would cost a network pass over every training video per fold); other folds'
predictions of those subjects come from models trained on the held-out subject. The
refinement keeps the number of predictions, so F1 on a fixed set of proposals ranks the
parameters by how many ground truths the refined bounds match; the windows on the ground truth
put every training expression into the search and nothing of the held-out subject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tsmsnet.atomic import atomic_csv, atomic_json
from tsmsnet.config import SpotConfig
from tsmsnet.errors import InputError
from tsmsnet.runlog import Log


def _curve(path: str):
    """(flow-magnitude curve, first_frame, n_frames) of one stage-1 store."""
    from tsmsnet.preprocess.stores import open_store
    from tsmsnet.spotting.classical import flow_magnitude_curve

    store = open_store(path)
    return (
        flow_magnitude_curve(store),
        int(store.attrs["first_frame"]),
        int(store.attrs["n_frames"]),
    )


def training_videos(
    annotations: pd.DataFrame,
    stage1: Sequence[str],
    videos: Sequence[str],
    kind: str,
) -> list:
    """The search's material: each training video holding a ground truth of `kind`."""
    from tsmsnet.spotting.refine import TrainingVideo

    truth = annotations[annotations["type"] == kind]
    out = []
    for video, path in zip(videos, stage1, strict=True):
        rows = truth[truth["video"] == video]
        if rows.empty:
            continue
        curve, first, n_frames = _curve(path)
        intervals = rows[["onset", "offset"]].to_numpy(np.int64) - first
        out.append(TrainingVideo(curve=curve, n_frames=n_frames, truth=intervals))
    return out


def check_fold(
    annotations: pd.DataFrame, train_videos: Sequence[str], test_videos: Sequence[str], held_out
) -> None:
    """InputError if a held-out video or a row of the held-out subject is among the training
    (the latter the training step's own guard, `steps.train.check_no_leak`)."""
    from tsmsnet.steps.train import check_no_leak

    shared = sorted(set(train_videos) & set(test_videos))
    if shared:
        raise InputError(
            f"refine: training videos {', '.join(shared)} belong to held-out subject "
            f"{held_out}; the fold's training videos must leave it out"
        )
    check_no_leak(annotations, list(train_videos), held_out)


def refine_predictions(
    step2: pd.DataFrame, stage1: Sequence[str], videos: Sequence[str], K: int, params
) -> pd.DataFrame:
    """Step-2 predictions (dataset frame numbers) with each interval's bounds refined on its
    video's curve; rows, order and scores kept."""
    from tsmsnet.spotting.refine import refine_intervals

    out = step2.copy()
    paths = dict(zip(videos, stage1, strict=True))
    unknown = sorted(set(out["video"].astype(str)) - set(paths))
    if unknown:
        raise InputError(f"refine: step-2 predictions for {', '.join(unknown)} have no store")
    for video, rows in out.groupby("video", sort=False):
        curve, first, n_frames = _curve(paths[str(video)])
        items = rows[["onset", "offset", "score"]].to_numpy(np.float64)
        items[:, :2] -= first
        refined = refine_intervals(items, curve, K, params, n_frames)
        out.loc[rows.index, "onset"] = refined[:, 0].astype(np.int64) + first
        out.loc[rows.index, "offset"] = refined[:, 1].astype(np.int64) + first
    return out


def refine_fold(
    annotations_csv: str,
    train_stage1: Sequence[str],
    train_videos: Sequence[str],
    test_stage1: Sequence[str],
    test_videos: Sequence[str],
    step2_csv: str,
    spot: SpotConfig,
    settings: Mapping,
    held_out: str,
    out: str,
    record_out: str,
    log: Log,
) -> dict:
    """Choose (fraction, smoothing, reach) on the fold's training videos, refine the held-out
    step-2 predictions with them; write those and the fold's record (choice and whole grid)."""
    from tsmsnet.datasets.table import read_annotations
    from tsmsnet.spotting.refine import choose, grid

    candidates = grid(settings)
    annotations = read_annotations(annotations_csv)
    check_fold(annotations, train_videos, test_videos, held_out)
    step2 = pd.read_csv(step2_csv, dtype={"video": str})
    material = training_videos(annotations, train_stage1, train_videos, spot.type)
    if not material:
        log(
            f"WARNING: no training video holds a {spot.type} ground truth: every candidate "
            "scores 0, the first of the grid is used"
        )
    best, table = choose(material, spot.K, candidates)
    chosen = table[candidates.index(best)]
    log(
        f"{spot.name} fold {held_out}: {len(candidates)} candidates on {len(material)} training "
        f"videos ({chosen['M']} {spot.type} ground truths); chosen fraction {best.fraction}, "
        f"smoothing {best.smoothing} K ({best.window(spot.K)} samples), reach {best.reach} K "
        f"({best.reach_frames(spot.K)} frames): training F1 {chosen['F1']:.4f}"
    )
    refined = refine_predictions(step2, test_stage1, test_videos, spot.K, best)
    record = {
        "config": spot.name,
        "type": spot.type,
        "K": spot.K,
        "held_out": held_out,
        "training_videos": [str(v) for v in train_videos],
        "chosen": best.record(),
        "window_samples": best.window(spot.K),
        "reach_frames": best.reach_frames(spot.K),
        "training_score": {k: chosen[k] for k in ("N", "TP", "M", "F1")},
        "grid": table,
    }
    atomic_csv(refined, out)
    atomic_json(record, record_out)
    return record
