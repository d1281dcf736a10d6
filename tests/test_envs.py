"""Conda env files pin the same versions as pyproject.toml (one source of truth for users)."""

from __future__ import annotations

import tomllib

import pytest
import yaml

from tsmsnet.config import REPO_ROOT


def pins(specs) -> dict[str, str]:
    out = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        out[name.strip().lower()] = version.strip()
    return out


PROJECT = pins(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


@pytest.mark.parametrize("env", sorted((REPO_ROOT / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_env_pins_match_pyproject(env):
    deps = yaml.safe_load(env.read_text())["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    env_pins = pins(pip)
    assert env_pins, env
    for name, version in env_pins.items():
        assert PROJECT.get(name) == version, f"{env.name}: {name}=={version} vs pyproject"


def test_every_rule_declares_an_env():
    for rules in (REPO_ROOT / "workflow" / "rules").glob("*.smk"):
        text = rules.read_text()
        assert text.count("conda:") == text.count("script:"), rules.name
