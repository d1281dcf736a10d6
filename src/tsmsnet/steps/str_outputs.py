"""Spot-then-recognise (STR) outputs of a run (../shared/design/str.md): str.json with its
per-video, per-fold and confusion tables (rule evaluate_str), the challenge's submission
files (rules spotting_submission, str_submission) and the report's STR page and confusion
figure (rule str_report).

Each fold's recognition file holds the micro-expressions spotted on its held-out subject's
videos with their predicted class. They are pooled before any metric
(`evaluation.strs.evaluate_str`); the per-video and per-fold tables split the same counts, so
they sum to the pooled ones. A dataset without emotion labels (SAMM-LV without its short-clip
workbook) gets a str.json that says STR is not available and why, and tables without rows:
no number is made up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

import pandas as pd

from tsmsnet.atomic import written_aside
from tsmsnet.datasets.table import ID_DTYPES, read_annotations, read_videos
from tsmsnet.errors import InputError
from tsmsnet.evaluation.logs import FLOAT_FORMAT
from tsmsnet.evaluation.megc import check_columns, scores
from tsmsnet.evaluation.strs import (
    StrOptions,
    StrResult,
    confusion_table,
    evaluate_str,
    recognition,
    scored_pairs,
)
from tsmsnet.runlog import Log

# A fold's recognition file (the recognize rule's output): the spotted micro intervals of the
# held-out subject's videos, each with its predicted class.
RECOGNITION_COLUMNS = ("subject", "video", "onset", "offset", "type", "emotion")
# Why a run with emotion labels has no recognition files (common.smk: RECOGNISES).
NOT_RECOGNISED = (
    "the run names no classes: none of the dataset's spotting configs spots micro-expressions"
)
COUNT_COLUMNS = ("N", "M", "TP", "FP", "FN", "precision", "recall", "F1")
# pairs: TP pairs scored for recognition (others left out by default); correct: those named right.
PER_VIDEO_COLUMNS = ("fold", "video", *COUNT_COLUMNS, "pairs", "correct")
PER_FOLD_COLUMNS = (
    "fold",
    "videos",
    *COUNT_COLUMNS,
    "pairs",
    "correct",
    "UF1",
    "UAR",
    "analysis_F1",
    "STRS",
)


@dataclass(frozen=True)
class StrPaths:
    """Where rule evaluate_str writes (the rule names each one)."""

    str_json: Path
    per_video: Path
    per_fold: Path
    confusion: Path


@dataclass(frozen=True)
class StrTables:
    """str.json's content and the tables behind it (no rows where STR is not available)."""

    metrics: dict
    per_video: pd.DataFrame
    per_fold: pd.DataFrame
    confusion: pd.DataFrame


def _read_csv(path: str | Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={**ID_DTYPES, "emotion": str})
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} file is empty (no header row): {path}") from None


def read_recognition(
    paths: Sequence[str | Path], folds: Sequence[str], subject_of: dict[str, str]
) -> pd.DataFrame:
    """Every fold's recognition file, with a `fold` column; each must name only videos of its
    held-out subject (a video of another subject means a file in the wrong fold)."""
    frames = []
    for path, fold in zip(paths, folds, strict=True):
        df = _read_csv(path, "recognition")
        check_columns(df, RECOGNITION_COLUMNS, "recognition", str(path))
        wrong = sorted({v for v in df["video"] if subject_of.get(v) != fold})
        if wrong:
            raise InputError(
                f"recognition ({path}): the fold holding out subject {fold} names video(s) "
                f"{', '.join(wrong[:5])} of another or no subject in the video table; each "
                "fold's file holds only its held-out subject's videos (rerun its recognize job)"
            )
        frames.append(df.assign(fold=fold))
    columns = [*RECOGNITION_COLUMNS, "fold"]
    return pd.concat([pd.DataFrame(columns=columns), *frames], ignore_index=True)


def unavailable_reason(truth: pd.DataFrame, dataset: str) -> str | None:
    """Why STR cannot be scored on this ground truth, or None when it can.

    Micro rows that all lack an emotion mean the reader found no labels; some lacking one is
    an error of the scorer (it names the rows).
    """
    check_columns(truth, ("type", "emotion"), "ground truth")
    micro = truth[truth["type"].astype(str).str.strip() == "micro"]
    if micro.empty:
        return f"dataset {dataset}: the ground truth holds no micro-expression"
    if not micro["emotion"].fillna("").astype(str).str.strip().ne("").any():
        return (
            f"dataset {dataset}: no micro-expression of the ground truth has an emotion label "
            "(the annotations log says which labels the reader missed; SAMM-LV takes them "
            "from SAMM's short-clip workbook, datasets.samm_lv.clip_workbook)"
        )
    return None


def _fold_counts(rows: pd.DataFrame) -> dict:
    total = rows[["N", "TP", "M"]].sum()
    return scores(int(total["N"]), int(total["TP"]), int(total["M"]))


def video_table(result: StrResult, subject_of: dict[str, str]) -> pd.DataFrame:
    """Per video: fold, its STR spotting counts and scores, pairs scored and named right.

    Every video of the video table is listed (zeros where nothing was spotted or annotated),
    unless the options drop videos without a micro-expression.
    """
    per_video = result.spotting.per_video.set_index("video")
    unknown = sorted(set(per_video.index) - set(subject_of))
    if unknown:
        raise InputError(
            f"video(s) {', '.join(unknown[:5])} of the ground truth or the recognition files "
            "are not in the video table (videos.csv); rerun the annotations rule"
        )
    videos = list(per_video.index)
    if not result.options.drop_videos_without_micro:
        videos = sorted(set(videos) | set(subject_of))
    counts = per_video.reindex(videos, fill_value=0)
    pairs = scored_pairs(result.spotting.pairs, result.options)
    named = pairs[pairs["gt_emotion"] == pairs["emotion"]]
    rows = []
    for video, row in counts.iterrows():
        rows.append(
            {
                "fold": subject_of[video],
                "video": video,
                **scores(int(row["N"]), int(row["TP"]), int(row["M"])),
                "pairs": int((pairs["video"] == video).sum()),
                "correct": int((named["video"] == video).sum()),
            }
        )
    table = pd.DataFrame(rows, columns=list(PER_VIDEO_COLUMNS))
    return table.sort_values(["fold", "video"], ignore_index=True)


def fold_table(result: StrResult, per_video: pd.DataFrame, folds: Sequence[str]) -> pd.DataFrame:
    """Per fold (held-out subject): the spotting counts of its videos and the recognition
    scores of its own TP pairs (STRS of the fold alone; the dataset's is pooled)."""
    rows = []
    for fold in folds:
        own = per_video[per_video["fold"] == fold]
        spotting = _fold_counts(own)
        pairs = result.spotting.pairs[result.spotting.pairs["video"].isin(own["video"])]
        analysis = recognition(pairs, result.options)
        rows.append(
            {
                "fold": fold,
                "videos": len(own),
                **spotting,
                "pairs": int(own["pairs"].sum()),
                "correct": int(own["correct"].sum()),
                "UF1": analysis["UF1"],
                "UAR": analysis["UAR"],
                "analysis_F1": analysis["F1"],
                "STRS": spotting["F1"] * analysis["F1"],
            }
        )
    return pd.DataFrame(rows, columns=list(PER_FOLD_COLUMNS))


def _empty_confusion(options: StrOptions) -> pd.DataFrame:
    rows = list(options.scored_classes)
    columns = rows if options.others in rows else [*rows, options.others]
    return pd.DataFrame(
        columns=pd.Index(columns, name="predicted"), index=pd.Index([], name="true"), dtype="int64"
    )


def str_tables(
    truth: pd.DataFrame,
    predictions: pd.DataFrame | None,
    subject_of: dict[str, str],
    folds: Sequence[str],
    options: StrOptions,
    dataset: str,
    models: dict | None = None,
    sources: tuple[str | None, str | None] = (None, None),
) -> StrTables:
    """str.json's content and its tables, from the ground truth (annotation rows with
    `emotion`) and the pooled predictions (video, onset, offset, emotion; type optional).

    `models` says which models spotted and named the intervals (a field of str.json).
    predictions None: the run named no classes (NOT_RECOGNISED, unless the truth says why).
    """
    header = {"dataset": dataset, "models": models or {}, "folds": len(folds)}
    reason = unavailable_reason(truth, dataset)
    if reason is None and predictions is None:
        reason = f"dataset {dataset}: {NOT_RECOGNISED}"
    if reason is not None:
        metrics = {"available": False, "reason": reason, **header, "options": options.record()}
        return StrTables(
            metrics,
            pd.DataFrame(columns=list(PER_VIDEO_COLUMNS)),
            pd.DataFrame(columns=list(PER_FOLD_COLUMNS)),
            _empty_confusion(options),
        )
    result = evaluate_str(
        truth,
        predictions,
        options,
        ground_truth_source=sources[0],
        predictions_source=sources[1],
    )
    per_video = video_table(result, subject_of)
    metrics = {"available": True, **header, "videos": len(per_video), **result.metrics}
    return StrTables(
        metrics,
        per_video,
        fold_table(result, per_video, folds),
        confusion_table(result.spotting.pairs, options),
    )


def write_str_tables(tables: StrTables, paths: StrPaths) -> None:
    """All four files written aside, then renamed together (fixed float format)."""
    with written_aside(astuple(paths)) as temps:
        tmp = StrPaths(*temps)
        tmp.str_json.write_text(json.dumps(tables.metrics, indent=2) + "\n", encoding="utf-8")
        for table, path in ((tables.per_video, tmp.per_video), (tables.per_fold, tmp.per_fold)):
            table.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        tables.confusion.reset_index().to_csv(tmp.confusion, index=False, lineterminator="\n")


def evaluate_str_outputs(
    emotions_csv: str,
    videos_csv: str,
    recognition_csvs: Sequence[str],
    folds: Sequence[str],
    str_config: dict,
    outputs: dict[str, str],
    dataset: str,
    log: Log,
    models: dict | None = None,
) -> dict:
    """Rule evaluate_str: score every fold's recognition file against the emotions table.

    str_config: config.yaml `str` (the class list and MEAN's variants); outputs: the paths of
    StrPaths by field name; folds: the held-out subject of each recognition file, in order.
    No recognition files: the run names no classes (no emotion labels, or no micro config).
    """
    options = StrOptions.from_config({"str": str_config})
    truth = read_annotations(emotions_csv)
    videos = read_videos(videos_csv)
    subject_of = dict(zip(videos["video"], videos["subject"], strict=True))
    predictions = (
        read_recognition(recognition_csvs, folds, subject_of) if recognition_csvs else None
    )
    tables = str_tables(
        truth,
        predictions,
        subject_of,
        folds,
        options,
        dataset,
        models,
        sources=(emotions_csv, "recognition files"),
    )
    write_str_tables(tables, StrPaths(**outputs))
    metrics = tables.metrics
    if not metrics["available"]:
        log(f"STR not available: {metrics['reason']}")
        return metrics
    spotting, analysis = metrics["spotting"], metrics["recognition"]
    log(
        f"spotting (micro, one-to-one): N={spotting['N']} TP={spotting['TP']} "
        f"FP={spotting['FP']} FN={spotting['FN']} F1={spotting['F1']:.4f}"
    )
    log(
        f"recognition on {analysis['pairs']} TP pair(s): UF1={analysis['UF1']:.4f} "
        f"UAR={analysis['UAR']:.4f} analysis F1={analysis['F1']:.4f}; STRS={metrics['STRS']:.4f}"
    )
    return metrics


def spotting_submission_file(spotting_csvs: Sequence[str], out: str, log: Log) -> pd.DataFrame:
    """Rule spotting_submission: `vid,onset,offset,type` (me/mae) of every config's final
    predictions (one file per fold and config)."""
    from tsmsnet.evaluation.submission import spotting_submission, write_submission

    spotted = pd.concat([_read_csv(p, "predictions") for p in spotting_csvs], ignore_index=True)
    table = spotting_submission(spotted, "final predictions")
    write_submission(table, out)
    log(f"spotting submission: {len(table)} interval(s) from {len(spotting_csvs)} file(s) -> {out}")
    return table


def str_submission_file(
    recognition_csvs: Sequence[str],
    folds: Sequence[str],
    videos_csv: str,
    classes: Sequence[str],
    others: str,
    out: str,
    log: Log,
) -> pd.DataFrame:
    """Rule str_submission: `subject,video,onset,offset,emotion` of every fold's recognised
    intervals, those named `others` left out."""
    from tsmsnet.evaluation.submission import str_submission, write_submission

    if not recognition_csvs:
        raise InputError(f"no recognition files to write {out} from: {NOT_RECOGNISED}")
    options = StrOptions(classes=tuple(classes), others=others)
    videos = read_videos(videos_csv)
    subject_of = dict(zip(videos["video"], videos["subject"], strict=True))
    recognised = read_recognition(recognition_csvs, folds, subject_of)
    table = str_submission(recognised, options, subject_of, "recognition files")
    write_submission(table, out)
    log(
        f"STR submission: {len(table)} of {len(recognised)} recognised interval(s) "
        f"(those named {options.others} left out) -> {out}"
    )
    return table


def str_report(
    str_json: str,
    per_fold_csv: str,
    confusion_csv: str,
    table_out: str,
    figure_out: str,
    dataset: str,
    log: Log,
) -> None:
    """The report's STR page (scores, per class, per fold, confusion counts) and the confusion
    matrix as a figure; where STR is not available, both say why."""
    from tsmsnet.atomic import atomic_text
    from tsmsnet.plots.common import save_png
    from tsmsnet.plots.strs import confusion_figure, str_page

    with open(str_json, encoding="utf-8") as fh:
        metrics = json.load(fh)
    per_fold = pd.read_csv(per_fold_csv, dtype={"fold": str})
    confusion = pd.read_csv(confusion_csv, dtype={"true": str}).set_index("true")
    title = f"{dataset}: spot-then-recognise (STR)"
    atomic_text(str_page(metrics, per_fold, confusion, title), table_out)
    figure = confusion_figure(
        confusion, f"{dataset}: classes of the spotted micro-expressions", metrics.get("reason")
    )
    save_png(figure, figure_out)
    log(f"STR page -> {table_out}; confusion figure -> {figure_out}")
