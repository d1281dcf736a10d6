"""Spot-then-recognise scoring (tsmsnet.evaluation.strs), its files and `tsmsnet evaluate-str`.

The MEGC 2025 baseline table (../shared/design/str.md) is rebuilt from annotation and prediction
tables made here, so the numbers come through the whole scorer, matching included.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsmsnet.cli import main
from tsmsnet.errors import ConfigError, InputError
from tsmsnet.evaluation.strs import (
    StrOptions,
    confusion_table,
    evaluate_str,
    match_video,
)
from tsmsnet.evaluation.submission import (
    spotting_submission,
    str_submission,
    write_str_json,
    write_submission,
)

GT_COLUMNS = ["subject", "video", "type", "onset", "apex", "offset", "emotion"]
PRED_COLUMNS = ["video", "type", "onset", "offset", "emotion"]
CLASSES = ("negative", "positive", "surprise")
SPACING = 100  # frames between slots: intervals of different slots never overlap
N_VIDEOS = 7


def build_case(pairs, others_tp, fp, fn, rng):
    """Ground truth and predictions whose STR counts are exactly the given ones.

    pairs: (true class, predicted class) of the TP pairs scored; others_tp: further TP pairs
    whose ground truth is `others`; fp: predictions far from any ground truth; fn: ground truths
    without a prediction. Spread over N_VIDEOS videos (one holds only predictions), with
    macro rows on both sides that STR must ignore.
    """
    gt, pred = [], []
    slots = {}

    def place(video):
        slots[video] = slots.get(video, 0) + 1
        return slots[video] * SPACING

    def video(i):
        return f"{i % N_VIDEOS:03d}_{i % 3}"

    tp_rows = [
        *pairs,
        *[("others", str(rng.choice([*CLASSES, "others"]))) for _ in range(others_tp)],
    ]
    for i, (true, predicted) in enumerate(tp_rows):
        v = video(i)
        on = place(v)
        length = int(rng.integers(5, 15))
        gt.append((v[:3], v, "micro", on, on + 2, on + length, true))
        shift = int(rng.integers(0, 2))  # IoU stays >= 0.5
        pred.append((v, "micro", on + shift, on + length, predicted))
    for i in range(fn):
        v = video(i + 3)
        on = place(v)
        gt.append((v[:3], v, "micro", on, on + 3, on + 9, str(rng.choice([*CLASSES, "others"]))))
    for i in range(fp):
        v = video(i + 5) if i % 4 else "999_9"  # some in a video without any ground truth
        on = place(v)
        pred.append((v, "micro", on, on + 8, str(rng.choice([*CLASSES, "others"]))))
    for i in range(5):  # macro rows (no emotion) on both sides overlap micro ones: ignored
        v = video(i)
        gt.append((v[:3], v, "macro", SPACING, SPACING + 5, SPACING + 60, None))
        pred.append((v, "macro", SPACING, SPACING + 10, "negative"))
    order = rng.permutation(len(pred))
    return (
        pd.DataFrame(gt, columns=GT_COLUMNS),
        pd.DataFrame(pred, columns=PRED_COLUMNS).iloc[order].reset_index(drop=True),
    )


# (spotting TP, FP, FN), recognition pairs as (a, a), (a, b) etc., then the table's numbers.
BASELINE = {
    "SAMM": (
        (6, 217, 202),
        [("negative", "negative"), ("negative", "positive")],
        {"spot": 0.0278, "UF1": 0.2222, "UAR": 0.1667, "F1": 0.2222, "STRS": 0.0062},
    ),
    "CAS(ME)^3": (
        (3, 115, 34),
        [("surprise", "surprise"), ("positive", "surprise")],
        {"spot": 0.0387, "UF1": 0.2222, "UAR": 0.3333, "F1": 0.2222, "STRS": 0.0086},
    ),
}


@pytest.mark.parametrize("dataset", list(BASELINE))
def test_megc2025_baseline_table(dataset):
    (tp, fp, fn), pairs, expected = BASELINE[dataset]
    gt, pred = build_case(pairs, tp - len(pairs), fp, fn, np.random.default_rng(7))
    metrics = evaluate_str(gt, pred).metrics
    spotting, analysis = metrics["spotting"], metrics["recognition"]
    assert (spotting["TP"], spotting["FP"], spotting["FN"]) == (tp, fp, fn)
    assert analysis["pairs"] == len(pairs)  # the others ground truths are left out
    got = {
        "spot": spotting["F1"],
        "UF1": analysis["UF1"],
        "UAR": analysis["UAR"],
        "F1": analysis["F1"],
        "STRS": metrics["STRS"],
    }
    assert {k: round(v, 4) for k, v in got.items()} == expected
    assert metrics["STRS"] == pytest.approx(spotting["F1"] * analysis["F1"])


def test_baseline_needs_the_fixed_class_list():
    """Skipping the class absent from both sides (MEAN's code) changes the SAMM numbers."""
    gt, pred = build_case(
        [("negative", "negative"), ("negative", "positive")], 4, 217, 202, np.random.default_rng(7)
    )
    skipped = evaluate_str(gt, pred, StrOptions(skip_absent_classes=True)).metrics["recognition"]
    assert round(skipped["UF1"], 4) == 0.3333 and round(skipped["UAR"], 4) == 0.25


# ---- properties -------------------------------------------------------------------------


@st.composite
def str_cases(draw, classes=(*CLASSES, "others"), predicted=(*CLASSES, "others")):
    """Separated ground truths (a gap of >= 1 frame) and predictions near or far from them."""
    gt, pred = [], []
    for video in ("a", "b"):
        start = draw(st.integers(0, 5))
        for _ in range(draw(st.integers(0, 4))):
            length = draw(st.integers(2, 15))
            gt.append(
                (
                    "s",
                    video,
                    "micro",
                    start,
                    start,
                    start + length - 1,
                    draw(st.sampled_from(classes)),
                )
            )
            start += length + draw(st.integers(1, 10))
        for _ in range(draw(st.integers(0, 5))):
            on = draw(st.integers(0, 80))
            off = on + draw(st.integers(0, 15))
            pred.append((video, "micro", on, off, draw(st.sampled_from(predicted))))
    return pd.DataFrame(gt, columns=GT_COLUMNS), pd.DataFrame(pred, columns=PRED_COLUMNS)


def exact_predictions(gt: pd.DataFrame, predicted: str | None = None) -> pd.DataFrame:
    """One prediction on each ground truth's own interval (its class, or `predicted`)."""
    out = gt[["video", "type", "onset", "offset", "emotion"]].copy()
    if predicted is not None:
        out["emotion"] = predicted
    return out.reset_index(drop=True)


@settings(max_examples=60, deadline=None)
@given(str_cases(classes=("negative", "positive", "others"), predicted=("negative", "positive")))
def test_class_absent_everywhere_counts_as_zero(case):
    gt, pred = case
    analysis = evaluate_str(gt, pred).metrics["recognition"]
    absent = analysis["per_class"]["surprise"]
    assert (absent["TP"], absent["FP"], absent["FN"], absent["F1"]) == (0, 0, 0, 0.0)
    per_class = analysis["per_class"]
    assert analysis["UF1"] == pytest.approx(sum(v["F1"] for v in per_class.values()) / 3)
    assert analysis["UAR"] == pytest.approx(sum(v["recall"] for v in per_class.values()) / 3)


@settings(max_examples=40, deadline=None)
@given(str_cases(classes=("surprise",)), st.sampled_from(CLASSES))
def test_all_pairs_one_correct_class(case, label):
    gt, _ = case
    gt = gt.assign(emotion=label)
    metrics = evaluate_str(gt, exact_predictions(gt)).metrics
    analysis = metrics["recognition"]
    assert metrics["spotting"]["TP"] == len(gt) and metrics["spotting"]["F1"] == (
        1.0 if len(gt) else 0.0
    )
    if len(gt):
        assert analysis["per_class"][label] == {
            "TP": len(gt), "FP": 0, "FN": 0, "precision": 1.0, "recall": 1.0, "F1": 1.0
        }  # fmt: skip
        assert analysis["UF1"] == analysis["UAR"] == analysis["F1"] == pytest.approx(1 / 3)
        assert metrics["STRS"] == pytest.approx(1 / 3)
    else:
        assert analysis["F1"] == metrics["STRS"] == 0.0


@settings(max_examples=60, deadline=None)
@given(str_cases())
def test_no_tp_gives_zero_everywhere(case):
    gt, pred = case
    far = pred.assign(onset=pred["onset"] + 10_000, offset=pred["offset"] + 10_000)
    metrics = evaluate_str(gt, far).metrics
    assert metrics["spotting"]["TP"] == 0 and metrics["spotting"]["FP"] == len(far)
    assert metrics["spotting"]["FN"] == len(gt) and metrics["spotting"]["F1"] == 0.0
    analysis = metrics["recognition"]
    assert analysis["pairs"] == 0
    assert all(v[k] == 0 for v in analysis["per_class"].values() for k in v)
    assert analysis["UF1"] == analysis["UAR"] == analysis["F1"] == metrics["STRS"] == 0.0


@settings(max_examples=60, deadline=None)
@given(str_cases().filter(lambda c: len(c[1]) > 0), st.data(), st.integers(1, 3))
def test_duplicates_add_fps_only(case, data, copies):
    """Copies of a prediction take no second ground truth: TP and recognition unchanged."""
    gt, pred = case
    row = data.draw(st.integers(0, len(pred) - 1))
    before = evaluate_str(gt, pred).metrics
    after = evaluate_str(gt, pd.concat([pred] + [pred.iloc[[row]]] * copies, ignore_index=True))
    after = after.metrics
    assert after["spotting"]["TP"] == before["spotting"]["TP"]
    assert after["spotting"]["FP"] == before["spotting"]["FP"] + copies
    assert after["recognition"] == before["recognition"]


@pytest.mark.parametrize("copies", [1, 2, 5])
def test_duplicate_predictions_of_one_ground_truth(copies):
    gt = pd.DataFrame([("s", "v", "micro", 10, 12, 20, "positive")], columns=GT_COLUMNS)
    pred = pd.concat([exact_predictions(gt)] * copies, ignore_index=True)
    spotting = evaluate_str(gt, pred).metrics["spotting"]
    assert (spotting["TP"], spotting["FP"], spotting["FN"]) == (1, copies - 1, 0)


@settings(max_examples=60, deadline=None)
@given(str_cases(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(case, rnd):
    gt, pred = case
    before = evaluate_str(gt, pred)
    after = evaluate_str(
        gt.sample(frac=1, random_state=rnd.randint(0, 999)),
        pred.sample(frac=1, random_state=rnd.randint(0, 999)),
    )
    assert after.metrics == before.metrics
    pd.testing.assert_frame_equal(after.spotting.pairs, before.spotting.pairs)


def test_same_interval_two_classes_scores_alike_in_any_row_order():
    """Two predictions of one interval with different classes: the same one takes the ground
    truth whichever row comes first (the tie is broken by class, not by file order)."""
    gt = pd.DataFrame([("s", "v", "micro", 10, 15, 20, "positive")], columns=GT_COLUMNS)
    rows = [("v", "micro", 10, 20, "positive"), ("v", "micro", 10, 20, "negative")]
    first = evaluate_str(gt, pd.DataFrame(rows, columns=PRED_COLUMNS))
    second = evaluate_str(gt, pd.DataFrame(rows[::-1], columns=PRED_COLUMNS))
    assert first.metrics == second.metrics
    assert first.spotting.pairs["emotion"].tolist() == ["negative"]


@settings(max_examples=60, deadline=None)
@given(str_cases())
def test_counts_add_up(case):
    gt, pred = case
    result = evaluate_str(gt, pred)
    spotting = result.metrics["spotting"]
    assert spotting["TP"] + spotting["FP"] == len(pred)
    assert spotting["TP"] + spotting["FN"] == len(gt)
    assert (result.spotting.pairs["iou"] >= 0.5).all()
    scored = result.spotting.pairs["gt_emotion"] != "others"
    assert (
        int(confusion_table(result.spotting.pairs, result.options).to_numpy().sum()) == scored.sum()
    )


# ---- MEAN's variants ---------------------------------------------------------------------


def test_best_only_matching_loses_the_second_ground_truth():
    """G1 [10, 20], G2 [14, 24]; P1 [10, 20] takes G1; P2 [11, 21] has G1 as its best (0.83)
    and G2 second (8/14 = 0.57): one-to-one takes G2, MEAN's best-only makes P2 an FP."""
    gt = pd.DataFrame(
        [("s", "v", "micro", 10, 15, 20, "negative"), ("s", "v", "micro", 14, 18, 24, "surprise")],
        columns=GT_COLUMNS,
    )
    pred = pd.DataFrame(
        [("v", "micro", 11, 21, "surprise"), ("v", "micro", 10, 20, "negative")],
        columns=PRED_COLUMNS,
    )
    default = evaluate_str(gt, pred)
    assert default.metrics["spotting"]["TP"] == 2
    assert default.spotting.pairs[["gt_onset", "onset", "emotion"]].values.tolist() == [
        [10, 10, "negative"],
        [14, 11, "surprise"],
    ]
    assert default.spotting.pairs["iou"].tolist() == pytest.approx([1.0, 8 / 14])
    best = evaluate_str(gt, pred, StrOptions(matching="best_only")).metrics["spotting"]
    assert (best["TP"], best["FP"], best["FN"]) == (1, 1, 1)
    assert match_video([(10, 20), (14, 24)], [(11, 21), (10, 20)]) == [(0, 1, 1.0), (1, 0, 8 / 14)]


def test_dropping_videos_without_micro_expressions():
    gt = pd.DataFrame(
        [("s", "v", "micro", 10, 15, 20, "negative"), ("s", "w", "macro", 10, 30, 60, None)],
        columns=GT_COLUMNS,
    )
    pred = pd.DataFrame(
        [
            ("v", "micro", 10, 20, "negative"),
            ("w", "micro", 5, 9, "positive"),
            ("x", "micro", 1, 3, "positive"),
        ],
        columns=PRED_COLUMNS,
    )
    default = evaluate_str(gt, pred)
    assert default.metrics["spotting"]["FP"] == 2
    assert default.spotting.per_video["video"].tolist() == ["v", "w", "x"]
    dropped = evaluate_str(gt, pred, StrOptions(drop_videos_without_micro=True))
    assert dropped.metrics["spotting"]["FP"] == 0 and dropped.metrics["spotting"]["F1"] == 1.0
    assert dropped.spotting.per_video["video"].tolist() == ["v"]


def test_skipping_absent_classes_and_including_others():
    gt = pd.DataFrame(
        [("s", "v", "micro", 10, 15, 20, "negative"), ("s", "v", "micro", 40, 45, 50, "others")],
        columns=GT_COLUMNS,
    )
    pred = exact_predictions(gt)
    default = evaluate_str(gt, pred).metrics["recognition"]
    assert default["pairs"] == 1 and default["UF1"] == pytest.approx(1 / 3)
    skipped = evaluate_str(gt, pred, StrOptions(skip_absent_classes=True)).metrics["recognition"]
    assert skipped["UF1"] == skipped["F1"] == 1.0
    with_others = evaluate_str(gt, pred, StrOptions(include_others=True)).metrics["recognition"]
    assert with_others["classes"] == [*CLASSES, "others"] and with_others["pairs"] == 2
    assert with_others["UF1"] == pytest.approx(2 / 4)


def test_options_from_config(cfg):
    options = StrOptions.from_config(cfg)
    assert options.classes == tuple(cfg["str"]["classes"]) and options.matching == "one_to_one"
    assert StrOptions.from_config(cfg, matching="best_only", classes=None).matching == "best_only"
    with pytest.raises(ConfigError, match="others"):
        StrOptions.from_config(cfg, classes=("negative", "others"))
    with pytest.raises(ConfigError, match="matching"):
        StrOptions(matching="greedy")


# ---- bad input ---------------------------------------------------------------------------


def test_unknown_or_missing_class_names_the_rows():
    gt = pd.DataFrame(
        [("s", "v", "macro", 1, 2, 3, None), ("s", "v", "micro", 10, 15, 20, "happy")],
        columns=GT_COLUMNS,
    )
    with pytest.raises(InputError, match=r"gt.csv.*column emotion.*row\(s\) \[1\].*happy"):
        evaluate_str(gt, gt, ground_truth_source="gt.csv")
    missing = gt.assign(emotion=[None, None])
    with pytest.raises(InputError, match=r"row\(s\) \[1\]"):
        evaluate_str(missing, missing)
    pred = pd.DataFrame({"video": ["v"], "onset": [1], "offset": [2], "class": ["Joy"]})
    with pytest.raises(InputError, match=r"p.csv.*column class.*Joy"):
        evaluate_str(gt.assign(emotion=[None, "negative"]), pred, predictions_source="p.csv")
    with pytest.raises(InputError, match="emotion"):
        evaluate_str(gt.drop(columns="emotion"), pred)


# ---- submission files --------------------------------------------------------------------


def test_spotting_submission_codes_types_and_keeps_frame_numbers(tmp_path):
    pred = pd.DataFrame(
        [
            ("006_2", "micro", 30, 40, 0.9),
            ("006_1", "macro", 1, 90, 0.5),
            ("006_1", "micro", 5, 9, 1),
        ],
        columns=["video", "type", "onset", "offset", "score"],
    )
    table = spotting_submission(pred)
    assert table.values.tolist() == [
        ["006_1", 1, 90, "mae"],
        ["006_1", 5, 9, "me"],
        ["006_2", 30, 40, "me"],
    ]
    path = write_submission(table, tmp_path / "samm_spotting.csv")
    assert path.read_text().splitlines() == [
        "vid,onset,offset,type",
        "006_1,1,90,mae",
        "006_1,5,9,me",
        "006_2,30,40,me",
    ]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_str_submission_leaves_out_others_and_macros(tmp_path):
    pred = pd.DataFrame(
        [
            ("v2", "micro", 30, 40, "Surprise"),
            ("v1", "micro", 5, 9, "others"),
            ("v1", "macro", 1, 90, "negative"),
            ("v1", "micro", 50, 60, "negative"),
        ],
        columns=PRED_COLUMNS,
    )
    table = str_submission(pred, StrOptions(), subjects={"v1": "006", "v2": "007"})
    assert table.values.tolist() == [
        ["006", "v1", 50, 60, "negative"],
        ["007", "v2", 30, 40, "surprise"],
    ]
    written = write_submission(table, tmp_path / "str.csv").read_text().splitlines()
    assert (
        written[0] == "subject,video,onset,offset,emotion" and written[1] == "006,v1,50,60,negative"
    )
    own = str_submission(pred.assign(subject=["007", "006", "006", "006"]), StrOptions())
    pd.testing.assert_frame_equal(own, table)
    with pytest.raises(InputError, match="no subject for video.*v2"):
        str_submission(pred, StrOptions(), subjects={"v1": "006"})


def test_str_json_and_confusion_table(tmp_path):
    gt = pd.DataFrame(
        [
            ("s", "v", "micro", 10, 15, 20, "negative"),
            ("s", "v", "micro", 40, 45, 50, "negative"),
            ("s", "v", "micro", 70, 75, 80, "positive"),
            ("s", "v", "micro", 100, 105, 110, "others"),
        ],
        columns=GT_COLUMNS,
    )
    pred = exact_predictions(gt).assign(emotion=["negative", "others", "negative", "surprise"])
    result = evaluate_str(gt, pred)
    table = confusion_table(result.spotting.pairs, result.options)
    assert list(table.columns) == [*CLASSES, "others"] and list(table.index) == list(CLASSES)
    assert table.loc["negative"].tolist() == [1, 0, 0, 1]
    assert table.loc["positive"].tolist() == [1, 0, 0, 0]
    assert table.loc["surprise"].tolist() == [0, 0, 0, 0]
    per_class = result.metrics["recognition"]["per_class"]
    assert (
        per_class["negative"]["TP"],
        per_class["negative"]["FP"],
        per_class["negative"]["FN"],
    ) == (1, 1, 1)
    path = write_str_json(result.metrics, tmp_path / "str.json")
    assert json.loads(path.read_text()) == result.metrics


# ---- CLI ---------------------------------------------------------------------------------


@pytest.fixture
def str_files(tmp_path):
    gt = pd.DataFrame(
        [
            ("006", "006_1", "micro", 10, 15, 20, "negative"),
            ("006", "006_1", "micro", 14, 18, 24, "surprise"),
            ("006", "006_1", "macro", 100, 120, 160, None),
        ],
        columns=GT_COLUMNS,
    )
    pred = pd.DataFrame(
        {
            "video": ["006_1", "006_1"],
            "onset": [11, 10],
            "offset": [21, 20],
            "class": ["surprise", "negative"],
        }
    )
    paths = tmp_path / "annotations.csv", tmp_path / "str_predictions.csv"
    gt.to_csv(paths[0], index=False)
    pred.to_csv(paths[1], index=False)
    return paths


def test_cli_evaluate_str_writes_json(str_files, tmp_path, capsys):
    out, confusion = tmp_path / "out" / "str.json", tmp_path / "confusion.csv"
    args = ["evaluate-str", *map(str, str_files), "--out", str(out), "--confusion", str(confusion)]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert (printed["spotting"]["TP"], printed["spotting"]["FP"]) == (2, 0)
    assert printed["recognition"]["UF1"] == pytest.approx(2 / 3)  # two of three classes right
    assert printed["STRS"] == pytest.approx(2 / 3)
    assert confusion.read_text().splitlines()[1] == "negative,1,0,0,0"


def test_cli_options_override_the_config(str_files, capsys):
    assert main(["evaluate-str", *map(str, str_files), "--matching", "best_only"]) == 0
    assert json.loads(capsys.readouterr().out)["spotting"]["TP"] == 1
    assert main(["evaluate-str", *map(str, str_files), "--skip-absent-classes"]) == 0
    assert json.loads(capsys.readouterr().out)["recognition"]["UF1"] == 1.0
    assert main(["evaluate-str", *map(str, str_files), "--classes", "negative,surprise"]) == 0
    assert json.loads(capsys.readouterr().out)["recognition"]["classes"] == ["negative", "surprise"]


def test_cli_bad_input_is_one_line_naming_file_and_column(str_files, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"video": ["006_1"], "onset": [1], "offset": [2], "class": ["joy"]}).to_csv(
        bad, index=False
    )
    out = tmp_path / "str.json"
    assert main(["evaluate-str", str(str_files[0]), str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(bad) in err and "column class" in err and "joy" in err
    assert not out.exists()
    assert main(["evaluate-str", str(str_files[0]), str(tmp_path / "none.csv")]) == 2
    assert "not found" in capsys.readouterr().err
