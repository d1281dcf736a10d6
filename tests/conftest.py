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
