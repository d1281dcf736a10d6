"""The videos and annotations tables every reader returns, and their consistency checks.

Readers differ in how they parse a dataset; they all end here so that every dataset gives the
same columns and the same guarantees (unique ids, intervals inside the frames).

Each annotation row carries two intervals: onset..offset as the protocol scores it, and
train_onset..train_offset, what training targets use. They differ only where a reader
substitutes for training (SAMM-LV's unknown onset 0 trains as the apex, as upstream did).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tsmsnet.datasets.frames import FrameSource
from tsmsnet.errors import AnnotationError, InputError
from tsmsnet.runlog import Log

VIDEO_COLUMNS = ["subject", "video", "fps", "source", "first_frame", "n_frames"]
ANNOTATION_COLUMNS = [
    "subject",
    "video",
    "type",
    "onset",
    "apex",
    "offset",
    "train_onset",
    "train_offset",
    "fps",
    "source",
    "first_frame",
    "n_frames",
    # Emotion of the expression (STR): the label text as the dataset writes it, stripped, and
    # its class under datasets.<name>.emotions; "" where the reader has none.
    "emotion_raw",
    "emotion",
]
EMOTION_COLUMNS = ["emotion_raw", "emotion"]
DISCOVER_COLUMNS = ["subject", "video", "source"]
# Parsed annotation rows as readers produce them; `origin` says where a row came from
# ("file, sheet, row 7") so that errors can point the user at it. A reader may add
# TRAIN_COLUMNS; build_tables fills them from onset and offset where it does not.
RAW_ANNOTATION_COLUMNS = ["video", "type", "onset", "apex", "offset", "origin"]
# The interval training targets use (steps.train reads these, the evaluation onset/offset).
TRAIN_COLUMNS = ["train_onset", "train_offset"]
FRAME_COLUMNS = ["onset", "apex", "offset", *TRAIN_COLUMNS]
EXPRESSION_TYPES = ("macro", "micro")
# Text columns: ids like '006' or '0101' must survive a round trip through CSV.
ID_DTYPES = {"video": str, "subject": str}


def read_annotations(path: str | Path) -> pd.DataFrame:
    """annotations.csv as the annotations rule wrote it (ids kept as text, no emotion "")."""
    table = pd.read_csv(path, dtype={**ID_DTYPES, **dict.fromkeys(EMOTION_COLUMNS, str)})
    for col in EMOTION_COLUMNS:
        if col in table:
            table[col] = table[col].fillna("")
    return table


def read_videos(path: str | Path) -> pd.DataFrame:
    """videos.csv as the annotations rule wrote it (ids kept as text)."""
    return pd.read_csv(path, dtype=ID_DTYPES)


def as_log(log) -> Log:
    """Accept a print-like callable or a logging.Logger."""
    return log.info if hasattr(log, "info") else log


def data_root_path(data_root, dataset: str) -> Path:
    """Absolute data root, or an error saying how to point the config at the dataset."""
    if data_root is None or not str(data_root).strip():
        raise InputError(
            f"dataset {dataset}: data_root is empty: run with --config data_root=/path/to/data"
        )
    root = Path(data_root).expanduser().resolve()
    if not root.is_dir():
        raise InputError(
            f"dataset {dataset}: data_root {root} does not exist or is not a folder: "
            "set data_root to the dataset folder as distributed"
        )
    return root


def discovered_frame(rows: list[dict]) -> pd.DataFrame:
    """DataFrame[subject, video, source] sorted by video id, ids checked unique."""
    table = pd.DataFrame(rows, columns=DISCOVER_COLUMNS)
    check_unique_videos(table)
    return table.sort_values("video", kind="stable").reset_index(drop=True)


def check_unique_videos(videos: pd.DataFrame, error: type[InputError] = InputError) -> None:
    """Two sources mapping to one video id would silently mix their frames."""
    dup = videos[videos["video"].duplicated(keep=False)]
    if len(dup):
        lines = "; ".join(f"{v}: {s}" for v, s in zip(dup["video"], dup["source"], strict=True))
        raise error(
            f"several sources give the same video id ({lines}): remove or rename the extra copies"
        )


def build_videos(
    discovered: pd.DataFrame, fps, fill_gaps: bool = False, missing: dict | None = None
) -> pd.DataFrame:
    """Videos table: frame counts from a folder listing (or the video header), no decoding.

    `fps` is one number for the whole dataset or a Series indexed like `discovered`.
    `fill_gaps` as FrameSource's; `missing`, when given, receives {video: missing frame
    numbers} (the frames filled).
    """
    firsts, counts = [], []
    for video, source in zip(discovered["video"], discovered["source"], strict=True):
        frames = FrameSource(source, fill_gaps=fill_gaps)
        firsts.append(frames.first_frame)
        counts.append(frames.n_frames)
        if missing is not None:
            missing[video] = frames.missing
    videos = discovered.copy()
    videos["fps"] = fps
    videos["first_frame"] = pd.Series(firsts, index=videos.index, dtype="int64")
    videos["n_frames"] = pd.Series(counts, index=videos.index, dtype="int64")
    return videos[VIDEO_COLUMNS].reset_index(drop=True)


def build_tables(
    videos: pd.DataFrame, raw: pd.DataFrame, log: Log, dataset: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join parsed rows to their videos, check them, and return the two contract tables.

    Training intervals the reader did not set are the scored ones (onset, offset).
    """
    raw = with_training_intervals(raw)
    for col in EMOTION_COLUMNS:  # readers without emotion labels
        if col not in raw:
            raw[col] = ""
    unannotated = check_annotations(videos, raw)
    annotations = raw.drop(columns=["origin"], errors="ignore").merge(
        videos, on="video", how="left", validate="many_to_one"
    )
    annotations = annotations[ANNOTATION_COLUMNS]
    for col in FRAME_COLUMNS:
        annotations[col] = annotations[col].astype("int64")
    annotations = annotations.sort_values(["video", "onset"], kind="stable").reset_index(drop=True)
    if unannotated:
        log(
            f"{dataset}: {len(unannotated)} video(s) without annotations (kept): "
            + ", ".join(unannotated)
        )
    counts = annotations["type"].value_counts()
    log(
        f"{dataset}: {len(videos)} videos, {len(annotations)} expressions "
        f"({counts.get('macro', 0)} macro, {counts.get('micro', 0)} micro)"
    )
    return videos, annotations


def with_training_intervals(raw: pd.DataFrame) -> pd.DataFrame:
    """`raw` with TRAIN_COLUMNS, copied from onset and offset where absent or empty."""
    raw = raw.copy()
    for train, scored in zip(TRAIN_COLUMNS, ("onset", "offset"), strict=True):
        raw[train] = raw[train].fillna(raw[scored]) if train in raw else raw[scored]
    return raw


def _where(row) -> str:
    origin = getattr(row, "origin", None)
    text = f"{row.video} {row.type} onset {row.onset} apex {row.apex} offset {row.offset}"
    return f"{origin} ({text})" if origin else f"annotation row {row.Index} ({text})"


def check_annotations(videos: pd.DataFrame, annotations: pd.DataFrame) -> list[str]:
    """Raise AnnotationError naming the row for rows the pipeline cannot use.

    An optional `origin` column in `annotations` ("file, sheet, row 7") is quoted in errors.
    Returns the ids of videos without annotations (fine: they are scored as all-negative).
    """
    check_unique_videos(videos, AnnotationError)
    by_video = videos.set_index("video")
    for row in annotations.itertuples():
        if row.video not in by_video.index:
            raise AnnotationError(
                f"{_where(row)} names video {row.video}, which has no frames under the data "
                "root: add its frames or remove the row"
            )
        if row.type not in EXPRESSION_TYPES:
            raise AnnotationError(f"{_where(row)}: type must be one of {EXPRESSION_TYPES}")
        if row.onset > row.offset:
            raise AnnotationError(f"{_where(row)}: onset is after offset; fix the row")
        train = (getattr(row, "train_onset", row.onset), getattr(row, "train_offset", row.offset))
        if train[0] > train[1]:
            raise AnnotationError(
                f"{_where(row)}: training interval {train[0]}..{train[1]} is empty (the "
                "reader's substitute onset is after the offset); fix the row"
            )
        video = by_video.loc[row.video]
        last = int(video["first_frame"]) + int(video["n_frames"]) - 1
        if row.offset > last:
            raise AnnotationError(
                f"{_where(row)}: offset {row.offset} is beyond the last frame {last} of "
                f"{video['source']}: fix the row or check that all frames are present"
            )
    return sorted(set(videos["video"]) - set(annotations["video"]))
