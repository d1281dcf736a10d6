"""What the workflow needs at DAG-build time: the video table and folds, from folder listings only.

The Snakefile, the CLI and the tests call these same functions, so the DAG they see is one.
Nothing here reads frames or workbooks: at full scale (245 videos, ~1M frames) it must take seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from tsmsnet.config import synthetic_preset
from tsmsnet.errors import ConfigError, InputError

GENERATED = "generated"


def results_dir(cfg: dict) -> str:
    """Outputs of dataset D live under results/D."""
    return f"results/{cfg['dataset']}"


def synthetic_data_root(cfg: dict) -> str:
    """Where the synthetic dataset is written, in a real dataset's layout."""
    return f"{results_dir(cfg)}/data"


def data_root(cfg: dict) -> str:
    """The folder the readers read: the generated one for synthetic, else config's data_root."""
    if cfg["dataset"] == "synthetic":
        return synthetic_data_root(cfg)
    root = cfg.get("data_root") or ""
    if not root:
        raise ConfigError(
            f"dataset={cfg['dataset']} needs data_root: run with "
            f"--config dataset={cfg['dataset']} data_root=/path/to/{cfg['dataset']}"
        )
    if not os.path.isdir(root):
        raise InputError(f"data_root '{root}' does not exist or is not a folder; check the path")
    return root


def reader_name(cfg: dict) -> str:
    """Which reader reads the dataset: synthetic data is read by the reader of its layout."""
    if cfg["dataset"] == "synthetic":
        return synthetic_preset(cfg)["layout"]
    return cfg["dataset"]


def video_table(cfg: dict) -> pd.DataFrame:
    """subject, video, source for every video, sorted; checked for duplicate ids."""
    dataset = cfg["dataset"]
    if dataset == "synthetic":
        from tsmsnet.synthetic.plan import planned_videos

        table = planned_videos(synthetic_preset(cfg), synthetic_data_root(cfg))
    else:
        from tsmsnet.datasets import discover_videos

        table = discover_videos(dataset, data_root(cfg), cfg["datasets"][dataset])
    table = table.astype({"subject": str, "video": str, "source": str})
    table["source"] = [portable_path(s) for s in table["source"]]
    dupes = table["video"][table["video"].duplicated()].unique()
    if len(dupes):
        raise InputError(f"duplicate video ids in {data_root(cfg)}: {', '.join(dupes[:5])}")
    return table.sort_values(["subject", "video"]).reset_index(drop=True)


def portable_path(path: str) -> str:
    """Paths inside the working directory (the project) relative to it, others as given.

    Snakemake matches rule outputs by these relative paths, and tables written with them do
    not depend on where the project lives (two runs elsewhere give the same bytes).
    """
    p = Path(path)
    if p.is_absolute():
        try:
            return str(p.relative_to(Path.cwd()))
        except ValueError:
            return str(p)
    return str(p)


def subjects(table: pd.DataFrame) -> list[str]:
    """Subjects in a stable order; leave-one-subject-out needs at least two."""
    names = sorted(table["subject"].unique())
    if len(names) < 2:
        raise InputError(
            f"leave-one-subject-out needs at least two subjects, found {len(names)} "
            f"({', '.join(names) or 'none'}); add subjects or use another dataset"
        )
    return names


@dataclass(frozen=True)
class Fold:
    """One leave-one-subject-out fold: the held-out subject is tested by models that never saw
    it (its videos are in `test` and never in `train`)."""

    held_out: str
    train: tuple[str, ...]  # videos of every other subject
    test: tuple[str, ...]  # videos of the held-out subject


def loso_folds(table: pd.DataFrame) -> dict[str, Fold]:
    """{held-out subject: Fold} in `subjects` order, from the video table (subject, video).

    The workflow's training and spotting inputs come from this, so what the tests check is
    what runs.
    """
    for column in ("subject", "video"):
        if column not in table.columns:
            raise InputError(f"videos table has no '{column}' column; LOSO folds need one")
    subject = table["subject"].astype(str)
    video = table["video"].astype(str)
    return {
        held: Fold(held, tuple(video[subject != held]), tuple(video[subject == held]))
        for held in subjects(table.assign(subject=subject))
    }


def frames_fingerprints(
    cfg: dict, sources: Iterable[str], background: bool
) -> Callable[[str], str]:
    """Freshness proof of each video's frames, by source, for the params rerun trigger.

    Frames the workflow generates are tracked by Snakemake itself; external frames get a
    stat fingerprint (names, sizes, mtimes) so one edited frame reruns that video only.
    `background`: all of `sources`, computed from now on in a second process (the DAG build
    asks for every one); else each on its first lookup (a cluster job asks for its own).
    """
    if cfg["dataset"] == "synthetic":
        return lambda source: GENERATED
    from tsmsnet.datasets.signature import Signatures, frames_signature

    if not background:
        return cache(frames_signature)
    signatures = Signatures(sources)
    return lambda source: signatures.result()[source]
