"""The files of the spot-then-recognise task (../shared/design/str.md, "Submission files"):
the challenge's spotting and STR CSVs, str.json and the confusion table.

The organisers publish no exact file names in any scorer we found; the callers choose them.
Frame numbers stay the dataset's own (the annotations' 1-based ones). Builders are pure;
writers go through tsmsnet.atomic.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from tsmsnet.atomic import atomic_csv, atomic_json
from tsmsnet.errors import InputError
from tsmsnet.evaluation.megc import normalise
from tsmsnet.evaluation.strs import StrOptions, predictions_micro

SPOTTING_COLUMNS = ("vid", "onset", "offset", "type")
STR_COLUMNS = ("subject", "video", "onset", "offset", "emotion")
TYPE_CODES = {"micro": "me", "macro": "mae"}  # MEGC 2023 / 2024 CCS spotting files
# Where the workflow (results/<dataset>/) and `tsmsnet spot` (its output folder) put them; ours,
# as the organisers publish no file names.
FOLDER, SPOTTING_FILE, STR_FILE = "submission", "spotting.csv", "str.csv"


def spotting_submission(predictions: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """`vid,onset,offset,type` (type me or mae) from intervals with video, type, onset, offset."""
    table = normalise(predictions, "predictions", source)
    out = pd.DataFrame(
        {
            "vid": table["video"],
            "onset": table["onset"],
            "offset": table["offset"],
            "type": table["type"].map(TYPE_CODES),
        }
    )
    return out.sort_values(["vid", "onset", "offset", "type"], ignore_index=True)


def str_submission(
    predictions: pd.DataFrame,
    options: StrOptions,
    subjects: Mapping[str, str] | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """`subject,video,onset,offset,emotion` of the predicted micro-expressions whose class is in
    the list (those recognised as others are left out).

    The subject comes from `subjects` (video -> subject, e.g. videos.csv), else from a
    `subject` column of the predictions; a video with neither is an error.
    """
    micro = predictions_micro(predictions, options, source)
    if subjects is None and "subject" in predictions.columns:
        kept = predictions.reset_index(drop=True)
        if "type" in kept.columns:
            kept = kept[kept["type"].astype(str).str.strip() == "micro"]
        subjects = dict(zip(kept["video"].astype(str), kept["subject"].astype(str), strict=True))
    subjects = {str(k): str(v) for k, v in (subjects or {}).items()}
    unknown = sorted(set(micro["video"]) - set(subjects))
    if unknown:
        raise InputError(
            f"predictions{f' ({source})' if source else ''}: no subject for video(s) "
            f"{', '.join(unknown[:5])}; give a subject column or the video table"
        )
    kept = micro[micro["emotion"].isin(options.classes)]
    out = kept.assign(subject=kept["video"].map(subjects))[list(STR_COLUMNS)]
    return out.sort_values(["subject", "video", "onset", "offset"], ignore_index=True)


def write_submission(table: pd.DataFrame, path: str | Path) -> Path:
    """A submission table as CSV (header, no index, \\n line ends), written aside."""
    return atomic_csv(table, path, lineterminator="\n")


def write_str_json(metrics: dict, path: str | Path) -> Path:
    """str.json (`strs.str_metrics`), written aside."""
    return atomic_json(metrics, path)


def write_confusion(table: pd.DataFrame, path: str | Path) -> Path:
    """The confusion table (`strs.confusion_table`) as CSV: true class rows, predicted columns."""
    return atomic_csv(table.reset_index(), path, lineterminator="\n")
