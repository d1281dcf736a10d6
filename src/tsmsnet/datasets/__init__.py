"""Dataset readers: one entry point per question the workflow asks, whatever the dataset.

`discover_videos` lists videos from folder names (cheap, for building the DAG);
`read_dataset` reads the annotations and frame counts into the contract tables.
"""

from __future__ import annotations

import pandas as pd

from tsmsnet.datasets.casme2 import discover_casme2, read_casme2
from tsmsnet.datasets.samm import discover_samm, read_samm
from tsmsnet.datasets.sheet import discover_sheet, read_sheet
from tsmsnet.errors import ConfigError

READERS = {"casme2": read_casme2, "samm_lv": read_samm, "sheet": read_sheet}
DISCOVERERS = {"casme2": discover_casme2, "samm_lv": discover_samm, "sheet": discover_sheet}

__all__ = ["DISCOVERERS", "READERS", "discover_videos", "read_dataset"]


def _pick(table: dict, dataset: str):
    if dataset not in table:
        raise ConfigError(f"unknown dataset {dataset!r}: known readers are {', '.join(table)}")
    return table[dataset]


def read_dataset(
    dataset: str, data_root, dataset_cfg: dict, log=print
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(videos, annotations) tables of docs/contracts.md; quirks reported through `log`
    (a print-like callable or a logging.Logger)."""
    return _pick(READERS, dataset)(data_root, dataset_cfg, log)


def discover_videos(dataset: str, data_root, dataset_cfg: dict) -> pd.DataFrame:
    """DataFrame[subject, video, source] from folder names only (fast at hundreds of videos)."""
    return _pick(DISCOVERERS, dataset)(data_root, dataset_cfg)
