"""`tsmsnet spot --recognizer DIR`: the class of each spotted micro-expression and the STR
submission (../shared/design/str.md).

DIR is what tsmsnet.recognition.predict.name_classes takes: a recognizer.pt, a fold folder
(results/D/models/recognition/<subject>) or a folder of folds (an ensemble). Its checkpoints
record the stage-1 K they read and the preprocessing their stores went through; both are
checked against the spotting models before any work, and the K joins the stage-1 stores the
video is preprocessed into. Macro intervals get no class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tsmsnet.errors import InputError
from tsmsnet.spot_inputs import InputVideo
from tsmsnet.spotting.model_sets import ModelSet


@dataclass(frozen=True)
class Recognizer:
    """Recognition models as `tsmsnet spot` uses them."""

    models: Path
    K: int
    classes: tuple[str, ...]  # every class the networks name (others too where trained so)


def load_recognizer(models: str | Path, sets: list[ModelSet]) -> Recognizer:
    """The recognition checkpoints' K and classes, checked to fit the spotting models: the
    same preprocessing (their stage-1 stores are built the same way) and CPU kernels."""
    from tsmsnet.preprocess.record import KEYS, complete_record
    from tsmsnet.recognition.predict import checkpoint_paths, load_recognizers

    paths = checkpoint_paths(models)
    _, payloads = load_recognizers(paths, "cpu")
    first = sets[0]
    for path, payload in zip(paths, payloads, strict=True):
        extra = payload.get("extra", {})
        if "preprocess" not in extra or "K" not in extra:
            raise InputError(
                f"recognition checkpoint {path} does not record its K and preprocessing: "
                "retrain it with this tsmsnet"
            )
        record = complete_record(extra["preprocess"])
        differs = [k for k in KEYS if record.get(k) != first.preprocess[k]]
        if differs:
            raise InputError(
                f"recognition checkpoint {path} was trained on other preprocessing than the "
                f"spotting models {first.folder} ({', '.join(differs)}); pass models of one "
                "workflow run"
            )
        pins = dict(extra.get("cpu_kernels", {}).get("pinned", {}))
        if pins != first.cpu_kernels:
            raise InputError(
                f"recognition checkpoint {path} was trained with other CPU kernels ({pins}) "
                f"than the spotting models {first.folder} ({first.cpu_kernels}); pass models "
                "of one workflow run"
            )
    classes = tuple(str(c) for c in payloads[0]["net_cfg"]["classes"])
    return Recognizer(models=Path(models), K=int(payloads[0]["extra"]["K"]), classes=classes)


def name_micro(
    rec: Recognizer, intervals: pd.DataFrame, video: str, stage1: str, device: str, log
) -> pd.DataFrame:
    """One video's intervals plus emotion and emotion_score (blank for macro rows)."""
    from tsmsnet.recognition.predict import OUTPUT_COLUMNS, name_classes

    micro = intervals[intervals["type"] == "micro"]
    named = name_classes(rec.models, {video: stage1}, micro, device, log)
    return intervals.join(named[OUTPUT_COLUMNS])


def str_table(intervals: pd.DataFrame, videos: Sequence[InputVideo], rec: Recognizer):
    """The STR submission (`subject,video,onset,offset,emotion`) of named intervals: the
    subject and clip of each video (tsmsnet.spot_inputs), micro-expressions named others
    left out."""
    from tsmsnet.evaluation.strs import StrOptions
    from tsmsnet.evaluation.submission import str_submission

    others = StrOptions().others
    options = StrOptions(classes=tuple(c for c in rec.classes if c != others), others=others)
    table = str_submission(intervals, options, {v.video: v.subject for v in videos})
    return table.assign(video=table["video"].map({v.video: v.clip for v in videos}))
