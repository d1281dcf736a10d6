"""Data steps: generate the synthetic default, write its workbook, read any dataset's tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tsmsnet.atomic import atomic_csv
from tsmsnet.runlog import Log

_ACTIVE = "active"


def synthetic_subject(
    data_root: str,
    subject_index: int,
    preset: dict,
    synthetic: dict,
    fps: float,
    seed: int,
    face_size: int,
    truth_out: str,
    log: Log,
) -> pd.DataFrame:
    """Write one synthetic subject's frames and its ground-truth rows.

    `preset` comes without the subject count: a subject's frames never depend on it.
    """
    from tsmsnet.synthetic.generate import generate_subject

    synthetic_cfg = {**synthetic, "presets": {_ACTIVE: preset}}
    log(f"generating subject {subject_index} ({preset}) seed={seed}")
    rows = generate_subject(
        data_root, subject_index, synthetic_cfg, _ACTIVE, seed, fps, face_size=face_size, log=log
    )
    atomic_csv(rows, truth_out)
    log(f"{len(rows)} expressions written to {truth_out}")
    return rows


def synthetic_workbook(
    truth_csvs: list[str],
    layout: str,
    emotions: dict,
    workbook_outs: list[str],
    csv_out: str,
    log: Log,
) -> list[Path]:
    """All subjects' rows in the real layout's workbook(s), so the real reader runs end to
    end; each labelled from its kinds through `emotions` (config synthetic.emotions)."""
    from tsmsnet.synthetic.generate import write_ground_truth

    rows = pd.concat(
        [pd.read_csv(p, dtype={"subject": str, "video_name": str}) for p in truth_csvs]
    )
    paths = write_ground_truth(rows, layout, workbook_outs, csv_out, emotions)
    log(f"{len(rows)} expressions of {rows['subject'].nunique()} subjects -> {paths}")
    return paths


def annotation_tables(
    reader: str,
    data_root: str,
    reader_cfg: dict,
    videos_out: str,
    annotations_out: str,
    log: Log,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The normalised videos and annotations tables of any dataset, checked, then written.

    Sources inside the project are written relative to it (see `pipeline.portable_path`).
    """
    from tsmsnet.datasets import read_dataset
    from tsmsnet.datasets.table import check_annotations
    from tsmsnet.pipeline import portable_path

    videos, annotations = read_dataset(reader, data_root, reader_cfg, log=log)
    check_annotations(videos, annotations)
    # The readers return absolute sources; inside the project they are written relative, as
    # the DAG's video table has them, so the tables do not depend on the project's location.
    for table in (videos, annotations):
        table["source"] = [portable_path(s) for s in table["source"]]
    for kind in ("macro", "micro"):
        log(f"{kind}: {(annotations['type'] == kind).sum()} intervals")
    log(f"{len(videos)} videos of {videos['subject'].nunique()} subjects")
    atomic_csv(videos, videos_out)
    atomic_csv(annotations, annotations_out)
    return videos, annotations


def emotion_table(
    annotations_csv: str, dataset: str, mapping: dict, out: str, log: Log
) -> pd.DataFrame:
    """emotions.csv: the annotation rows (raw labels, as annotations.csv) plus each one's
    class through `mapping` (datasets.<dataset>.emotions); a label the mapping lacks is an
    error naming its row of annotations.csv. Only recognition, STR scoring and the report read
    it, so a new mapping reruns only those."""
    from tsmsnet.datasets.table import (
        EMOTION_RAW,
        EMOTION_TABLE_COLUMNS,
        log_emotions,
        read_annotations,
        with_emotions,
    )
    from tsmsnet.errors import InputError

    rows = read_annotations(annotations_csv)
    if EMOTION_RAW not in rows:
        raise InputError(
            f"{annotations_csv} has no {EMOTION_RAW} column (written by an older tsmsnet): rerun "
            "the annotations rule (snakemake --forcerun annotations)"
        )
    rows["origin"] = [f"{annotations_csv}, row {i + 2}" for i in range(len(rows))]
    table = with_emotions(rows, mapping or None, dataset)[EMOTION_TABLE_COLUMNS]
    log_emotions(table, log, dataset)
    atomic_csv(table, out)
    return table
