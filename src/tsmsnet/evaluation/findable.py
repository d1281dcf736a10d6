"""Findability: which ground truths an interval rule can reach at the protocol's IoU at all.

Step 1 turns every peak p into the fixed window [p-K, p+K] of w = 2K+1 frames (inclusive),
and step 2 only fuses windows, so a ground truth of g frames is found only if some window has
IoU >= 0.5 with it. With the protocol's inclusive counts, the best window either contains the
ground truth (g <= w: IoU g / w) or lies inside it (g > w: IoU w / g); so it is reachable iff
2g >= w and g <= 2w, i.e. K+1 <= g <= 4K+2 (windows clipped at a video's ends are ignored).
The window centred on the ground truth's middle frame attains that best IoU, which is what
`fixed_window` proposes; tests/test_findable.py checks both against every placement.
Any other rule (a function of the ground truth giving candidate intervals) or a set of actual
predictions is measured the same way, with the scorer's own IoU (`evaluation.megc`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from tsmsnet.errors import ConfigError, InputError
from tsmsnet.evaluation.megc import IOU_THRESHOLD, TYPES, iou_matrix, match_groups, normalise

# A rule maps one type's ground truths (normalised: video, type, onset, offset) to one
# candidate interval per ground truth, an (m, 2) array of inclusive [onset, offset].
Rule = Callable[[pd.DataFrame], np.ndarray]
TABLE_COLUMNS = ("type", "K", "M", "findable", "share", "min_frames", "max_frames")


def reach(K: int) -> tuple[int, int]:
    """(shortest, longest) ground truth, in frames, that a 2K+1 window can match at IoU 0.5."""
    if K < 0:
        raise ValueError(f"K must be non-negative, got {K}")
    return K + 1, 4 * K + 2


def best_window_iou(length, K: int) -> np.ndarray:
    """The highest IoU any 2K+1 window reaches with a ground truth of `length` frames."""
    g = np.asarray(length, dtype=np.float64)
    w = 2 * K + 1
    return np.where(g <= w, g / w, w / g)


def fixed_window_intervals(truth, K: int) -> np.ndarray:
    """(m, 2) step 1's interval at the best place: [c-K, c+K] around each (onset, offset)'s
    middle frame c."""
    truth = np.asarray(truth, dtype=np.int64).reshape(-1, 2)
    centre = (truth[:, 0] + truth[:, 1]) // 2
    return np.column_stack([centre - K, centre + K])


def fixed_window(K: int) -> Rule:
    """`fixed_window_intervals` as a rule of a ground-truth table."""
    return lambda gt: fixed_window_intervals(gt[["onset", "offset"]].to_numpy(np.int64), K)


def rule_hits(gt: pd.DataFrame, rule: Rule) -> np.ndarray:
    """(m,) bool: the rule's interval for each ground truth reaches IoU >= 0.5 with it."""
    candidates = np.asarray(rule(gt), dtype=np.int64).reshape(-1, 2)
    if len(candidates) != len(gt):
        raise ValueError(f"rule gave {len(candidates)} intervals for {len(gt)} ground truths")
    truth = gt[["onset", "offset"]].to_numpy(np.int64)
    ious = np.array([iou_matrix(t, c)[0, 0] for t, c in zip(truth, candidates, strict=True)])
    return ious >= IOU_THRESHOLD


def _count_rows(gt: pd.DataFrame, hits: np.ndarray, K: Mapping[str, int] | None) -> pd.DataFrame:
    rows = []
    for kind in TYPES:
        mask = (gt["type"] == kind).to_numpy()
        m, found = int(mask.sum()), int(hits[mask].sum())
        k = None if K is None else K.get(kind)
        low, high = reach(k) if k is not None else (None, None)
        rows.append(_row(kind, k, m, found, low, high))
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    for col in ("K", "min_frames", "max_frames"):  # integers, missing where no K applies
        table[col] = table[col].astype("Int64")
    return table


def fixed_window_table(
    ground_truth: pd.DataFrame, K: Mapping[str, int], source: str | None = None
) -> pd.DataFrame:
    """Per type: M, how many ground truths a 2K+1 window can match, their share, and the
    reachable length range; K maps each type present to its frame skip."""
    gt = normalise(ground_truth, "ground truth", source)
    missing = sorted(set(gt["type"]) - set(K))
    if missing:
        raise InputError(
            f"ground truth{f' ({source})' if source else ''} has type(s) {', '.join(missing)} "
            "but no K was given for them: add e.g. --K micro=12 macro=31"
        )
    hits = np.zeros(len(gt), dtype=bool)
    for kind, k in K.items():
        mask = (gt["type"] == kind).to_numpy()
        hits[mask] = rule_hits(gt[mask], fixed_window(int(k)))
    return _count_rows(gt, hits, K)


def rule_table(
    ground_truth: pd.DataFrame, rules: Mapping[str, Rule], source: str | None = None
) -> pd.DataFrame:
    """Per type: the share of ground truths that each type's rule can match at IoU 0.5."""
    gt = normalise(ground_truth, "ground truth", source)
    hits = np.zeros(len(gt), dtype=bool)
    for kind, rule in rules.items():
        mask = (gt["type"] == kind).to_numpy()
        hits[mask] = rule_hits(gt[mask], rule)
    return _count_rows(gt, hits, None)


def prediction_hits(
    ground_truth: pd.DataFrame,
    predictions: pd.DataFrame,
    ground_truth_source: str | None = None,
    predictions_source: str | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """(normalised ground truth, (m,) bool): which ground truths the predictions find, by the
    scorer's own matching (`evaluation.megc.match_groups`, per video and type)."""
    gt = normalise(ground_truth, "ground truth", ground_truth_source)
    pred = normalise(predictions, "predictions", predictions_source)
    hits = np.zeros(len(gt), dtype=bool)
    for _, rows, match in match_groups(gt, pred):  # normalise gives a 0..m-1 index
        hits[rows] = match.found_by >= 0
    return gt, hits


def predictions_table(
    ground_truth: pd.DataFrame,
    predictions: pd.DataFrame,
    ground_truth_source: str | None = None,
    predictions_source: str | None = None,
    K: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Per type: the share of ground truths that a given set of predicted intervals matches
    (the scorer's recall; each prediction may find several ground truths). With K, column
    `beyond_window` counts the found ones that no 2K+1 window could match: what a rule with
    variable-length intervals (step 2 refined, roi_flow) adds over fixed windows."""
    gt, hits = prediction_hits(ground_truth, predictions, ground_truth_source, predictions_source)
    table = _count_rows(gt, hits, None)
    if K is not None:
        table["K"] = pd.array([K.get(kind) for kind in TYPES], dtype="Int64")
        beyond = []
        for kind in TYPES:
            mask = (gt["type"] == kind).to_numpy()
            if kind not in K:
                beyond.append(None)
                continue
            window = rule_hits(gt[mask], fixed_window(int(K[kind])))
            beyond.append(int((hits[mask] & ~window).sum()))
        table["beyond_window"] = pd.array(beyond, dtype="Int64")
    return table


def config_K(cfg: dict, names) -> dict[str, int]:
    """{type: K} of the named spotting configs (config.yaml `configs`), one per type."""
    from tsmsnet.config import spot_config

    out: dict[str, int] = {}
    for name in names:
        spot = spot_config(cfg, name)
        if spot.type in out:
            raise ConfigError(
                f"two of the configs {list(names)} spot {spot.type}: give one per type"
            )
        out[spot.type] = spot.K
    return out


def _row(kind: str, k, m: int, found: int, low, high) -> dict:
    """One line of the findability table (share NaN where the type has no ground truth)."""
    return {
        "type": kind,
        "K": k,
        "M": m,
        "findable": found,
        "share": found / m if m else float("nan"),
        "min_frames": low,
        "max_frames": high,
    }
