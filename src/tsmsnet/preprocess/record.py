"""The preprocessing record: what a model's inputs went through, built once from config.yaml.

The workflow builds it once per DAG and passes it to both training rules; each checkpoint keeps
it, so `tsmsnet spot` preprocesses a new video exactly as the training videos were.
"""

from __future__ import annotations

from tsmsnet.preprocess.flow import flow_settings

# What every record holds (the CLI checks that a model set agrees on them).
KEYS = (
    "face_size",
    "face_interpolation",
    "landmarks",
    "flow",
    "features",
    "stage2_stride",
    "chunk_frames",
)
# Keys that records written before they existed lack: what those models' inputs went through.
LEGACY = {"face_interpolation": "area"}


def preprocess_record(cfg: dict) -> dict:
    """config.yaml `preprocess` as the jobs applied it: flow method and only its parameters
    (no device: the features do not depend on it), stage-2 stride, store chunking."""
    pre = cfg["preprocess"]
    return {
        "face_size": int(pre["face_size"]),
        "face_interpolation": str(pre["face_interpolation"]),
        "landmarks": dict(pre["landmarks"]),
        "flow": flow_settings(pre["flow"]),
        "features": dict(pre["features"]),
        "stage2_stride": int(pre["stage2_stride"]),
        "chunk_frames": int(pre["chunk_frames"]),
    }


def complete_record(record: dict) -> dict:
    """A checkpoint's preprocessing record with the LEGACY value for each key it lacks."""
    return {**LEGACY, **record}
