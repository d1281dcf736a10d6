"""The workflow's STR outputs (tsmsnet.steps.str_outputs, tsmsnet.plots.strs): str.json and its
per-video, per-fold and confusion tables, the submission files and the report page and figure,
on tables and files made here (no pipeline run).
"""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from tests.test_plots import html_tables
from tests.test_str_eval import build_case
from tsmsnet.errors import InputError
from tsmsnet.evaluation.strs import StrOptions
from tsmsnet.steps.str_outputs import (
    PER_FOLD_COLUMNS,
    PER_VIDEO_COLUMNS,
    evaluate_str_outputs,
    read_recognition,
    spotting_submission_file,
    str_report,
    str_submission_file,
    str_tables,
)

TRUTH_COLUMNS = ["subject", "video", "type", "onset", "apex", "offset", "emotion"]
REC_COLUMNS = ["subject", "video", "onset", "offset", "type", "emotion"]
FOLDS = ["s1", "s2", "s3"]
VIDEOS = {"s1_a": "s1", "s2_a": "s2", "s3_a": "s3", "s3_b": "s3"}
STR_CONFIG = {
    "classes": ["negative", "positive", "surprise"],
    "others": "others",
    "include_others": False,
    "matching": "one_to_one",
    "drop_videos_without_micro": False,
    "skip_absent_classes": False,
}


def small_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts known by construction: s1 two TP pairs (negative named right, positive named
    surprise) and an FP; s2 a TP whose truth is others (not scored) and an FN; s3 an FP in a
    video without ground truth, and a video with nothing at all. Macro rows are ignored."""
    truth = pd.DataFrame(
        [
            ("s1", "s1_a", "micro", 10, 15, 20, "negative"),
            ("s1", "s1_a", "micro", 50, 55, 60, "positive"),
            ("s1", "s1_a", "macro", 100, 130, 200, ""),
            ("s2", "s2_a", "micro", 30, 35, 40, "others"),
            ("s2", "s2_a", "micro", 70, 75, 80, "surprise"),
        ],
        columns=TRUTH_COLUMNS,
    )
    pred = pd.DataFrame(
        [
            ("s1", "s1_a", 10, 20, "micro", "negative"),
            ("s1", "s1_a", 50, 59, "micro", "surprise"),  # IoU 10/11
            ("s1", "s1_a", 300, 310, "micro", "negative"),
            ("s2", "s2_a", 30, 40, "micro", "negative"),
            ("s3", "s3_a", 5, 10, "micro", "positive"),
        ],
        columns=REC_COLUMNS,
    )
    return truth, pred


def tables(truth, pred, options=None, folds=FOLDS, videos=VIDEOS):
    return str_tables(truth, pred, videos, folds, options or StrOptions(), "synthetic", {"x": "y"})


def test_str_json_fields_and_numbers_of_a_known_case():
    out = tables(*small_case())
    m = out.metrics
    assert m["available"] is True and m["dataset"] == "synthetic" and m["models"] == {"x": "y"}
    assert (m["folds"], m["videos"]) == (3, 4)
    spotting = m["spotting"]
    assert [spotting[k] for k in ("N", "M", "TP", "FP", "FN")] == [5, 4, 3, 2, 1]
    assert spotting["F1"] == pytest.approx(6 / 9)
    analysis = m["recognition"]
    assert analysis["pairs"] == 2 and analysis["classes"] == ["negative", "positive", "surprise"]
    assert analysis["per_class"]["negative"]["F1"] == 1.0
    assert analysis["per_class"]["positive"]["FN"] == 1
    assert analysis["per_class"]["surprise"]["FP"] == 1
    assert analysis["UF1"] == analysis["UAR"] == analysis["F1"] == pytest.approx(1 / 3)
    assert m["STRS"] == pytest.approx(2 / 9)
    assert m["options"] == STR_CONFIG

    assert list(out.per_video.columns) == list(PER_VIDEO_COLUMNS)
    assert out.per_video[["video", "N", "M", "TP", "pairs", "correct"]].values.tolist() == [
        ["s1_a", 3, 2, 2, 2, 1],
        ["s2_a", 1, 2, 1, 0, 0],
        ["s3_a", 1, 0, 0, 0, 0],
        ["s3_b", 0, 0, 0, 0, 0],
    ]
    fold = out.per_fold.set_index("fold")
    assert list(out.per_fold.columns) == list(PER_FOLD_COLUMNS)
    assert fold.loc["s3", "videos"] == 2 and fold.loc["s1", "F1"] == pytest.approx(0.8)
    assert fold.loc["s1", "UAR"] == pytest.approx(1 / 3) and fold.loc["s2", "STRS"] == 0.0
    assert fold.loc["s1", "STRS"] == pytest.approx(0.8 * fold.loc["s1", "analysis_F1"])
    assert out.confusion.loc["negative", "negative"] == 1
    assert out.confusion.loc["positive", "surprise"] == 1
    assert int(out.confusion.to_numpy().sum()) == 2


OPTIONS = [
    StrOptions(),
    StrOptions(include_others=True),
    StrOptions(matching="best_only", drop_videos_without_micro=True),
]


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "others", "mean"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_per_video_and_per_fold_tables_sum_to_the_pooled_counts(options, seed):
    rng = np.random.default_rng(seed)
    pairs = [(str(rng.choice(["negative", "positive", "surprise"])),) * 2 for _ in range(6)]
    pairs += [("negative", "surprise"), ("positive", "others")]
    truth, pred = build_case(pairs, 4, 9, 7, rng)
    truth, pred = truth.assign(emotion=truth["emotion"].fillna("")), pred.assign(type="micro")
    subject_of = {v: v[:3] for v in set(truth["video"]) | set(pred["video"])}
    subject_of["555_0"] = "555"  # a video nobody annotated or spotted
    folds = sorted(set(subject_of.values()))
    out = tables(truth, pred, options, folds, subject_of)
    spotting, analysis = out.metrics["spotting"], out.metrics["recognition"]
    for table in (out.per_video, out.per_fold):
        sums = table[["N", "M", "TP", "FP", "FN", "pairs"]].sum()
        assert [int(sums[k]) for k in ("N", "M", "TP", "FP", "FN")] == [
            spotting[k] for k in ("N", "M", "TP", "FP", "FN")
        ]
        assert int(sums["pairs"]) == analysis["pairs"]
    assert int(out.confusion.to_numpy().sum()) == analysis["pairs"]
    diagonal = sum(analysis["per_class"][c]["TP"] for c in analysis["classes"])
    assert int(out.per_fold["correct"].sum()) == diagonal
    assert out.per_fold["fold"].tolist() == folds
    assert ("555_0" in set(out.per_video["video"])) != options.drop_videos_without_micro


def write_inputs(folder, truth, pred, videos=VIDEOS):
    """emotions.csv, videos.csv and one recognition file per fold, as the rules write them."""
    folder.mkdir(parents=True, exist_ok=True)
    truth.to_csv(folder / "emotions.csv", index=False)
    pd.DataFrame({"subject": list(videos.values()), "video": list(videos)}).to_csv(
        folder / "videos.csv", index=False
    )
    paths = []
    for fold in FOLDS:
        path = folder / f"recognition_{fold}.csv"
        pred[pred["subject"] == fold].to_csv(path, index=False)
        paths.append(str(path))
    return folder / "emotions.csv", folder / "videos.csv", paths


def outputs(folder) -> dict[str, str]:
    names = {
        "str_json": "str.json",
        "per_video": "str_per_video.csv",
        "per_fold": "str_per_fold.csv",
        "confusion": "str_confusion.csv",
    }
    return {k: str(folder / v) for k, v in names.items()}


def run_step(tmp_path, truth, pred):
    emotions, videos, paths = write_inputs(tmp_path / "in", truth, pred)
    out = outputs(tmp_path / "evaluation")
    lines = []
    evaluate_str_outputs(
        str(emotions), str(videos), paths, FOLDS, STR_CONFIG, out, "synthetic", lines.append,
        models={"spotting": "trained here", "recognition": "trained here"},
    )  # fmt: skip
    return out, lines


def test_step_writes_the_four_files_and_the_report(tmp_path):
    out, lines = run_step(tmp_path, *small_case())
    metrics = json.loads(open(out["str_json"]).read())
    assert metrics["spotting"]["TP"] == 3 and metrics["models"]["recognition"] == "trained here"
    assert any("STRS=0.2222" in line for line in lines)
    per_video = pd.read_csv(out["per_video"], dtype={"fold": str, "video": str})
    assert per_video["TP"].sum() == 3 and len(per_video) == 4
    confusion = pd.read_csv(out["confusion"]).set_index("true")
    assert list(confusion.columns) == ["negative", "positive", "surprise", "others"]
    assert int(confusion.to_numpy().sum()) == 2
    page, figure = tmp_path / "report" / "str.html", tmp_path / "report" / "str_confusion.png"
    str_report(
        out["str_json"], out["per_fold"], out["confusion"], str(page), str(figure), "synthetic",
        lines.append,
    )  # fmt: skip
    text = page.read_text()
    shown = dict(html_tables(text))
    pooled = shown["Pooled over every fold"].iloc[0]
    assert [int(pooled[k]) for k in ("N", "M", "TP", "FP", "FN", "pairs")] == [5, 4, 3, 2, 1, 2]
    assert float(pooled["STRS"]) == pytest.approx(metrics["STRS"], abs=5e-5)
    assert float(pooled["analysis F1"]) == pytest.approx(1 / 3, abs=5e-5)
    matrix = shown["Confusion of the TP pairs (rows: true class)"].set_index("true")
    assert matrix.loc["positive", "predicted surprise"] == "1"
    per_class = shown["Per class (over the TP pairs)"].set_index("class")
    assert per_class.loc["negative", "F1"] == "1.0000"
    assert len(shown["Per fold (held-out subject; the pooled scores are not their mean)"]) == 3
    assert "matching one_to_one" in text and "trained here" in text
    image = matplotlib.image.imread(figure)
    assert image.ndim == 3 and image.shape[0] > 100 and image.std() > 0


def test_no_emotion_labels_gives_no_numbers(tmp_path):
    truth, pred = small_case()
    out, lines = run_step(tmp_path, truth.assign(emotion=""), pred.iloc[:0])
    metrics = json.loads(open(out["str_json"]).read())
    assert metrics["available"] is False and "no micro-expression" in metrics["reason"]
    assert "clip_workbook" in metrics["reason"]
    assert not {"spotting", "recognition", "STRS"} & set(metrics)
    for name in ("per_video", "per_fold", "confusion"):
        assert len(pd.read_csv(out[name])) == 0
    assert lines == [f"STR not available: {metrics['reason']}"]
    page, figure = tmp_path / "str.html", tmp_path / "str.png"
    str_report(
        out["str_json"], out["per_fold"], out["confusion"], str(page), str(figure), "samm_lv",
        lines.append,
    )  # fmt: skip
    assert "STR not available" in page.read_text() and "<table" not in page.read_text()
    assert figure.stat().st_size > 0


def test_no_micro_expression_is_not_available():
    truth, pred = small_case()
    out = tables(truth[truth["type"] == "macro"], pred)
    assert out.metrics["available"] is False and "no micro-expression" in out.metrics["reason"]


def test_some_micro_rows_without_a_label_are_an_error():
    truth, pred = small_case()
    truth.loc[1, "emotion"] = ""
    with pytest.raises(InputError, match=r"column emotion .*row\(s\) \[1\]"):
        tables(truth, pred)


def test_a_recognition_file_in_the_wrong_fold_is_named(tmp_path):
    truth, pred = small_case()
    _, _, paths = write_inputs(tmp_path, truth, pred)
    with pytest.raises(InputError, match=r"recognition_s2.csv.*subject s1.*s2_a"):
        read_recognition([paths[1], paths[0]], ["s1", "s2"], VIDEOS)
    pd.DataFrame({"video": ["s1_a"]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match=r"bad.csv.*lacks column\(s\) subject"):
        read_recognition([tmp_path / "bad.csv"], ["s1"], VIDEOS)


def test_submissions_from_the_folds_files(tmp_path):
    truth, pred = small_case()
    pred.loc[3, "emotion"] = "others"
    _, videos, paths = write_inputs(tmp_path, truth, pred)
    spotted = []
    for i, fold in enumerate(FOLDS):
        path = tmp_path / f"step2_{fold}.csv"
        rows = [(v, "micro" if i % 2 else "macro", 10 + i, 30 + i, 0.5) for v in VIDEOS]
        rows = [r for r in rows if VIDEOS[r[0]] == fold]
        pd.DataFrame(rows, columns=["video", "type", "onset", "offset", "score"]).to_csv(
            path, index=False
        )
        spotted.append(str(path))
    spot_out, str_out = tmp_path / "sub" / "spotting.csv", tmp_path / "sub" / "str.csv"
    spotting_submission_file(spotted, str(spot_out), lambda _: None)
    assert spot_out.read_text().splitlines() == [
        "vid,onset,offset,type",
        "s1_a,10,30,mae",
        "s2_a,11,31,me",
        "s3_a,12,32,mae",
        "s3_b,12,32,mae",
    ]
    classes = ["negative", "positive", "surprise"]
    str_submission_file(paths, FOLDS, str(videos), classes, "others", str(str_out), print)
    named = pd.read_csv(str_out, dtype=str)
    assert list(named.columns) == ["subject", "video", "onset", "offset", "emotion"]
    assert len(named) == len(pred) - 1 and "others" not in set(named["emotion"])
    assert named[named["video"] == "s3_a"]["subject"].tolist() == ["s3"]
    with pytest.raises(InputError, match="no recognition files"):
        str_submission_file([], FOLDS, str(videos), classes, "others", str(str_out), print)


def test_a_run_that_names_no_classes_says_so():
    """Labels but no recognition files (no micro spotting config): no numbers either."""
    truth, _ = small_case()
    out = tables(truth, None)
    assert out.metrics["available"] is False and out.per_fold.empty
    assert "spots micro-expressions" in out.metrics["reason"]


def test_nothing_spotted_scores_zero_in_every_fold(tmp_path):
    """Empty recognition files (header only) are real results: every ground truth an FN."""
    truth, pred = small_case()
    _, _, paths = write_inputs(tmp_path, truth, pred.iloc[:0])
    out = tables(truth, read_recognition(paths, FOLDS, VIDEOS))
    assert out.metrics["available"] is True and out.metrics["STRS"] == 0.0
    assert (out.metrics["spotting"]["N"], out.metrics["spotting"]["FN"]) == (0, 4)
    assert out.per_fold["M"].tolist() == [2, 2, 0] and out.per_fold["TP"].sum() == 0
