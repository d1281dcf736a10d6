"""Recognition in the workflow: its rules plug onto a finished run without rerunning spotting,
and what reruns when the emotion mapping or the recognition settings change (issue 14.7)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from tests.workflow_helpers import TINY, clone_run, counts, scheduled
from tsmsnet.datasets.table import EMOTION_TABLE_COLUMNS
from tsmsnet.steps.recognize import RECOGNITION_COLUMNS

pytestmark = pytest.mark.workflow

SUBJECTS = ("s15", "s16", "s17")
TARGETS = ("all", *[f"results/synthetic/recognition/{s}.csv" for s in SUBJECTS])
# Every rule up to spotting and the spotting F1 (none of them reads emotions.csv).
SPOTTING = {
    "synthetic_subject",
    "synthetic_workbook",
    "annotations",
    "landmarks",
    "faces",
    "stage1_features",
    "stage2_features",
    "roi_curves",
    "train_apex",
    "train_interval",
    "spot",
    "classical",
    "refine",
    "roi_flow",
    "evaluate",
    "f1_tables",
    "score_plot",
    "loss_plot",
}


def args(project, text: str = "") -> tuple[str, ...]:
    """The targets and the tiny overrides, plus `text` as one more config file."""
    if not text:
        return (*TARGETS, *TINY)
    (project / "more.yaml").write_text(text)
    return (*TARGETS, *TINY, "more.yaml")


@pytest.fixture(scope="module")
def recognised(tiny_run, tmp_path_factory):
    """The tiny run: its `all` names every fold's micro intervals already (the STR outputs,
    rule evaluate_str, read them), so nothing is left to run."""
    project = clone_run(tiny_run, tmp_path_factory.mktemp("recognised") / "p")
    assert scheduled(project, *args(project)) == []
    return project


def test_each_subject_gets_its_spotted_micro_intervals_named(recognised, cfg):
    res = recognised / "results" / "synthetic"
    emotions = pd.read_csv(res / "emotions.csv", dtype={"video": str})
    assert list(emotions.columns) == EMOTION_TABLE_COLUMNS
    annotations = pd.read_csv(res / "annotations.csv")
    assert "emotion" not in annotations and (annotations["emotion_raw"] != "").all()
    assert set(emotions["emotion"]) <= {"negative", "positive", "surprise"}
    for subject in SUBJECTS:
        named = pd.read_csv(res / "recognition" / f"{subject}.csv", dtype={"video": str})
        assert list(named.columns) == RECOGNITION_COLUMNS
        step2 = pd.read_csv(res / "spotting" / "cas_micro" / subject / "step2.csv")
        micro = step2[step2["type"] == "micro"].reset_index(drop=True)
        assert named[["onset", "offset"]].equals(micro[["onset", "offset"]])
        assert (named["subject"] == subject).all()
        assert set(named["emotion"]) <= set(cfg["str"]["classes"])
        model = res / "models" / "recognition" / subject / "recognizer.pt"
        record = torch.load(model, weights_only=True)["extra"]
        assert record["held_out"] == subject and record["classes"] == cfg["str"]["classes"]
        assert not any(v.startswith(subject) for v in record["videos"])


def test_a_new_emotion_mapping_reruns_only_what_reads_emotions(recognised, tmp_path):
    project = clone_run(recognised, tmp_path / "p")
    assert scheduled(project, *args(project)) == []
    mapping = "datasets: {casme2: {emotions: {positive: negative}}}\n"
    c = counts(scheduled(project, *args(project, mapping)))
    assert c["emotions"] == 1 and c["train_recognizer"] == 3 and c["recognize"] == 3, c
    assert not any(c[r] for r in SPOTTING), c


def test_recognition_settings_rerun_no_spotting(recognised, tmp_path):
    project = clone_run(recognised, tmp_path / "p")
    c = counts(scheduled(project, *args(project, "recognition: {epochs: 2}\n")))
    assert c["train_recognizer"] == 3 and c["recognize"] == 3 and c["emotions"] == 0, c
    assert not any(c[r] for r in SPOTTING), c
    c = counts(scheduled(project, *args(project, "recognition: {method: classical}\n")))
    assert c["recognize"] == 3 and c["train_recognizer"] == 0, c
    assert not any(c[r] for r in SPOTTING), c
