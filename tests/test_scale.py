"""Full-scale layouts (CAS(ME)^2 22 subjects / 98 videos, SAMM-LV 30 / 147) of zero-byte
placeholder frames: the DAG builds from folder listings only (no frame is decoded), schedules
the right jobs per rule, and adding one subject reruns only its per-video jobs and the folds.
(DAG build times are benchmarks/run.py's business, not the tests'.)
"""

import pytest

from benchmarks.fixtures.dryrun import dry_run, mark_done
from benchmarks.fixtures.layout import full_scale_layout
from tests.workflow_helpers import make_project

PER_VIDEO = ("landmarks", "faces", "stage1_features", "stage2_features")
# dataset -> subjects, videos, spotting configs, zero-byte frames per video (the fewest the
# longest K accepts: the DAG-time checks list every folder; real videos have thousands)
SCALE = {"casme2": (22, 98, 2, 40), "samm_lv": (30, 147, 2, 240)}


def expected(subjects: int, videos: int, configs: int) -> dict[str, int]:
    folds = subjects * configs
    return {
        "annotations": 1,
        "landmarks": videos,
        "faces": videos,
        "stage1_features": videos * configs,  # one store per K
        "stage2_features": videos,
        "train_apex": folds,
        "train_interval": folds,
        "spot": folds,
        "classical": folds,
        "roi_curves": videos,
        "roi_flow": folds,
        "refine": folds,
        "evaluate": 1,
    }


@pytest.mark.parametrize("dataset", sorted(SCALE))
def test_full_scale_dry_run_and_one_more_subject(dataset, tmp_path):
    subjects, videos, configs, frames = SCALE[dataset]
    project = make_project(tmp_path / "project")
    root = tmp_path / "data"
    layout = full_scale_layout(dataset, root, frames=frames)
    assert (layout["subject"].nunique(), len(layout)) == (subjects, videos)
    args = ("--config", f"dataset={dataset}", f"data_root={root}")

    first = dry_run(project, *args)
    c = first.counts()
    want = expected(subjects, videos, configs)
    assert {rule: c[rule] for rule in want} == want  # (report rules may come on top)

    mark_done(project, first.jobs, sources=[root])
    new = full_scale_layout(dataset, root, extra_subjects=[4], frames=frames)
    added = new[~new["video"].isin(layout["video"])]
    assert len(added) == 4 and added["subject"].nunique() == 1
    (subject,) = set(added["subject"])

    again = dry_run(project, *args)
    c = again.counts()
    per_video = {(j.rule, j.wildcards["video"]) for j in again.jobs if j.rule in PER_VIDEO}
    assert {video for _, video in per_video} == set(added["video"])
    assert [c[rule] for rule in PER_VIDEO] == [4, 4, 4 * configs, 4]
    folds = (subjects + 1) * configs  # every fold's training set grew
    assert (c["train_apex"], c["train_interval"], c["spot"]) == (folds, folds, folds)
    assert c["refine"] == folds  # every fold's training subjects grew
    # classical needs no training: only the new subject's folds
    assert {j.wildcards["subject"] for j in again.jobs if j.rule == "classical"} == {subject}
    assert (c["classical"], c["annotations"], c["evaluate"]) == (configs, 1, 1)
    # The training-free spotter: curves of the new videos only, every fold's search again.
    assert {j.wildcards["video"] for j in again.jobs if j.rule == "roi_curves"} == set(
        added["video"]
    )
    assert c["roi_flow"] == folds
