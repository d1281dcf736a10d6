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
