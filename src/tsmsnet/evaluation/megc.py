"""The MEGC long-video spotting protocol (docs: shared/design/protocol.md), as pure functions.

A ground truth is found (TP) when at least one prediction of the same type in the same video has
IoU >= 0.5 with it; A = ground truths found, N = predictions, M = ground truths, pooled over every
video (videos with predictions only still add to N). One prediction may find several ground
truths; a second prediction on an already-found ground truth only adds to N. This reading
reproduces the published MEGC 2020 baseline scores exactly (tests/test_conformance.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tsmsnet.errors import InputError

TYPES = ("macro", "micro")
IOU_THRESHOLD = 0.5  # fixed by the MEGC protocol, not a parameter of the method
INTERVAL_COLUMNS = ("video", "type", "onset", "offset")  # apex and score are optional
GROUND_TRUTH_COLUMNS = PREDICTION_COLUMNS = INTERVAL_COLUMNS
METRIC_KEYS = ("N", "TP", "M", "FP", "FN", "precision", "recall", "F1")
PER_VIDEO_COLUMNS = (
    "video",
    "type",
    "N",
    "M",
    "TP",
    "FP",
    "FN",
    "matched",
    "unmatched_gt",
    "unmatched_pred",
)


def iou(a_on: int, a_off: int, b_on: int, b_off: int) -> float:
    """Intersection over union of two inclusive frame intervals, counted in frames."""
    inter = max(0, min(a_off, b_off) - max(a_on, b_on) + 1)
    union = (a_off - a_on + 1) + (b_off - b_on + 1) - inter
    return inter / union


def iou_matrix(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(m, n) IoU of every ground truth (rows) with every prediction (columns), vectorised."""
    gt = np.asarray(gt, dtype=np.int64).reshape(-1, 2)
    pred = np.asarray(pred, dtype=np.int64).reshape(-1, 2)
    g_on, g_off = gt[:, :1], gt[:, 1:]
    p_on, p_off = pred[:, 0][None, :], pred[:, 1][None, :]
    inter = np.maximum(0, np.minimum(g_off, p_off) - np.maximum(g_on, p_on) + 1)
    union = (g_off - g_on + 1) + (p_off - p_on + 1) - inter
    return inter / union


@dataclass(frozen=True)
class VideoMatch:
    """Who found what in one video and type; indices refer to the input order.

    `found_by[i]` is the prediction credited with ground truth i (highest IoU, ties to the
    earliest prediction in time) or -1; `iou[i]` is that IoU (0 when not found).
    """

    gt: np.ndarray
    pred: np.ndarray
    found_by: np.ndarray
    iou: np.ndarray

    @property
    def n(self) -> int:
        return len(self.pred)

    @property
    def m(self) -> int:
        return len(self.gt)

    @property
    def tp(self) -> int:
        return int((self.found_by >= 0).sum())

    @property
    def pairs(self) -> list[tuple[int, int, float]]:
        """(gt index, prediction index, IoU) for every found ground truth, in gt order."""
        return [(i, int(j), float(self.iou[i])) for i, j in enumerate(self.found_by) if j >= 0]

    @property
    def unmatched_gt(self) -> list[int]:
        return [i for i, j in enumerate(self.found_by) if j < 0]

    @property
    def unmatched_pred(self) -> list[int]:
        """Predictions credited with no ground truth (duplicates on a found one included)."""
        credited = set(int(j) for j in self.found_by if j >= 0)
        return [j for j in range(self.n) if j not in credited]


def match_video(gt_intervals, pred_intervals) -> VideoMatch:
    """Match one video's ground truths and predictions of one type (inclusive [on, off])."""
    gt = np.asarray(gt_intervals, dtype=np.int64).reshape(-1, 2)
    pred = np.asarray(pred_intervals, dtype=np.int64).reshape(-1, 2)
    found_by = np.full(len(gt), -1, dtype=np.int64)
    best = np.zeros(len(gt), dtype=np.float64)
    if len(gt) and len(pred):
        order = np.lexsort((np.arange(len(pred)), pred[:, 1], pred[:, 0]))
        ious = iou_matrix(gt, pred[order])
        col = ious.argmax(axis=1)  # first maximum: earliest prediction in time wins a tie
        best_iou = ious[np.arange(len(gt)), col]
        hit = best_iou >= IOU_THRESHOLD
        found_by[hit] = order[col[hit]]
        best[hit] = best_iou[hit]
    return VideoMatch(gt=gt, pred=pred, found_by=found_by, iou=best)


def scores(n: int, tp: int, m: int) -> dict:
    """The protocol's numbers from pooled counts; precision/recall 0 when undefined."""
    precision = tp / n if n else 0.0
    recall = tp / m if m else 0.0
    total = precision + recall
    f1 = 2 * precision * recall / total if total else 0.0
    return {
        "N": int(n),
        "TP": int(tp),
        "M": int(m),
        "FP": int(n - tp),
        "FN": int(m - tp),
        "precision": float(precision),
        "recall": float(recall),
        "F1": float(f1),
    }


def check_columns(df: pd.DataFrame, required, what: str, source: str | None = None) -> None:
    """Fail with the missing column names (and the file when known) before anything else."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        where = f" ({source})" if source else ""
        raise InputError(
            f"{what}{where} lacks column(s) {', '.join(missing)}; "
            f"needs {', '.join(required)}, has {', '.join(map(str, df.columns)) or 'none'}"
        )


def normalise(df: pd.DataFrame, what: str, source: str | None = None) -> pd.DataFrame:
    """video, type, onset, offset with checked values: str ids, known types, int bounds."""
    check_columns(df, INTERVAL_COLUMNS, what, source)
    where = f" ({source})" if source else ""
    out = pd.DataFrame(
        {
            "video": df["video"].astype(str).to_numpy(dtype=object),
            "type": df["type"].astype(str).str.strip().to_numpy(dtype=object),
        }
    )
    bad_types = sorted(set(out["type"]) - set(TYPES))
    if bad_types:
        raise InputError(f"{what}{where}: unknown type(s) {bad_types}; expected macro or micro")
    for col in ("onset", "offset"):
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values) | (values != np.round(values))
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise InputError(f"{what}{where}: column {col} is not an integer in row(s) {rows}")
        out[col] = values.astype(np.int64)
    reversed_rows = np.flatnonzero(out["onset"].to_numpy() > out["offset"].to_numpy())
    if len(reversed_rows):
        raise InputError(f"{what}{where}: onset > offset in row(s) {reversed_rows[:5].tolist()}")
    return out


def _fmt(interval) -> str:
    return f"{int(interval[0])}-{int(interval[1])}"


def _describe(match: VideoMatch) -> dict:
    """Readable strings for the per-video log."""
    return {
        "matched": "; ".join(
            f"{_fmt(match.gt[i])} by {_fmt(match.pred[j])} (IoU {v:.3f})" for i, j, v in match.pairs
        ),
        "unmatched_gt": "; ".join(_fmt(match.gt[i]) for i in match.unmatched_gt),
        "unmatched_pred": "; ".join(_fmt(match.pred[j]) for j in match.unmatched_pred),
    }


def match_groups(gt: pd.DataFrame, pred: pd.DataFrame):
    """Yield, for every (video, type) in either normalised table in sorted order: the key, the
    ground-truth rows' index labels in the order matched (onset, offset) and their VideoMatch.
    The one grouping behind the per-video log and the per-ground-truth hits of findability."""
    gt_groups = dict(list(gt.groupby(["video", "type"], sort=False)))
    pred_groups = dict(list(pred.groupby(["video", "type"], sort=False)))
    empty, bounds = gt.iloc[:0], ["onset", "offset"]
    for key in sorted(set(gt_groups) | set(pred_groups)):
        truth = gt_groups.get(key, empty).sort_values(bounds, kind="stable")
        found = pred_groups.get(key, empty).sort_values(bounds, kind="stable")
        yield (
            key,
            truth.index.to_numpy(),
            match_video(truth[bounds].to_numpy(), found[bounds].to_numpy()),
        )


def per_video(
    ground_truth_df: pd.DataFrame,
    predictions_df: pd.DataFrame,
    *,
    ground_truth_source: str | None = None,
    predictions_source: str | None = None,
) -> pd.DataFrame:
    """One row per (video, type) present in either table: counts and readable matches.

    FP = N - TP as the protocol defines it; in one video it can be negative when a prediction
    finds several overlapping ground truths (pooled over a dataset it practically never is).
    """
    gt = normalise(ground_truth_df, "ground truth", ground_truth_source)
    pred = normalise(predictions_df, "predictions", predictions_source)
    rows = []
    for key, _, match in match_groups(gt, pred):
        counts = scores(match.n, match.tp, match.m)
        row = {"video": key[0], "type": key[1]}
        row.update({k: counts[k] for k in ("N", "M", "TP", "FP", "FN")})
        row.update(_describe(match))
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(PER_VIDEO_COLUMNS))
    for col in ("N", "M", "TP", "FP", "FN"):
        table[col] = table[col].astype(np.int64)
    return table


def summarize(per_video_df: pd.DataFrame) -> dict:
    """Pool per-video counts into {macro, micro, overall} (overall pools N, TP, M of both)."""
    result = {}
    for kind in TYPES:
        part = per_video_df[per_video_df["type"] == kind]
        result[kind] = scores(part["N"].sum(), part["TP"].sum(), part["M"].sum())
    result["overall"] = scores(
        sum(result[k]["N"] for k in TYPES),
        sum(result[k]["TP"] for k in TYPES),
        sum(result[k]["M"] for k in TYPES),
    )
    return result


def evaluate(
    ground_truth_df: pd.DataFrame,
    predictions_df: pd.DataFrame,
    *,
    ground_truth_source: str | None = None,
    predictions_source: str | None = None,
) -> dict:
    """Score predictions against ground truth: {macro, micro, overall} of METRIC_KEYS.

    The *_source names (file paths) only make error messages point at the right file.
    """
    table = per_video(
        ground_truth_df,
        predictions_df,
        ground_truth_source=ground_truth_source,
        predictions_source=predictions_source,
    )
    return summarize(table)
