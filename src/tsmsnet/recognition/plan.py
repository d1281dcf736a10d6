"""What the workflow's recognition rules need from the config, decided once at DAG time."""

from __future__ import annotations

from tsmsnet.errors import ConfigError


def micro_config(configs: list[str], spot: dict[str, dict]) -> str | None:
    """The dataset's first spotting config of type micro (its stage-1 stores are read and its
    intervals named), or None where it spots no micro-expressions."""
    return next((name for name in configs if spot[name]["type"] == "micro"), None)


def check_method(method: str, methods: list[str]) -> str:
    """ConfigError unless recognition.method is one of the run's methods (model_source.methods)."""
    if method not in methods:
        raise ConfigError(
            f"recognition.method is {method!r}, which this run does not spot with (its methods: "
            f"{', '.join(methods)}): pick one of them"
        )
    return method


def training_settings(section: dict) -> dict:
    """config `recognition` less what only the naming uses (`method`): changing which intervals
    get named retrains no network."""
    return {k: v for k, v in section.items() if k != "method"}
