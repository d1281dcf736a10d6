"""Hand-made cases of the MEGC protocol with exact expected counts."""

import numpy as np
import pandas as pd
import pytest

from tsmsnet.errors import InputError
from tsmsnet.evaluation.megc import evaluate, iou, match_video, per_video, scores


def gt_table(*rows):
    return pd.DataFrame(rows, columns=["video", "type", "onset", "apex", "offset"])


def pred_table(*rows):
    return pd.DataFrame(rows, columns=["video", "type", "onset", "offset"])


def gt(video, kind, on, off):
    return (video, kind, on, (on + off) // 2, off)


def counts(block):
    return block["N"], block["TP"], block["M"], block["FP"], block["FN"]


def test_iou_counts_frames_inclusively():
    assert iou(0, 9, 0, 4) == 0.5  # inter 5, union 10
    assert iou(3, 3, 3, 3) == 1.0
    assert iou(0, 9, 10, 19) == 0.0
    assert iou(0, 9, 9, 18) == pytest.approx(1 / 19)


def test_iou_exactly_half_is_a_hit_and_just_below_is_not():
    truth = gt_table(gt("v1", "macro", 0, 9), gt("v1", "macro", 100, 109))
    pred = pred_table(("v1", "macro", 0, 4), ("v1", "macro", 100, 103))  # 0.5 and 0.4
    result = evaluate(truth, pred)
    assert counts(result["macro"]) == (2, 1, 2, 1, 1)
    assert result["macro"]["precision"] == 0.5
    assert result["macro"]["F1"] == 0.5


def test_duplicate_prediction_only_adds_to_n():
    truth = gt_table(gt("v1", "micro", 10, 20))
    pred = pred_table(("v1", "micro", 10, 20), ("v1", "micro", 11, 20), ("v1", "micro", 10, 20))
    assert counts(evaluate(truth, pred)["micro"]) == (3, 1, 1, 2, 0)


def test_one_prediction_finds_two_overlapping_ground_truths():
    # As in CAS(ME)^2 s16_0102: needed to reproduce the published MEGC 2020 numbers.
    truth = gt_table(gt("v1", "macro", 173, 248), gt("v1", "macro", 187, 240))
    pred = pred_table(("v1", "macro", 183, 220))
    result = evaluate(truth, pred)["macro"]
    assert (result["N"], result["TP"], result["M"]) == (1, 2, 2)


def test_types_and_videos_are_kept_apart():
    truth = gt_table(gt("v1", "macro", 0, 30), gt("v2", "micro", 0, 10))
    pred = pred_table(("v1", "micro", 0, 30), ("v1", "macro", 0, 10), ("v2", "micro", 0, 10))
    result = evaluate(truth, pred)
    assert counts(result["macro"]) == (1, 0, 1, 1, 1)  # v1 macro pred [0,10]: IoU 11/31
    assert counts(result["micro"]) == (2, 1, 1, 1, 0)
    assert counts(result["overall"]) == (3, 1, 2, 2, 1)


def test_prediction_only_videos_and_empty_inputs_count():
    truth = gt_table(gt("v1", "macro", 0, 9))
    pred = pred_table(("v1", "macro", 0, 9), ("v9", "macro", 0, 9), ("v9", "micro", 5, 8))
    result = evaluate(truth, pred)
    assert counts(result["macro"]) == (2, 1, 1, 1, 0)
    assert counts(result["micro"]) == (1, 0, 0, 1, 0)
    assert result["micro"]["F1"] == 0.0

    nothing = evaluate(truth, pred_table())
    assert counts(nothing["macro"]) == (0, 0, 1, 0, 1)
    assert nothing["overall"]["precision"] == 0.0 and nothing["overall"]["F1"] == 0.0
    assert counts(evaluate(gt_table(), pred)["overall"]) == (3, 0, 0, 3, 0)
    assert counts(evaluate(gt_table(), pred_table())["overall"]) == (0, 0, 0, 0, 0)


def test_overall_pools_counts_not_f1():
    truth = gt_table(gt("v", "macro", 0, 9), gt("v", "micro", 50, 55), gt("v", "micro", 70, 75))
    pred = pred_table(("v", "macro", 0, 9), ("v", "micro", 50, 55), ("v", "micro", 200, 205))
    result = evaluate(truth, pred)
    assert result["overall"] == scores(3, 2, 3)
    assert result["overall"]["F1"] == pytest.approx(2 / 3)


def test_match_video_records_best_prediction_and_unmatched():
    match = match_video([[0, 9], [40, 49], [80, 89]], [[2, 9], [0, 9], [60, 65], [0, 8]])
    assert match.n == 4 and match.m == 3 and match.tp == 1
    assert match.pairs == [(0, 1, 1.0)]
    assert match.unmatched_gt == [1, 2]
    assert match.unmatched_pred == [0, 2, 3]


def test_match_video_tie_goes_to_earliest_prediction():
    match = match_video([[10, 19]], [[12, 21], [8, 17]])  # both IoU 8/12
    assert match.found_by.tolist() == [1]


def test_match_video_empty():
    assert match_video([], [[0, 1]]).tp == 0
    assert match_video([[0, 1]], np.empty((0, 2))).unmatched_gt == [0]


def test_per_video_readable_rows():
    truth = gt_table(gt("v1", "macro", 0, 9), gt("v1", "macro", 40, 49))
    pred = pred_table(("v1", "macro", 0, 4), ("v2", "micro", 1, 3))
    table = per_video(truth, pred)
    assert table[["video", "type", "N", "M", "TP", "FP", "FN"]].values.tolist() == [
        ["v1", "macro", 1, 2, 1, 0, 1],
        ["v2", "micro", 1, 0, 0, 1, 0],
    ]
    assert table.loc[0, "matched"] == "0-9 by 0-4 (IoU 0.500)"
    assert table.loc[0, "unmatched_gt"] == "40-49"
    assert table.loc[1, "unmatched_pred"] == "1-3"


def test_numeric_looking_video_ids_match_text_ids():
    truth = gt_table(("0101", "macro", 0, 4, 9))
    pred = pred_table(("0101", "macro", 0, 9))
    assert evaluate(truth, pred)["macro"]["TP"] == 1


def test_missing_columns_are_named():
    with pytest.raises(InputError, match="predictions lacks column.*onset, offset"):
        evaluate(gt_table(), pd.DataFrame({"video": [], "type": []}))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("v", "Macro", 0, 9), "unknown type"),
        (("v", "macro", 9, 0), "onset > offset"),
        (("v", "macro", 1.5, 9), "not an integer"),
        (("v", "macro", None, 9), "not an integer"),
    ],
)
def test_bad_values_are_rejected(row, message):
    with pytest.raises(InputError, match=message):
        evaluate(gt_table(), pred_table(row))
