"""What the benchmark jobs and sections share: the measured sizes and the project's config."""

from __future__ import annotations

K = 42  # SAMM micro: the stage-1 skip every memory and throughput number here uses
STRIDE = 4
FACE = 128
CHUNK = 64


def project_config() -> dict:
    """config.yaml as the workflow reads it (each job loads it afresh)."""
    from tsmsnet.config import DEFAULT_CONFIG, load_config

    return load_config(DEFAULT_CONFIG)
