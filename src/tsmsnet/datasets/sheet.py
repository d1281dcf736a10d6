"""Any other dataset, described by two CSVs in the data root (our own sheet format).

videos.csv: video, subject, source (frames folder or video file, relative to the data root or
absolute), fps. ground_truth.csv: video, type, onset, apex, offset (as the conformance files).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tsmsnet.datasets.table import (
    RAW_ANNOTATION_COLUMNS,
    as_log,
    build_tables,
    build_videos,
    data_root_path,
    discovered_frame,
)
from tsmsnet.datasets.workbooks import frame_number
from tsmsnet.errors import AnnotationError

NAME = "sheet"
VIDEO_SHEET_COLUMNS = ["video", "subject", "source", "fps"]
TRUTH_COLUMNS = ["video", "type", "onset", "apex", "offset"]
# The sheet is taken as written: no choice shapes the training intervals.
TARGET_KEYS = ()
# CSV line of DataFrame row 0 (line 1 is the header).
FIRST_DATA_LINE = 2


def _read_csv(path: Path, columns: list[str], what: str) -> pd.DataFrame:
    """All cells as stripped text, so ids like '006' keep their zeros; columns checked."""
    if not path.is_file():
        raise AnnotationError(
            f"{what} {path} not found: write it with columns {', '.join(columns)}"
        )
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise AnnotationError(
            f"{path} lacks column(s) {', '.join(missing)} (has {', '.join(table.columns)}): "
            f"use the header {','.join(columns)}"
        )
    table = table[columns].apply(lambda col: col.str.strip())
    for column in columns:
        empty = table.index[table[column] == ""]
        if len(empty):
            raise AnnotationError(
                f"{path}, line {empty[0] + FIRST_DATA_LINE}: empty {column}: fill it in"
            )
    return table


def annotation_files(data_root, cfg: dict, present: bool = True) -> list[Path]:
    """The two sheets this reader reads: videos, then ground truth (checked when read)."""
    root = Path(data_root)
    return [root / cfg["videos"], root / cfg["ground_truth"]]


def _video_sheet(root: Path, cfg: dict) -> tuple[Path, pd.DataFrame]:
    path = annotation_files(root, cfg)[0]
    table = _read_csv(path, VIDEO_SHEET_COLUMNS, "video sheet")
    table["source"] = [str(p if Path(p).is_absolute() else root / p) for p in table["source"]]
    return path, table


def discover_sheet(data_root, cfg: dict) -> pd.DataFrame:
    """DataFrame[subject, video, source] from videos.csv alone (no frames listed)."""
    _, table = _video_sheet(data_root_path(data_root, NAME), cfg)
    return discovered_frame(table[["subject", "video", "source"]].to_dict("records"))


def _fps(path: Path, table: pd.DataFrame) -> dict[str, float]:
    fps = pd.to_numeric(table["fps"], errors="coerce")
    bad = table.index[~(fps > 0)]
    if len(bad):
        line = bad[0] + FIRST_DATA_LINE
        raise AnnotationError(
            f"{path}, line {line}: fps {table['fps'][bad[0]]!r} is not a positive number"
        )
    return dict(zip(table["video"], fps, strict=True))


def _truth_rows(path: Path, log) -> pd.DataFrame:
    table = _read_csv(path, TRUTH_COLUMNS, "ground-truth sheet")
    rows, fractional = [], []
    for i, row in enumerate(table.itertuples(index=False)):
        where = f"{path}, line {i + FIRST_DATA_LINE}"
        onset, f1 = frame_number(row.onset, where, "onset")
        apex, f2 = frame_number(row.apex, where, "apex")
        offset, f3 = frame_number(row.offset, where, "offset")
        if f1 or f2 or f3:
            fractional.append(i + FIRST_DATA_LINE)
        kind = row.type.lower()
        if kind not in ("macro", "micro"):
            raise AnnotationError(f"{where}: type {row.type!r} must be macro or micro")
        rows.append([row.video, kind, onset, apex, offset, where])
    if fractional:
        log(f"{NAME}: {len(fractional)} line(s) with fractional frames rounded down: {fractional}")
    return pd.DataFrame(rows, columns=RAW_ANNOTATION_COLUMNS)


def read_sheet(data_root, cfg: dict, log=print) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(videos, annotations) tables (datasets.table); fps per video from videos.csv."""
    log = as_log(log)
    root = data_root_path(data_root, NAME)
    path, table = _video_sheet(root, cfg)
    fps = _fps(path, table)
    discovered = discovered_frame(table[["subject", "video", "source"]].to_dict("records"))
    videos = build_videos(discovered, discovered["video"].map(fps))
    raw = _truth_rows(annotation_files(root, cfg)[1], log)
    return build_tables(videos, raw, log, NAME)
