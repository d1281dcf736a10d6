"""The videos and annotations tables every reader returns, and their consistency checks.

Readers differ in how they parse a dataset; they all end here so that every dataset gives the
same columns and the same guarantees (unique ids, intervals inside the frames).

Each annotation row carries two intervals: onset..offset as the protocol scores it, and
train_onset..train_offset, what training targets use. They differ only where a reader
substitutes for training (SAMM-LV's unknown onset 0 trains as the apex, as upstream did).
Each row also carries its emotion label as the file writes it (emotion_raw), "" where the
dataset gives none, and, where a mapping is given (datasets.<name>.emotions), its class
(emotion): spot-then-recognise (STR) names classes, spotting ignores them. The workflow's
annotations.csv keeps the raw label only (mapping-independent); emotions.csv adds the class.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tsmsnet.datasets.frames import FrameSource
from tsmsnet.errors import AnnotationError, ConfigError, InputError
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
    "emotion_raw",
]
EMOTION_COLUMNS = ["emotion_raw", "emotion"]
# emotions.csv (rule emotions): the annotation rows and their class.
EMOTION_TABLE_COLUMNS = [*ANNOTATION_COLUMNS, "emotion"]
DISCOVER_COLUMNS = ["subject", "video", "source"]
# Parsed annotation rows as readers produce them; `origin` says where a row came from
# ("file, sheet, row 7") so that errors can point the user at it. A reader may add
# TRAIN_COLUMNS; build_tables fills them from onset and offset where it does not.
RAW_ANNOTATION_COLUMNS = ["video", "type", "onset", "apex", "offset", "origin"]
# A reader may add EMOTION_RAW (the label text as in the file); build_tables maps it to
# EMOTION through datasets.<name>.emotions. Classes: STR's three plus others (str.md).
# EMOTION_ORIGIN, where a label comes from another file than the row ("file, sheet, row 9"),
# is what an unknown label's error quotes instead of `origin`.
EMOTION_RAW, EMOTION, EMOTION_ORIGIN = "emotion_raw", "emotion", "emotion_origin"
EMOTION_CLASSES = ("negative", "positive", "surprise", "others")
# The interval training targets use (steps.train reads these, the evaluation onset/offset).
TRAIN_COLUMNS = ["train_onset", "train_offset"]
FRAME_COLUMNS = ["onset", "apex", "offset", *TRAIN_COLUMNS]
EXPRESSION_TYPES = ("macro", "micro")
# Text columns: ids like '006' or '0101' must survive a round trip through CSV.
ID_DTYPES = {"video": str, "subject": str}


def read_annotations(path: str | Path) -> pd.DataFrame:
    """annotations.csv as the annotations rule wrote it (ids and emotions kept as text; an
    empty emotion is "", not NaN)."""
    table = pd.read_csv(path, dtype={**ID_DTYPES, EMOTION_RAW: str, EMOTION: str})
    for column in (EMOTION_RAW, EMOTION):
        if column in table:
            table[column] = table[column].fillna("")
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
    videos: pd.DataFrame,
    raw: pd.DataFrame,
    log: Log,
    dataset: str,
    emotions: dict | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join parsed rows to their videos, check them, and return the two contract tables.

    Training intervals the reader did not set are the scored ones (onset, offset). `emotions`
    is datasets.<dataset>.emotions (raw label -> class): given, the annotations gain EMOTION
    (EMOTION_TABLE_COLUMNS); None keeps the raw labels only (ANNOTATION_COLUMNS), as the
    annotations rule writes them.
    """
    raw = with_training_intervals(raw)
    if emotions is None:
        raw = raw.assign(**{EMOTION_RAW: _raw_labels(raw)})
    else:
        raw = with_emotions(raw, emotions, dataset)
    unannotated = check_annotations(videos, raw)
    annotations = raw.drop(columns=["origin", EMOTION_ORIGIN], errors="ignore").merge(
        videos, on="video", how="left", validate="many_to_one"
    )
    annotations = annotations[ANNOTATION_COLUMNS if emotions is None else EMOTION_TABLE_COLUMNS]
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
    log_emotions(annotations, log, dataset)
    return videos, annotations


def emotion_classes(
    raw: pd.Series, mapping: dict | None, origins: pd.Series, dataset: str
) -> pd.Series:
    """The class of each raw label through `mapping` (labels matched case-insensitively after
    strip); "" stays "". A label the mapping lacks is an AnnotationError naming its first row.
    """
    labels = raw.fillna("").astype(str).str.strip()
    if not labels.ne("").any():
        return pd.Series("", index=raw.index, dtype=object)
    if not mapping:
        raise ConfigError(
            f"dataset {dataset}: the annotations carry emotion labels but "
            f"datasets.{dataset}.emotions is empty: map each label to one of {EMOTION_CLASSES}"
        )
    table = emotion_table(mapping, dataset)
    keys = labels.str.casefold()
    unknown = labels[keys.ne("") & ~keys.isin(list(table))]
    if len(unknown):
        first = unknown.groupby(unknown.str.casefold(), sort=True).head(1)
        where = "; ".join(f"{label!r} at {origins[i]}" for i, label in first.items())
        raise AnnotationError(
            f"dataset {dataset}: emotion label(s) not in datasets.{dataset}.emotions: {where}: "
            f"add each to that mapping in config.yaml (as one of {', '.join(EMOTION_CLASSES)}) "
            "or fix the cell"
        )
    return keys.map(lambda key: table.get(key, "")).astype(object)


def emotion_table(mapping: dict, dataset: str) -> dict[str, str]:
    """`mapping` keyed by case-folded, stripped label; classes checked."""
    table: dict[str, str] = {}
    for label, kind in mapping.items():
        key = str(label).strip().casefold()
        if kind not in EMOTION_CLASSES:
            raise ConfigError(
                f"datasets.{dataset}.emotions: {label!r} maps to {kind!r}, which is not one of "
                f"{', '.join(EMOTION_CLASSES)}"
            )
        if table.get(key, kind) != kind:
            raise ConfigError(
                f"datasets.{dataset}.emotions: {label!r} is mapped twice (labels match "
                f"case-insensitively), to {table[key]!r} and {kind!r}: keep one"
            )
        table[key] = kind
    return table


def _raw_labels(raw: pd.DataFrame) -> pd.Series:
    """EMOTION_RAW as stripped text, "" where absent."""
    labels = raw[EMOTION_RAW] if EMOTION_RAW in raw else pd.Series("", index=raw.index)
    return labels.fillna("").astype(str).str.strip()


def with_emotions(raw: pd.DataFrame, mapping: dict | None, dataset: str) -> pd.DataFrame:
    """`raw` with EMOTION_RAW (stripped text, "" where absent) and its class EMOTION."""
    raw = raw.copy()
    raw[EMOTION_RAW] = _raw_labels(raw)
    origins = raw["origin"] if "origin" in raw else pd.Series(raw.index, index=raw.index)
    if EMOTION_ORIGIN in raw:
        origins = raw[EMOTION_ORIGIN].where(raw[EMOTION_ORIGIN].fillna("").ne(""), origins)
    raw[EMOTION] = emotion_classes(raw[EMOTION_RAW], mapping, origins, dataset)
    return raw


def log_emotions(annotations: pd.DataFrame, log: Log, dataset: str) -> None:
    """Per type, how many expressions fall in each class (and how many have none); nothing
    where the table has raw labels only."""
    if EMOTION not in annotations:
        return
    if not annotations[EMOTION].ne("").any():
        log(f"{dataset}: no emotion labels")
        return
    for kind, rows in annotations.groupby("type", sort=True):
        counts = rows[EMOTION].replace("", "(none)").value_counts()
        order = [*EMOTION_CLASSES, "(none)"]
        log(
            f"{dataset}: {kind} emotions: "
            + ", ".join(f"{c} {counts[c]}" for c in order if c in counts)
        )


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
