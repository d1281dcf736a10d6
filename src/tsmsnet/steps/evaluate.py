"""Evaluation step: pool every fold's predictions and write the F1 logs (MEGC protocol)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tsmsnet.runlog import Log


def read_fold_predictions(paths: list[str]) -> pd.DataFrame:
    """Concatenate fold CSVs laid out as spotting/<config>/<held-out subject>/<method>.csv."""
    frames = []
    for path in paths:
        df = pd.read_csv(path, dtype={"video": str})
        p = Path(path)
        df["config"], df["fold"] = p.parent.parent.name, p.parent.name
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def evaluate_dataset(
    annotations_csv: str,
    videos_csv: str,
    step1: list[str],
    step2: list[str],
    classical: list[str],
    out_dir: str,
    log: Log,
    config_types: dict[str, str] | None = None,
) -> dict:
    """metrics.json (step 2, pooled over folds and videos) plus the per-fold/config/video logs."""
    from tsmsnet.evaluation.logs import write_logs
    from tsmsnet.evaluation.megc import evaluate

    truth = pd.read_csv(annotations_csv, dtype={"video": str, "subject": str})
    videos = pd.read_csv(videos_csv, dtype={"video": str, "subject": str})
    results = {
        "step2": read_fold_predictions(step2),
        "step1": read_fold_predictions(step1),
        "classical": read_fold_predictions(classical),
    }
    folds = videos[["video", "subject"]].rename(columns={"subject": "fold"})
    write_logs(out_dir, truth, results, folds, primary="step2", config_types=config_types)
    for method, pred in results.items():
        overall = evaluate(truth, pred)["overall"]
        log(
            f"{method}: N={overall['N']} TP={overall['TP']} M={overall['M']} F1={overall['F1']:.4f}"
        )
    return results
