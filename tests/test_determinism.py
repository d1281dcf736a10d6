"""Determinism: the same inputs and seed give the same outputs on CPU, byte for byte; another
seed gives other synthetic data.

The first run is the session's `tiny_run`; the second is a fresh project elsewhere (another
absolute path, so nothing may depend on where the project lives).
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

from tests.workflow_helpers import TINY, counts, make_project, scheduled, snakemake
from tsmsnet.config import load_config
from tsmsnet.synthetic.generate import generate_subject

pytestmark = pytest.mark.workflow

RES = Path("results/synthetic")


@pytest.fixture(scope="module")
def second_run(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("again") / "project")
    snakemake(project, "--cores", "2", *TINY)
    return project


def files(run: Path, under: str, pattern: str) -> list[Path]:
    return sorted(p.relative_to(run) for p in (run / RES / under).glob(pattern))


def differing(a: Path, b: Path, rels: list[Path]) -> list[str]:
    return [str(r) for r in rels if not filecmp.cmp(a / r, b / r, shallow=False)]


def test_data_tables_and_landmarks_are_byte_identical(tiny_run, second_run):
    rels = [RES / "videos.csv", RES / "annotations.csv", *files(tiny_run, "landmarks", "*.json")]
    rels += files(tiny_run, "generated", "*.csv") + files(tiny_run, "data", "*.*")
    assert len(rels) == 2 + 3 + 3 + 2  # tables, landmarks, truth per subject, workbook + csv
    frames = files(tiny_run, "data", "rawpic/*/*/*.jpg")
    assert len(frames) == 3 * 210
    assert differing(tiny_run, second_run, rels + frames) == []


def test_stores_decode_to_identical_arrays_and_attrs(tiny_run, second_run):
    stores = files(tiny_run, "faces", "*.zarr") + files(tiny_run, "features", "*/**/*.zarr")
    assert len(stores) == 3 + 3 * 2 + 3  # faces, stage 1 per K, stage 2
    assert stores == files(second_run, "faces", "*.zarr") + files(
        second_run, "features", "*/**/*.zarr"
    )
    for rel in stores:
        a = zarr.open_array(str(tiny_run / rel), mode="r")
        b = zarr.open_array(str(second_run / rel), mode="r")
        assert a.shape == b.shape and a.dtype == b.dtype, rel
        assert np.array_equal(a[:], b[:]), rel
        assert a.attrs.asdict() == b.attrs.asdict(), rel
        chunks = sorted(p.relative_to(tiny_run) for p in (tiny_run / rel).rglob("*") if p.is_file())
        assert differing(tiny_run, second_run, chunks) == [], rel


def test_models_have_identical_tensors(tiny_run, second_run):
    models = files(tiny_run, "models", "*/*/*.pt")
    # configs x folds x stages, and one recognition network per fold (models/recognition/)
    assert len(models) == 2 * 3 * 2 + 3
    for rel in models:
        a = torch.load(tiny_run / rel, map_location="cpu", weights_only=False)
        b = torch.load(second_run / rel, map_location="cpu", weights_only=False)
        assert a["state_dict"].keys() == b["state_dict"].keys(), rel
        for name, tensor in a["state_dict"].items():
            assert torch.equal(tensor, b["state_dict"][name]), (rel, name)
        assert a["losses"] == b["losses"], rel
    side = files(tiny_run, "models", "*/*/*.csv") + files(tiny_run, "models", "*/*/*.yaml")
    assert differing(tiny_run, second_run, side) == []


def test_predictions_and_metrics_are_byte_identical(tiny_run, second_run):
    predictions = files(tiny_run, "spotting", "*/*/*.csv")
    # configs x folds x (step1, step2, classical, scores, roi_flow, step2_refined)
    assert len(predictions) == 2 * 3 * 6
    evaluation = files(tiny_run, "evaluation", "*")
    assert RES / "evaluation" / "metrics.json" in evaluation
    assert differing(tiny_run, second_run, predictions + evaluation) == []


def test_another_seed_gives_other_synthetic_data(tmp_path, tiny_run):
    """Generation only (one small subject): same seed -> same bytes, seed 7 -> other data."""
    synthetic = load_config()["synthetic"]
    synthetic["presets"] = {
        "mini": {
            "layout": "casme2",
            "subjects": 1,
            "videos_per_subject": 1,
            "frames": 60,
            "image_size": 96,
        }
    }

    def generate(seed: int, where: str):
        rows = generate_subject(tmp_path / where, 0, synthetic, "mini", seed, fps=30)
        frames = sorted((tmp_path / where).rglob("*.jpg"))
        return rows, {f.name: f.read_bytes() for f in frames}

    rows_a, frames_a = generate(2021, "a")
    rows_b, frames_b = generate(2021, "b")
    rows_c, frames_c = generate(7, "c")
    assert len(frames_a) == 60
    assert rows_a.equals(rows_b) and frames_a == frames_b
    assert frames_a.keys() == frames_c.keys()
    assert all(frames_a[name] != frames_c[name] for name in frames_a)
    # Through the CLI: the seed is a param of the generating jobs, so everything reruns.
    jobs = counts(scheduled(tiny_run, *TINY, "--config", "seed=7"))
    assert jobs["synthetic_subject"] == 3 and jobs["evaluate"] == 1
