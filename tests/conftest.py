"""Shared fixtures: the project's own config.yaml and the optional ../shared folder."""

from pathlib import Path

import pytest

from tsmsnet.config import DEFAULT_CONFIG, REPO_ROOT, load_config

SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture
def cfg() -> dict:
    """A fresh copy of config.yaml for each test (tests may modify it)."""
    return load_config(DEFAULT_CONFIG)


@pytest.fixture
def shared_dir() -> Path:
    """../shared when present (conformance data); tests using it skip otherwise."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The tiny CAS-layout preset run end to end once per session through the snakemake CLI.

    Read-only for tests: a test that changes inputs works on `clone_run(tiny_run, ...)`.
    """
    from tests.workflow_helpers import TINY, make_project, snakemake

    project = make_project(tmp_path_factory.mktemp("tiny") / "project")
    snakemake(project, "--cores", "2", *TINY)
    return project


@pytest.fixture(scope="session")
def mini_frames(tmp_path_factory) -> Path:
    """One short synthetic CAS-layout video (64 frames of 96x96 at 30 fps) as a frames folder:
    enough for `tsmsnet spot` with models of any CAS config, in seconds."""
    from tsmsnet.synthetic.generate import generate_subject

    synthetic = load_config(DEFAULT_CONFIG)["synthetic"]
    synthetic["presets"] = {
        "mini": {
            "layout": "casme2",
            "subjects": 1,
            "videos_per_subject": 1,
            "frames": 64,
            "image_size": 96,
        }
    }
    root = tmp_path_factory.mktemp("mini_frames")
    generate_subject(root, 0, synthetic, "mini", 2021, fps=30)
    (folder,) = [p for p in root.rglob("*") if p.is_dir() and any(p.glob("*.jpg"))]
    return folder


@pytest.fixture(scope="session")
def dis_config(tmp_path_factory) -> Path:
    """config.yaml with DIS flow (seconds instead of TV-L1's minutes on a test video)."""
    import yaml

    cfg = load_config(DEFAULT_CONFIG)
    cfg["preprocess"]["flow"]["method"] = "dis"
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path
