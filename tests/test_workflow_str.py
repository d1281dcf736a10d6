"""The STR outputs of the tiny run (rules evaluate_str, spotting_submission, str_submission,
str_report) and what a change of config `str` reruns (dry runs on a copy of the finished run;
no new pipeline run)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.workflow_helpers import clone_run, counts, scheduled

pytestmark = pytest.mark.workflow


def test_tiny_run_writes_str_json_tables_and_submissions(tiny_run, cfg):
    res = tiny_run / "results" / "synthetic"
    metrics = json.loads((res / "evaluation" / "str.json").read_text())
    assert metrics["available"] is True and metrics["folds"] == 3
    assert metrics["options"]["classes"] == cfg["str"]["classes"]
    assert set(metrics["models"]) == {"spotting", "recognition"}
    truth = pd.read_csv(res / "emotions.csv")
    assert metrics["spotting"]["M"] == int((truth["type"] == "micro").sum())
    per_fold = pd.read_csv(res / "evaluation" / "str_per_fold.csv", dtype={"fold": str})
    assert per_fold["fold"].tolist() == ["s15", "s16", "s17"]
    for key in ("N", "M", "TP", "FP", "FN"):
        assert int(per_fold[key].sum()) == metrics["spotting"][key]
    confusion = pd.read_csv(res / "evaluation" / "str_confusion.csv").set_index("true")
    assert int(confusion.to_numpy().sum()) == metrics["recognition"]["pairs"]
    spotting = pd.read_csv(res / "submission" / "spotting.csv")
    assert list(spotting.columns) == ["vid", "onset", "offset", "type"]
    assert set(spotting["type"]) <= {"me", "mae"}
    named = pd.read_csv(res / "submission" / "str.csv", dtype=str)
    assert list(named.columns) == ["subject", "video", "onset", "offset", "emotion"]
    assert set(named["emotion"]) <= set(cfg["str"]["classes"])
    for name in ("str.html", "str_confusion.png"):
        assert (res / "report" / name).stat().st_size > 0


STR_JOBS = {"evaluate_str": 1, "str_report": 1}


@pytest.mark.parametrize(
    "text, rerun",
    [
        ("str: {matching: best_only}\n", STR_JOBS),
        ("str: {drop_videos_without_micro: true}\n", STR_JOBS),
        ("str: {skip_absent_classes: true}\n", STR_JOBS),
        # The class list is also what the recognition networks name (one fold each).
        (
            "str: {classes: [negative, positive]}\n",
            {**STR_JOBS, "str_submission": 1, "train_recognizer": 3, "recognize": 3},
        ),
    ],
)
def test_str_options_rerun_only_the_str_jobs(tiny_run, tmp_path, text, rerun):
    project = clone_run(tiny_run, tmp_path / "p")
    (project / "s.yaml").write_text(text)
    c = counts(scheduled(project, "--configfile", "tests/configs/tiny.yaml", "s.yaml"))
    assert dict(c) == rerun, c
