"""Spot-then-recognise (STR) scoring, as pure functions (../shared/design/str.md, "The STR
evaluation"): STRS = spotting F1 of the micro-expressions x analysis F1 of their classes.

1. Spotting, micro rows only: per video, predictions in onset order each take the
   not-yet-matched ground truth with the highest inclusive-frame IoU (`megc.iou_matrix`); IoU
   >= 0.5 makes a TP pair, else an FP; unmatched ground truths are FN; pooled over all videos,
   F1 = 2TP / (2TP + FP + FN) (`megc.scores`).
2. Recognition on the TP pairs only, pooled before any metric; pairs whose ground truth is
   `others` are left out unless `include_others`.
3. Per class of the FIXED list: TP_c, FP_c, FN_c, P_c, R_c, F1_c with 0/0 = 0; UF1 = mean F1_c,
   UAR = mean R_c, analysis F1 = 2PR / (P + R) with P, R the class means.
MEAN's variants (best-ground-truth-only matching, videos without micro-expressions dropped,
absent classes skipped) are options; config.yaml `str` holds the defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from tsmsnet.errors import ConfigError, InputError
from tsmsnet.evaluation.megc import IOU_THRESHOLD, check_columns, iou_matrix, normalise, scores

MATCHINGS = ("one_to_one", "best_only")
GROUND_TRUTH_COLUMNS = ("video", "type", "onset", "offset", "emotion")
PREDICTION_COLUMNS = ("video", "onset", "offset")  # + emotion or class; type optional (micro)
CLASS_COLUMNS = ("emotion", "class")
PAIR_COLUMNS = ("video", "gt_onset", "gt_offset", "gt_emotion", "onset", "offset", "emotion", "iou")
VIDEO_COLUMNS = ("video", "N", "M", "TP", "FP", "FN")
CLASS_KEYS = ("TP", "FP", "FN", "precision", "recall", "F1")
ORDER = ["onset", "offset", "emotion"]  # the order predictions meet ground truths in


@dataclass(frozen=True)
class StrOptions:
    """The class list and MEAN's variants (config.yaml `str`; str.md's choices by default)."""

    classes: tuple[str, ...] = ("negative", "positive", "surprise")
    others: str = "others"
    include_others: bool = False
    matching: str = "one_to_one"
    drop_videos_without_micro: bool = False
    skip_absent_classes: bool = False

    def __post_init__(self):
        classes = tuple(_label(c) for c in self.classes)
        object.__setattr__(self, "classes", classes)
        object.__setattr__(self, "others", _label(self.others))
        if not classes or len(set(classes)) != len(classes):
            raise ConfigError(f"str.classes must be distinct labels; got {list(classes)}")
        if self.others in classes:
            raise ConfigError(f"str.others ({self.others}) must not be one of str.classes")
        if self.matching not in MATCHINGS:
            raise ConfigError(f"str.matching is {self.matching!r}; expected one of {MATCHINGS}")

    @classmethod
    def from_config(cls, cfg: dict, **overrides) -> StrOptions:
        """From config.yaml's `str` section; keyword overrides that are not None win."""
        if "str" not in cfg:
            raise ConfigError("the config has no `str` section (config.yaml's lists its keys)")
        section = {**cfg["str"], **{k: v for k, v in overrides.items() if v is not None}}
        section["classes"] = tuple(section["classes"])
        return cls(**section)

    @property
    def scored_classes(self) -> tuple[str, ...]:
        """The classes recognition is scored over: the list, plus others when included."""
        return (*self.classes, self.others) if self.include_others else self.classes

    def record(self) -> dict:
        """Plain data for str.json."""
        return {**asdict(self), "classes": list(self.classes)}


def _label(value) -> str:
    return str(value).strip().casefold()


def _where(source: str | None) -> str:
    return f" ({source})" if source else ""


def _labels(
    df: pd.DataFrame, column: str, rows: np.ndarray, options: StrOptions, what: str, source
) -> np.ndarray:
    """Case-folded class labels of `rows`; a missing or unknown one is an error naming its rows
    (0 = the first data row of the file, as `megc.normalise` counts them)."""
    allowed = (*options.classes, options.others)
    values = df[column].reset_index(drop=True)
    labels = np.array([_label(v) for v in values], dtype=object)
    bad = rows & (values.isna().to_numpy() | ~np.isin(labels, list(allowed)))
    if bad.any():
        found = sorted({str(v) for v in values[bad]})[:5]
        raise InputError(
            f"{what}{_where(source)}: column {column} has no or an unknown class in row(s) "
            f"{np.flatnonzero(bad)[:5].tolist()} ({', '.join(found)}); expected one of "
            f"{', '.join(allowed)}"
        )
    return labels[rows]


def _micro(df: pd.DataFrame, column: str, options: StrOptions, what: str, source) -> pd.DataFrame:
    """video, onset, offset, emotion of the micro rows of a checked table."""
    table = normalise(df, what, source)
    micro = (table["type"] == "micro").to_numpy()
    out = table[micro].drop(columns="type").reset_index(drop=True)
    out["emotion"] = pd.Series(_labels(df, column, micro, options, what, source), dtype=object)
    return out


def ground_truth_micro(
    df: pd.DataFrame, options: StrOptions, source: str | None = None
) -> pd.DataFrame:
    """The micro rows of an annotation table: video, onset, offset, emotion (checked labels).

    Macro rows need no emotion.
    """
    check_columns(df, GROUND_TRUTH_COLUMNS, "ground truth", source)
    return _micro(df, "emotion", options, "ground truth", source)


def predictions_micro(
    df: pd.DataFrame, options: StrOptions, source: str | None = None
) -> pd.DataFrame:
    """Predicted micro-expressions: video, onset, offset, emotion (from `emotion` or `class`).

    Without a type column every row is a micro-expression (an STR submission file).
    """
    column = next((c for c in CLASS_COLUMNS if c in df.columns), "emotion")
    check_columns(df, (*PREDICTION_COLUMNS, column), "predictions", source)
    df = df.reset_index(drop=True)
    if "type" not in df.columns:
        df = df.assign(type="micro")
    return _micro(df, column, options, "predictions", source)


def match_video(gt, pred, matching: str = "one_to_one") -> list[tuple[int, int, float]]:
    """(gt index, prediction index, IoU) of the TP pairs of one video.

    Predictions go in onset order (then offset, then input order). one_to_one: each takes the
    not-yet-matched ground truth with the highest IoU (a tie: the first in the input; `spot`
    gives them in onset order); best_only: each looks only at its best ground truth among all
    and scores if that one is still free (MEAN).
    """
    gt = np.asarray(gt, dtype=np.int64).reshape(-1, 2)
    pred = np.asarray(pred, dtype=np.int64).reshape(-1, 2)
    if not len(gt) or not len(pred):
        return []
    ious = iou_matrix(gt, pred)
    free = np.ones(len(gt), dtype=bool)
    pairs = []
    for j in np.lexsort((np.arange(len(pred)), pred[:, 1], pred[:, 0])):
        column = np.where(free, ious[:, j], -1.0) if matching == "one_to_one" else ious[:, j]
        i = int(column.argmax())
        if free[i] and ious[i, j] >= IOU_THRESHOLD:
            free[i] = False
            pairs.append((i, int(j), float(ious[i, j])))
    return pairs


@dataclass(frozen=True)
class Spotting:
    """STR spotting of a dataset: the TP pairs and the per-video counts they come from."""

    pairs: pd.DataFrame  # PAIR_COLUMNS, sorted by video and ground-truth onset
    per_video: pd.DataFrame  # VIDEO_COLUMNS, one row per video scored

    def scores(self) -> dict:
        """Pooled N, TP, M, FP, FN, precision, recall, F1 (= 2TP / (2TP + FP + FN))."""
        total = self.per_video[["N", "TP", "M"]].sum()
        return scores(int(total["N"]), int(total["TP"]), int(total["M"]))


def spot(gt: pd.DataFrame, pred: pd.DataFrame, options: StrOptions) -> Spotting:
    """Match checked micro tables (`ground_truth_micro`, `predictions_micro`) video by video."""
    videos = set(gt["video"])
    if not options.drop_videos_without_micro:
        videos |= set(pred["video"])
    gt_groups = dict(list(gt.groupby("video", sort=False)))
    pred_groups = dict(list(pred.groupby("video", sort=False)))
    empty = gt.iloc[:0]
    pairs, rows = [], []
    for video in sorted(videos):
        # Sorted by interval, then class, so the row order of the files cannot change a score
        # (two predictions of one interval with different classes meet a ground truth in a
        # fixed order).
        g = gt_groups.get(video, empty).sort_values(ORDER, kind="stable")
        p = pred_groups.get(video, pred.iloc[:0]).sort_values(ORDER, kind="stable")
        found = match_video(g[["onset", "offset"]], p[["onset", "offset"]], options.matching)
        for i, j, value in found:
            a, b = g.iloc[i], p.iloc[j]
            pairs.append(
                (video, a["onset"], a["offset"], a["emotion"], b["onset"], b["offset"],
                 b["emotion"], value)
            )  # fmt: skip
        tp = len(found)
        rows.append((video, len(p), len(g), tp, len(p) - tp, len(g) - tp))
    pair_table = pd.DataFrame(pairs, columns=list(PAIR_COLUMNS))
    video_table = pd.DataFrame(rows, columns=list(VIDEO_COLUMNS))
    integers = (
        (pair_table, ("gt_onset", "gt_offset", "onset", "offset")),
        (video_table, VIDEO_COLUMNS[1:]),
    )
    for table, columns in integers:
        for col in columns:
            table[col] = table[col].astype(np.int64)
    pair_table["iou"] = pair_table["iou"].astype(np.float64)
    pair_table = pair_table.sort_values(list(PAIR_COLUMNS[:-1]), ignore_index=True)
    return Spotting(pair_table, video_table)


def scored_pairs(pairs: pd.DataFrame, options: StrOptions) -> pd.DataFrame:
    """The TP pairs recognition is scored on: without `others` ground truths by default."""
    if options.include_others:
        return pairs
    return pairs[pairs["gt_emotion"] != options.others].reset_index(drop=True)


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def class_counts(true, predicted, classes) -> dict[str, dict]:
    """Per class: TP_c, FP_c, FN_c over (true, predicted) pairs, P_c, R_c, F1_c (0/0 = 0)."""
    true = np.asarray(true, dtype=object)
    predicted = np.asarray(predicted, dtype=object)
    out = {}
    for c in classes:
        tp = int(((true == c) & (predicted == c)).sum())
        fp = int(((true != c) & (predicted == c)).sum())
        fn = int(((true == c) & (predicted != c)).sum())
        out[c] = {
            "TP": tp,
            "FP": fp,
            "FN": fn,
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "F1": _ratio(2 * tp, 2 * tp + fp + fn),
        }
    return out


def recognition(pairs: pd.DataFrame, options: StrOptions) -> dict:
    """Per-class scores, UF1, UAR and analysis F1 of the scored pairs (pooled).

    The means run over every class of the list (absent ones as 0) unless skip_absent_classes,
    which leaves out classes with TP_c + FP_c + FN_c = 0 (MEAN's own code).
    """
    used = scored_pairs(pairs, options)
    per_class = class_counts(used["gt_emotion"], used["emotion"], options.scored_classes)
    counted = [
        c
        for c, v in per_class.items()
        if not options.skip_absent_classes or v["TP"] + v["FP"] + v["FN"]
    ]
    mean = {
        key: float(np.mean([per_class[c][key] for c in counted])) if counted else 0.0
        for key in ("precision", "recall", "F1")
    }
    p, r = mean["precision"], mean["recall"]
    return {
        "classes": list(options.scored_classes),
        "pairs": len(used),
        "per_class": per_class,
        "UF1": mean["F1"],
        "UAR": r,
        "precision": p,
        "recall": r,
        "F1": 2 * p * r / (p + r) if p + r else 0.0,
    }


@dataclass(frozen=True)
class StrResult:
    """Everything one STR evaluation finds: the str.json metrics and the tables behind them."""

    options: StrOptions
    spotting: Spotting
    metrics: dict


def evaluate_str(
    ground_truth_df: pd.DataFrame,
    predictions_df: pd.DataFrame,
    options: StrOptions | None = None,
    *,
    ground_truth_source: str | None = None,
    predictions_source: str | None = None,
) -> StrResult:
    """Score predictions with classes against an annotation table (both checked first)."""
    options = options or StrOptions()
    gt = ground_truth_micro(ground_truth_df, options, ground_truth_source)
    pred = predictions_micro(predictions_df, options, predictions_source)
    spotted = spot(gt, pred, options)
    return StrResult(options, spotted, str_metrics(spotted, options))


def str_metrics(spotted: Spotting, options: StrOptions) -> dict:
    """The str.json content: spotting counts and F1, recognition scores, STRS, the options."""
    spotting = spotted.scores()
    analysis = recognition(spotted.pairs, options)
    return {
        "spotting": spotting,
        "recognition": analysis,
        "STRS": spotting["F1"] * analysis["F1"],
        "options": options.record(),
    }


def confusion_table(pairs: pd.DataFrame, options: StrOptions) -> pd.DataFrame:
    """Counts of the scored pairs: rows the true class, columns the predicted class.

    Columns are the scored classes plus `others` when that is not one of them (a pair
    predicted as others then still shows), so every scored pair is counted once.
    """
    used = scored_pairs(pairs, options)
    rows = list(options.scored_classes)
    columns = rows if options.others in rows else [*rows, options.others]
    counts = used.groupby(["gt_emotion", "emotion"]).size()
    table = pd.DataFrame(
        [[int(counts.get((t, p), 0)) for p in columns] for t in rows],
        index=pd.Index(rows, name="true"),
        columns=pd.Index(columns, name="predicted"),
        dtype=np.int64,
    )
    return table


__all__ = [
    "StrOptions",
    "StrResult",
    "Spotting",
    "class_counts",
    "confusion_table",
    "evaluate_str",
    "ground_truth_micro",
    "match_video",
    "predictions_micro",
    "recognition",
    "scored_pairs",
    "spot",
    "str_metrics",
]
