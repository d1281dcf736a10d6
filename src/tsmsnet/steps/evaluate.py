"""Evaluation step: pool every fold's predictions and write the F1 logs (MEGC protocol)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tsmsnet.datasets.table import read_annotations, read_videos
from tsmsnet.runlog import Log


def read_fold_predictions(paths: Sequence[str], labels: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Concatenate fold CSVs, each labelled with its (config, held-out subject) as given."""
    frames = []
    for path, (config, fold) in zip(paths, labels, strict=True):
        df = pd.read_csv(path, dtype={"video": str})
        df["config"], df["fold"] = config, fold
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def evaluate_dataset(
    annotations_csv: str,
    videos_csv: str,
    predictions: dict[str, Sequence[str]],
    labels: Sequence[tuple[str, str]],
    config_types: dict[str, str],
    outputs: dict[str, str],
    log: Log,
    primary: str = "step2",
    models: str | None = None,
) -> dict:
    """The six F1 logs (metrics: `primary`, pooled over folds and videos).

    predictions: method -> one CSV per fold, in the order of `labels` ((config, subject)).
    outputs: the paths of tsmsnet.evaluation.logs.LogPaths, by field name.
    models: which models made the predictions (a line of the logs), as the rule says.
    """
    from tsmsnet.evaluation.logs import LogPaths, write_logs
    from tsmsnet.evaluation.megc import evaluate

    truth = read_annotations(annotations_csv)
    videos = read_videos(videos_csv)
    results = {
        method: read_fold_predictions(paths, labels) for method, paths in predictions.items()
    }
    folds = videos[["video", "subject"]].rename(columns={"subject": "fold"})
    write_logs(
        LogPaths(**outputs),
        truth,
        results,
        folds,
        primary=primary,
        config_types=config_types,
        models=models,
    )
    if models:
        log(f"models: {models}")
    for method, pred in results.items():
        overall = evaluate(truth, pred)["overall"]
        log(
            f"{method}: N={overall['N']} TP={overall['TP']} M={overall['M']} F1={overall['F1']:.4f}"
        )
    return results
