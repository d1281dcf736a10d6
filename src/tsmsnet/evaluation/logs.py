"""Evaluation logs of one run: JSON metrics, a readable summary and per fold/config/video tables.

Everything is sorted and floats have a fixed format, so the same predictions give byte-identical
files (the workflow can compare runs with diff).
"""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass
from pathlib import Path

import pandas as pd

from tsmsnet.atomic import written_aside
from tsmsnet.errors import InputError
from tsmsnet.evaluation.megc import (
    GROUND_TRUTH_COLUMNS,
    METRIC_KEYS,
    PREDICTION_COLUMNS,
    TYPES,
    check_columns,
    per_video,
    summarize,
)

FLOAT_FORMAT = "%.6f"
NO_FOLD = "(none)"
RESULT_COLUMNS = (*PREDICTION_COLUMNS, "config", "fold")
SCORE_ROWS = (*TYPES, "overall")


@dataclass(frozen=True)
class LogPaths:
    """Where the six evaluation logs go (the evaluate rule names each one)."""

    metrics: Path  # primary method's metrics (JSON)
    all_metrics: Path  # every method's metrics (JSON)
    summary: Path  # readable text
    per_fold: Path
    per_config: Path
    per_video: Path

    @classmethod
    def in_folder(cls, folder: str | Path) -> LogPaths:
        """The rule's names, in another folder (tests, other tools)."""
        folder = Path(folder)
        return cls(
            folder / "metrics.json",
            folder / "metrics_all.json",
            folder / "summary.txt",
            folder / "per_fold.csv",
            folder / "per_config.csv",
            folder / "per_video.csv",
        )


def video_folds(
    ground_truth_df: pd.DataFrame, results: dict[str, pd.DataFrame], folds_df=None
) -> dict[str, str]:
    """video -> fold (held-out subject), so ground truth without predictions finds its fold.

    Taken from folds_df (video + fold or subject), else the ground truth's own fold/subject
    column, else the predictions; a video predicted under two folds is an error (leakage).
    """
    folds: dict[str, str] = {}
    for method in sorted(results):
        pairs = results[method][["video", "fold"]].astype(str).drop_duplicates()
        for video, fold in pairs.itertuples(index=False):
            if folds.setdefault(video, fold) != fold:
                raise InputError(
                    f"predictions put video {video} in two folds ({folds[video]}, {fold}); "
                    "each video must be predicted only by the fold that holds out its subject"
                )
    for table in (ground_truth_df, folds_df):
        if table is None or "video" not in table.columns:
            continue
        column = next((c for c in ("fold", "subject") if c in table.columns), None)
        if column is not None:
            pairs = table[["video", column]].astype(str).drop_duplicates()
            folds.update(dict(pairs.itertuples(index=False)))
    return folds


def _score_rows(per_video_df: pd.DataFrame, label: dict, kinds=SCORE_ROWS) -> list[dict]:
    summary = summarize(per_video_df)
    return [{**label, "type": kind, **summary[kind]} for kind in kinds]


def _config_rows(method: str, gt: pd.DataFrame, pred: pd.DataFrame, config_types) -> list[dict]:
    """Each config scored on its own predictions against the ground truth of its type(s)."""
    rows = []
    for config in sorted(set(pred["config"].astype(str)) | set(config_types)):
        own = pred[pred["config"].astype(str) == config]
        kinds = [config_types[config]] if config in config_types else sorted(own["type"].unique())
        table = per_video(gt[gt["type"].isin(kinds)], own)
        rows += _score_rows(table, {"method": method, "config": config}, kinds)
    return rows


def _text_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "  (none)"
    shown = df.rename(columns={"precision": "P", "recall": "R"})
    return shown.to_string(index=False, float_format=lambda v: FLOAT_FORMAT % v)


def _summary_text(tables: dict[str, pd.DataFrame], methods: list[str], models: str | None) -> str:
    """The human-readable log: per method, the pooled scores, then per config and per fold."""
    lines = [
        "MEGC long-video spotting evaluation (IoU >= 0.5, counts pooled over all videos)",
        "TP = ground truths found (A); FP = N - TP; FN = M - TP; P = TP/N; R = TP/M",
        *([f"models: {models}"] if models else []),
        "",
    ]
    for method in methods:
        lines.append(f"== {method} ==")
        for name in ("overall", "per_config", "per_fold"):
            table = tables[name]
            part = table[table["method"] == method].drop(columns="method")
            lines += [f"-- {name.replace('_', ' ')} --", _text_table(part), ""]
    return "\n".join(lines)


def write_logs(
    out: LogPaths,
    ground_truth_df: pd.DataFrame,
    results: dict[str, pd.DataFrame],
    folds_df: pd.DataFrame | None = None,
    *,
    primary: str = "step2",
    config_types: dict[str, str] | None = None,
    models: str | None = None,
) -> None:
    """Write the six logs of `out` (metrics: the primary method), all aside, then renamed.

    results: method name -> predictions with columns video, type, onset, offset, config, fold.
    config_types: config -> expression type, for configs that may have no predictions at all.
    models: which models made the predictions (tsmsnet.model_source.models_line), written
    as `models` in metrics.json and a line of the summary.
    """
    check_columns(ground_truth_df, GROUND_TRUTH_COLUMNS, "ground truth")
    if primary not in results:
        raise InputError(f"no results for method {primary!r}; got {sorted(results) or 'none'}")
    for method, pred in results.items():
        check_columns(pred, RESULT_COLUMNS, f"predictions of {method}")
    folds = video_folds(ground_truth_df, results, folds_df)
    methods = [primary] + sorted(m for m in results if m != primary)

    metrics, videos, overall, per_fold, per_config = {}, [], [], [], []
    for method in methods:
        pred = results[method]
        table = per_video(ground_truth_df, pred)
        table.insert(0, "fold", table["video"].map(folds).fillna(NO_FOLD))
        table.insert(0, "method", method)
        metrics[method] = summarize(table)
        videos.append(table)
        overall += _score_rows(table, {"method": method})
        for fold in sorted(table["fold"].unique()):
            per_fold += _score_rows(table[table["fold"] == fold], {"method": method, "fold": fold})
        per_config += _config_rows(method, ground_truth_df, pred, config_types or {})

    score_columns = list(METRIC_KEYS)
    tables = {
        "overall": pd.DataFrame(overall, columns=["method", "type", *score_columns]),
        "per_fold": pd.DataFrame(per_fold, columns=["method", "fold", "type", *score_columns]),
        "per_config": pd.DataFrame(
            per_config, columns=["method", "config", "type", *score_columns]
        ),
    }
    order = {"per_fold": ["method", "fold"], "per_config": ["method", "config"]}
    all_videos = pd.concat(videos, ignore_index=True)
    with written_aside(astuple(out)) as temps:
        tmp = LogPaths(*temps)
        _write_json(tmp.metrics, {**({"models": models} if models else {}), **metrics[primary]})
        _write_json(tmp.all_metrics, {m: metrics[m] for m in sorted(metrics)})
        tmp.summary.write_text(_summary_text(tables, methods, models), encoding="utf-8")
        for name, keys in order.items():
            _write_csv(getattr(tmp, name), tables[name].sort_values(keys, kind="stable"))
        _write_csv(tmp.per_video, all_videos.sort_values(["method", "fold", "video", "type"]))


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
