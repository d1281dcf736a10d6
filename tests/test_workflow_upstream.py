"""models=upstream through the real snakemake CLI: upstream's published weights (here a fake
checkout, our fresh nets under upstream's names) spot every fold instead of our training, a
subject without a fold of its own by the ensemble of all folds, and switching `models` on a
finished tiny run reruns only spotting, evaluation and report jobs."""

from __future__ import annotations

import json

import pytest
import yaml

from benchmarks.fixtures.dryrun import dry_run
from tests.upstream_helpers import fake_checkout, upstream_names
from tests.workflow_helpers import TINY, clone_run, counts, make_project, scheduled, snakemake

pytestmark = pytest.mark.workflow

SUBJECTS = ["s15", "s16", "s17"]  # the tiny preset's
CONFIGS = ["cas_micro", "cas_macro"]
UPSTREAM_MODELS = "results/synthetic/upstream_models"
STAGE_FILES = ("apex.pt", "interval.pt", "apex_config.yaml", "interval_config.yaml")


def upstream(checkout, *configfiles: str) -> tuple[str, ...]:
    """The tiny run's arguments (more config files merged over it) with upstream's models."""
    return (*TINY, *configfiles, "--config", "models=upstream", f"upstream_weights={checkout}")


def spot_models(run) -> dict[tuple[str, str], list[str]]:
    """(config, subject) -> the checkpoints its spot job reads."""
    return {
        (job.wildcards["config"], job.wildcards["subject"]): sorted(
            i for i in job.inputs if i.endswith(".pt")
        )
        for job in run.jobs
        if job.rule == "spot"
    }


def fold_files(config: str, subjects, names=("apex.pt", "interval.pt")) -> list[str]:
    return sorted(f"{UPSTREAM_MODELS}/{config}/{s}/{n}" for s in subjects for n in names)


def test_upstream_weights_replace_training_and_cover_subjects_without_a_fold(cfg, tmp_path):
    project = make_project(tmp_path / "p")
    folds = {"cas_micro": ["s15", "s16"], "cas_macro": SUBJECTS}
    checkout = fake_checkout(tmp_path / "MEGC2021", cfg, folds)
    # Tiny data without micro expressions: s17 holds none, so no micro fold of upstream saw it.
    (project / "no_micro.yaml").write_text("synthetic: {expressions: {micro: {per_video: 0}}}\n")
    run = dry_run(project, *upstream(checkout, "no_micro.yaml"))
    c = run.counts()
    assert c["import_upstream"] == 1 and c["spot"] == 6 and c["classical"] == 6
    assert not {"train_apex", "train_interval", "loss_plot", "refine"} & set(c), c
    (job,) = [j for j in run.jobs if j.rule == "import_upstream"]
    assert sorted(job.outputs) == sorted(
        f for config, subjects in folds.items() for f in fold_files(config, subjects, STAGE_FILES)
    )
    assert sorted(job.inputs) == sorted(
        str(checkout / "weights" / stage / config.replace("_", "-") / name)
        for config, subjects in folds.items()
        for s in subjects
        for stage, name in zip(("1st", "2nd"), upstream_names(config, s).values(), strict=True)
    )
    models = spot_models(run)
    assert models[("cas_micro", "s17")] == fold_files("cas_micro", ["s15", "s16"])  # ensemble
    for s in ("s15", "s16"):
        assert models[("cas_micro", s)] == fold_files("cas_micro", [s])
    for s in SUBJECTS:
        assert models[("cas_macro", s)] == fold_files("cas_macro", [s])

    # With micro expressions (the tiny preset's own data) every fold of upstream trained on
    # s17: the dry run stops before any job, naming the subject and the config.
    proc = snakemake(project, "-n", *upstream(checkout), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    (line,) = [line for line in out.splitlines() if line.startswith("tsmsnet: ")]
    assert line.startswith(
        "tsmsnet: subject s17 holds ground truth of cas_micro's type but upstream's weights have "
        "no fold holding it out (folds: s15, s16): every fold trained on it"
    )
    assert not (project / "results").exists()


def test_switching_models_reruns_only_spotting_evaluation_and_report(tiny_run, cfg, tmp_path):
    """Costs one import, 6 spot jobs, evaluation and 7 plots on the tiny run (~1 min, 2 cores)."""
    project = clone_run(tiny_run, tmp_path / "p")
    checkout = fake_checkout(tmp_path / "MEGC2021", cfg, {c: SUBJECTS for c in CONFIGS})
    # Spotting and all that reads it: our recognisers name the new intervals (no retraining).
    rerun = {"spot": 6, "evaluate": 1, "f1_tables": 1, "score_plot": 6, "recognize": 3}
    rerun |= {"evaluate_str": 1, "str_report": 1, "spotting_submission": 1, "str_submission": 1}
    assert counts(scheduled(project, *upstream(checkout))) == {"import_upstream": 1, **rerun}
    res = project / "results" / "synthetic"
    trained = {p: p.stat().st_mtime_ns for p in (res / "models").rglob("*")}
    ours = json.loads((res / "evaluation" / "metrics.json").read_text())["models"]
    assert ours == "our LOSO retraining (fixed epochs: 3 stage 1, 3 stage 2; seed 2021)"

    snakemake(project, "--cores", "2", *upstream(checkout))
    theirs = json.loads((res / "evaluation" / "metrics.json").read_text())["models"]
    assert theirs.startswith(
        "upstream's published weights (xly135846/MEGC2021 commit unknown (the folder is not a "
        "git clone)): each fold's epoch was picked on its held-out subject's F1"
    )
    assert f"\nmodels: {theirs}\n" in (res / "evaluation" / "summary.txt").read_text()
    assert "upstream&#x27;s published weights" in (res / "report" / "f1_pooled.html").read_text()
    log = (res / "logs" / "spot" / "cas_micro" / "s16.log").read_text()
    assert "subject s16: spotted by its own fold" in log
    record = yaml.safe_load((res / "upstream_models/cas_micro/s16/apex_config.yaml").read_text())
    assert record["held_out"] == "s16" and record["source"] == "upstream"
    assert record["upstream"]["file"] == "weights/1st/cas-micro/net_min_loss_163_0.5.pt"
    assert {p: p.stat().st_mtime_ns for p in (res / "models").rglob("*")} == trained
    assert scheduled(project, *upstream(checkout)) == []

    # Back to our models: they are still there, only spotting and what follows reruns (with
    # the refinement of step 2, which upstream's models do not get; roi_flow needs no models).
    assert counts(scheduled(project, *TINY)) == {**rerun, "refine": 6}
