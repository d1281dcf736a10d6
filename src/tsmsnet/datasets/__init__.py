"""Dataset readers: one entry point per question the workflow asks, whatever the dataset.

`discover_videos` lists videos from folder names (cheap, for building the DAG);
`annotation_files` names the files that hold the annotations (the DAG's inputs, the readers'
files, the synthetic generator's outputs); `read_dataset` reads the annotations and frame
counts into the normalised tables of tsmsnet.datasets.table; `target_settings` names the
reader choices that shape the training intervals (for the checkpoints' records).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tsmsnet.datasets import casme2, casme3, samm, sheet
from tsmsnet.errors import ConfigError
from tsmsnet.runlog import Log

READERS = {
    "casme2": casme2.read_casme2,
    "casme3": casme3.read_casme3,
    "samm_lv": samm.read_samm,
    "sheet": sheet.read_sheet,
}
DISCOVERERS = {
    "casme2": casme2.discover_casme2,
    "casme3": casme3.discover_casme3,
    "samm_lv": samm.discover_samm,
    "sheet": sheet.discover_sheet,
}
ANNOTATION_FILES = {
    "casme2": casme2.annotation_files,
    "casme3": casme3.annotation_files,
    "samm_lv": samm.annotation_files,
    "sheet": sheet.annotation_files,
}
TARGET_KEYS = {
    "casme2": casme2.TARGET_KEYS,
    "casme3": casme3.TARGET_KEYS,
    "samm_lv": samm.TARGET_KEYS,
    "sheet": sheet.TARGET_KEYS,
}

__all__ = [
    "DISCOVERERS",
    "READERS",
    "annotation_files",
    "discover_videos",
    "fills_frame_gaps",
    "has_emotions",
    "read_dataset",
    "target_settings",
]


def _pick(table: dict, dataset: str):
    if dataset not in table:
        raise ConfigError(f"unknown dataset {dataset!r}: known readers are {', '.join(table)}")
    return table[dataset]


def read_dataset(
    dataset: str, data_root, dataset_cfg: dict, log: Log = print
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(videos, annotations) tables; quirks reported through `log` (a print-like callable or a
    logging.Logger)."""
    return _pick(READERS, dataset)(data_root, dataset_cfg, log)


def discover_videos(dataset: str, data_root, dataset_cfg: dict) -> pd.DataFrame:
    """DataFrame[subject, video, source] from folder names only (fast at hundreds of videos)."""
    return _pick(DISCOVERERS, dataset)(data_root, dataset_cfg)


def annotation_files(
    dataset: str, data_root, dataset_cfg: dict, present: bool = True
) -> list[Path]:
    """The files `read_dataset` reads the annotations from, under `data_root` as given.

    present=False names them before they exist (the synthetic generator writes them there).
    """
    return _pick(ANNOTATION_FILES, dataset)(data_root, dataset_cfg, present)


def target_settings(dataset: str, dataset_cfg: dict) -> dict:
    """The reader and its choices that shape the training intervals, e.g. {"reader": "samm_lv",
    "train_onset_zero": "apex", "apex_missing": "midpoint"}: what a checkpoint records."""
    keys = _pick(TARGET_KEYS, dataset)
    return {"reader": dataset, **{key: dataset_cfg[key] for key in keys}}


def fills_frame_gaps(dataset: str, dataset_cfg: dict) -> bool:
    """Whether the dataset's missing frame numbers read the frame before (FrameSource's
    fill_gaps): datasets.<name>.frame_gaps: fill. Readers without that key (CAS(ME)^2,
    SAMM-LV, sheet) never fill: a gap there stays an error."""
    _pick(READERS, dataset)
    return dataset_cfg.get("frame_gaps") == "fill"


# How many annotation files carry emotion labels, per dataset: CAS(ME)^2's one workbook (column
# G); CAS(ME)^3 and SAMM-LV only with their second one (the label or short-clip workbook).
EMOTION_FILES = {"casme2": 1, "casme3": 2, "samm_lv": 2}


def has_emotions(dataset: str, files: list) -> bool:
    """Whether the annotations read from `files` (annotation_files' list) carry emotion labels,
    so that recognition can train: a sheet never does."""
    _pick(READERS, dataset)
    return dataset in EMOTION_FILES and len(files) >= EMOTION_FILES[dataset]
