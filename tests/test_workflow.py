"""End to end through the real snakemake CLI on the tiny presets, and what reruns when.

Each incremental case changes real inputs (config values, workbook cells, frame bytes) on a
copy of a finished run and counts the jobs a dry run schedules per rule.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import openpyxl
import pandas as pd
import pytest
import zarr

from tests.workflow_helpers import TINY, clone_run, counts, make_project, scheduled, snakemake

pytestmark = pytest.mark.workflow

PREPROCESS = {"landmarks", "faces", "stage1_features", "stage2_features"}


def test_tiny_run_writes_stores_and_metrics(tiny_run, cfg):
    res = tiny_run / "results" / "synthetic"
    videos = pd.read_csv(res / "videos.csv", dtype={"video": str})
    assert len(videos) == 3 and set(videos["subject"]) == {"s15", "s16", "s17"}
    n = int(videos["n_frames"].iloc[0])
    faces = zarr.open_array(res / "faces" / "s15_0101.zarr", mode="r")
    assert faces.shape == (n, 128, 128) and faces.dtype == np.uint8
    for name, K in (("cas_micro", 12), ("cas_macro", 31)):
        assert cfg["configs"][name]["K"] == K
        s1 = zarr.open_array(res / "features" / "stage1" / f"K{K}" / "s15_0101.zarr", mode="r")
        assert s1.shape == (n - K, 3, 42, 42) and s1.dtype == np.float16
    s2 = zarr.open_array(res / "features" / "stage2" / "s15_0101.zarr", mode="r")
    assert s2.shape == (n // 4 - 1, 3, 42, 42)
    metrics = json.loads((res / "evaluation" / "metrics.json").read_text())
    assert set(metrics) == {"models", "macro", "micro", "overall"}
    truth = pd.read_csv(res / "annotations.csv")
    assert metrics["overall"]["M"] == len(truth)
    for subject in ("s15", "s16", "s17"):
        assert (res / "models" / "cas_micro" / subject / "apex.pt").is_file()


def test_refined_step2_is_evaluated_beside_the_others(tiny_run, cfg):
    res = tiny_run / "results" / "synthetic"
    all_metrics = json.loads((res / "evaluation" / "metrics_all.json").read_text())
    assert set(all_metrics) == {"step2", "step2_refined", "step1", "classical", "roi_flow"}
    for subject in ("s15", "s16", "s17"):
        fold = res / "spotting" / "cas_micro" / subject
        step2 = pd.read_csv(fold / "step2.csv", dtype={"video": str})
        refined = pd.read_csv(fold / "step2_refined.csv", dtype={"video": str})
        assert refined[["video", "type", "score"]].equals(step2[["video", "type", "score"]])
        record = json.loads((fold / "refine.json").read_text())
        assert record["held_out"] == subject and subject not in str(record["training_videos"])
        grid = cfg["refine"]
        assert record["chosen"]["fraction"] in grid["fraction"]
        assert len(record["grid"]) == len(grid["fraction"]) * len(grid["smoothing"]) * len(
            grid["reach"]
        )
    per_fold = pd.read_csv(res / "evaluation" / "per_fold.csv")
    assert (per_fold["method"] == "step2_refined").sum() == 3 * 3  # folds x (macro, micro, all)


def test_refine_grid_or_switch_reruns_only_refine_and_evaluation(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    c = counts(scheduled(project, *override(project, "g.yaml", "refine: {reach: [1.0]}\n")))
    assert c["refine"] == 6 and c["evaluate"] == 1 and c["f1_tables"] == 1, c
    assert c["score_plot"] == 6, c  # each fold's plot has a step 2 refined lane
    assert not any(c[r] for r in ("spot", "classical", "train_apex", "train_interval")), c
    c = counts(scheduled(project, *override(project, "off.yaml", "refine: {enabled: false}\n")))
    assert c["refine"] == 0 and c["evaluate"] == 1 and c["spot"] == 0, c


def test_unchanged_rerun_schedules_nothing(tiny_run):
    assert scheduled(tiny_run, *TINY) == []


def override(project, name: str, text: str) -> tuple[str, str]:
    """One more --configfile, merged over the tiny overrides."""
    (project / name).write_text(text)
    return ("--configfile", "tests/configs/tiny.yaml", name)


def test_adding_a_subject_reruns_its_videos_and_the_folds(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    args = override(project, "more.yaml", "synthetic: {presets: {tiny: {subjects: 4}}}\n")
    jobs = scheduled(project, *args)
    c = counts(jobs)
    for rule in ("synthetic_subject", "landmarks", "faces", "stage2_features"):
        assert c[rule] == 1, (rule, c)
    assert {wc["video"] for rule, wc in jobs if rule in PREPROCESS} == {"s18_0101"}
    assert c["stage1_features"] == 2  # one store per K
    assert c["classical"] == 2  # only the new subject's fold, per config
    for rule in ("train_apex", "train_interval", "spot"):
        assert c[rule] == 8, (rule, c)  # 4 folds x 2 configs: every fold's training set grew


def test_changing_K_of_one_config_reruns_only_its_stores_and_folds(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    jobs = scheduled(project, *override(project, "k.yaml", "configs: {cas_micro: {K: 10}}\n"))
    c = counts(jobs)
    assert c["stage1_features"] == 3
    assert {wc["K"] for rule, wc in jobs if rule == "stage1_features"} == {"10"}
    assert c["landmarks"] == c["faces"] == c["stage2_features"] == 0
    fold_configs = {wc["config"] for rule, wc in jobs if "config" in wc}
    assert fold_configs == {"cas_micro"}


def test_a_training_override_retrains_only_that_network(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    text = "synthetic: {presets: {tiny: {train: {apex_net: {batch_size: 16}}}}}\n"
    c = counts(scheduled(project, *override(project, "train.yaml", text)))
    assert c["train_apex"] == 6 and c["spot"] == 6 and c["evaluate"] == 1
    assert c["train_interval"] == 0 and c["classical"] == 0
    assert not any(c[rule] for rule in (*PREPROCESS, "synthetic_subject", "annotations")), c


@pytest.mark.parametrize(
    "text, retrained",
    [
        ("synthetic: {presets: {tiny: {stage1_input: raw}}}\n", "train_apex"),
        ("apex_net: {init: xavier}\n", "train_apex"),
        ("interval_net: {init: xavier}\n", "train_interval"),
    ],
)
def test_stage1_scaling_or_init_retrains_only_that_network(tiny_run, tmp_path, text, retrained):
    project = clone_run(tiny_run, tmp_path / "p")
    c = counts(scheduled(project, *override(project, "net.yaml", text)))
    other = ({"train_apex", "train_interval"} - {retrained}).pop()
    assert c[retrained] == 6 and c["spot"] == 6 and c["evaluate"] == 1, c
    assert c[other] == 0 and c["classical"] == 0, c
    assert not any(c[rule] for rule in (*PREPROCESS, "synthetic_subject", "annotations")), c


def test_face_interpolation_reruns_the_faces_and_everything_after(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    text = "preprocess: {face_interpolation: area}\n"
    c = counts(scheduled(project, *override(project, "faces.yaml", text)))
    assert c["faces"] == 3 and c["stage2_features"] == 3 and c["stage1_features"] == 6, c
    assert c["landmarks"] == 0 and c["synthetic_subject"] == 0, c
    assert c["train_apex"] == c["train_interval"] == c["spot"] == c["classical"] == 6, c


def test_editing_one_annotation_row_reruns_no_preprocessing(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    book_path = project / "results/synthetic/data/CAS(ME)^2code_final.xlsx"
    book = openpyxl.load_workbook(book_path)
    sheet = book["CASFEcode_final"]
    sheet.cell(row=1, column=3).value = int(sheet.cell(row=1, column=3).value) + 1  # onset
    book.save(book_path)
    c = counts(scheduled(project, *TINY))
    assert c["annotations"] == 1
    assert not any(c[rule] for rule in PREPROCESS), c
    assert c["train_apex"] == 6 and c["evaluate"] == 1


@pytest.fixture(scope="module")
def casme2_copy_run(tiny_run, tmp_path_factory):
    """The tiny data as a CAS(ME)^2 copy (path with a space and non-ASCII), read as real data."""
    root = tmp_path_factory.mktemp("real") / "CAS(ME)² copy"
    import shutil

    shutil.copytree(tiny_run / "results/synthetic/data", root)
    project = make_project(tmp_path_factory.mktemp("casme2") / "project")
    args = (*TINY, "--config", "dataset=casme2", f"data_root={root}")
    snakemake(project, "--cores", "2", *args)
    return project, root, args


def test_casme2_layout_copy_runs_end_to_end(casme2_copy_run):
    project, _, _ = casme2_copy_run
    metrics = json.loads((project / "results/casme2/evaluation/metrics.json").read_text())
    assert metrics["overall"]["M"] > 0
    assert scheduled(project, *casme2_copy_run[2]) == []


def test_changing_one_videos_frames_reruns_only_that_video(casme2_copy_run, tmp_path):
    project, root, args = casme2_copy_run
    frame = root / "rawpic" / "s16" / "16_0101disgustingteeth" / "img20.jpg"
    image = cv2.imdecode(np.fromfile(frame, np.uint8), cv2.IMREAD_GRAYSCALE)
    ok, data = cv2.imencode(".jpg", 255 - image)
    assert ok
    original = frame.read_bytes()
    try:
        frame.write_bytes(data.tobytes())
        jobs = scheduled(project, *args)
    finally:
        frame.write_bytes(original)
    pre = [(rule, wc["video"]) for rule, wc in jobs if rule in PREPROCESS]
    assert {video for _, video in pre} == {"s16_0101"}
    assert counts(jobs)["stage1_features"] == 2 and counts(jobs)["annotations"] == 0


def test_casme3_layout_preset_runs_end_to_end(tmp_path, cfg):
    """Frames numbered from 3 with drops, both workbooks: the CAS(ME)^3 reader, the frame-gap
    filling in the landmarks and faces jobs and every later rule."""
    project = make_project(tmp_path / "project")
    snakemake(project, "--cores", "2", "--configfile", "tests/configs/c3_tiny.yaml")
    res = project / "results" / "synthetic"
    videos = pd.read_csv(res / "videos.csv", dtype={"video": str, "subject": str})
    assert videos["video"].tolist() == ["spNO.1_a", "spNO.2_a", "spNO.3_a"]
    n = cfg["synthetic"]["presets"]["c3_tiny"]["frames"]
    assert videos[["first_frame", "n_frames"]].values.tolist() == [[3, n]] * 3
    faces = zarr.open_array(res / "faces/spNO.1_a.zarr", mode="r")
    assert faces.shape[0] == n and faces.attrs["first_frame"] == 3
    log = (res / "logs" / "annotations.log").read_text()
    assert "filled 6 missing frame(s) from the frame before in 3 of 3 videos" in log
    # Raw labels in annotations.csv, classes in emotions.csv (a mapping change reruns no
    # spotting job); the run names the spotted micro-expressions and scores STR.
    annotations = pd.read_csv(res / "annotations.csv")
    assert annotations.columns[-1] == "emotion_raw" and "emotion" not in annotations
    emotions = pd.read_csv(res / "emotions.csv", keep_default_na=False)
    micro = emotions[emotions["type"] == "micro"]
    assert len(micro) and set(micro["emotion"]) <= {"negative", "positive", "surprise", "others"}
    assert (res / "evaluation" / "metrics.json").is_file()
    assert json.loads((res / "evaluation" / "str.json").read_text())["available"] is True
    assert (res / "submission" / "str.csv").is_file()


def test_samm_layout_preset_runs_end_to_end(tmp_path, cfg):
    project = make_project(tmp_path / "project")
    snakemake(project, "--cores", "2", "--configfile", "tests/configs/samm_tiny.yaml")
    res = project / "results" / "synthetic"
    videos = pd.read_csv(res / "videos.csv", dtype={"video": str, "subject": str})
    assert set(videos["fps"]) == {cfg["datasets"]["samm_lv"]["fps"]}
    assert videos["video"].tolist() == ["006_1", "007_1", "008_1"]
    n = int(videos["n_frames"].iloc[0])
    for name in ("samm_micro", "samm_macro"):
        K = cfg["configs"][name]["K"]
        store = zarr.open_array(res / f"features/stage1/K{K}/006_1.zarr", mode="r")
        assert store.shape == (n - K, 3, 42, 42)
    assert (res / "evaluation" / "metrics.json").is_file()
    # No short-clip workbook in this layout: no emotion labels, so STR says why it has no scores.
    metrics = json.loads((res / "evaluation" / "str.json").read_text())
    assert metrics["available"] is False and "clip_workbook" in metrics["reason"], metrics
    assert (res / "submission" / "spotting.csv").is_file()
    assert not (res / "submission" / "str.csv").exists()
