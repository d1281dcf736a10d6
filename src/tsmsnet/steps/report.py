"""Report and paper-figure steps: F1 tables, score curves per fold, loss curves per config,
and the workflow's rule graph and collapsed job DAG."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from tsmsnet.atomic import atomic_text
from tsmsnet.config import SpotConfig
from tsmsnet.datasets.table import read_annotations
from tsmsnet.runlog import Log


def f1_tables(
    metrics_all_json: str,
    per_config_csv: str,
    per_fold_csv: str,
    pooled_out: str,
    per_config_out: str,
    per_fold_out: str,
    chart_out: str,
    dataset: str,
    log: Log,
    models: str | None = None,
) -> pd.DataFrame:
    """HTML F1 tables (pooled, per config, per fold; methods side by side) and an F1 chart;
    `models` (which models made the numbers) goes under each table."""
    from tsmsnet.plots.common import save_png
    from tsmsnet.plots.tables import f1_chart, f1_page, pooled_table

    with open(metrics_all_json, encoding="utf-8") as fh:
        pooled = pooled_table(json.load(fh))
    per_config = pd.read_csv(per_config_csv, dtype={"config": str})
    per_fold = pd.read_csv(per_fold_csv, dtype={"fold": str})
    note = "MEGC protocol: a ground truth is found by a prediction of its type with IoU >= 0.5."
    if models:
        note += f" Models: {models}."
    pages = [
        (pooled_out, f"{dataset}: F1 pooled over all videos", pooled, ()),
        (per_config_out, f"{dataset}: F1 per spotting config", per_config, ("config",)),
        (per_fold_out, f"{dataset}: F1 per fold (held-out subject)", per_fold, ("fold",)),
    ]
    for out, title, table, keys in pages:
        atomic_text(f1_page(table, title, keys, note), out)
        log(f"{title}: {len(table)} rows -> {out}")
    save_png(f1_chart(pooled, f"{dataset}: F1 pooled over all videos"), chart_out)
    log(f"F1 chart -> {chart_out}")
    return pooled


def fold_score_tracks(
    scores_csv: str,
    predictions_csv: dict[str, str],
    annotations_csv: str,
    videos: list[str],
    spot: SpotConfig,
) -> list:
    """One Track per held-out video: the step-1 score curve, the ground truth and one lane per
    evaluated method (`predictions_csv`: method -> its predictions file, in the run's order)."""
    from tsmsnet.plots.common import METHOD_NAMES
    from tsmsnet.plots.curves import video_tracks

    text = {"video": str}
    predictions = {
        METHOD_NAMES.get(method, method): pd.read_csv(path, dtype=text)
        for method, path in predictions_csv.items()
    }
    return video_tracks(
        pd.read_csv(scores_csv, dtype=text),
        videos,
        spot.type,
        spot.P,
        predictions,
        truth=read_annotations(annotations_csv),
    )


def fold_score_plot(
    scores_csv: str,
    predictions_csv: dict[str, str],
    annotations_csv: str,
    videos: list[str],
    spot: SpotConfig,
    held_out: str,
    out: str,
    log: Log,
) -> None:
    """One fold's score plot (fold_score_tracks), one panel per held-out video."""
    from tsmsnet.plots.common import save_png
    from tsmsnet.plots.curves import score_figure

    tracks = fold_score_tracks(scores_csv, predictions_csv, annotations_csv, videos, spot)
    title = f"{spot.name} ({spot.type}, K={spot.K}, P={spot.P:g}), held-out subject {held_out}"
    save_png(score_figure(tracks, title), out)
    log(f"{len(tracks)} videos -> {out}")


def loss_plot(
    apex_csvs: list[str],
    interval_csvs: list[str],
    folds: list[str],
    config_name: str,
    out: str,
    log: Log,
) -> None:
    """Per-epoch training loss of every fold of one config, both stages."""
    from tsmsnet.plots.common import save_png
    from tsmsnet.plots.losses import loss_figure

    def read(paths: list[str]) -> dict[str, list[float]]:
        return {
            fold: pd.read_csv(path)["loss"].astype(float).tolist()
            for fold, path in zip(folds, paths, strict=True)
        }

    losses = {"apex": read(apex_csvs), "interval": read(interval_csvs)}
    save_png(loss_figure(losses, f"{config_name}: training loss per fold"), out)
    untrained = [f for f, v in losses["interval"].items() if not v]
    log(f"{len(folds)} folds -> {out}; stage 2 untrained in: {', '.join(untrained) or 'none'}")


def dag_figures(
    snakefile: str,
    config: dict,
    subject_of_video: dict[str, str],
    show_subject: str,
    rulegraph_out: list[str],
    dag_out: list[str],
    log: Log,
    workdir: str = ".",
) -> None:
    """The rule graph and the job DAG (subject `show_subject` in full, other subjects' jobs
    merged per rule) of the workflow under `config`, in every format the outputs name."""
    from tsmsnet.figures.dag import collapse_dag, render_all, snakemake_graph

    folder = Path(rulegraph_out[0]).parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, configfile = tempfile.mkstemp(prefix=".config-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(config, fh, sort_keys=True)
        configfile = str(Path(configfile).resolve())
        rulegraph = snakemake_graph("rulegraph", snakefile, configfile, workdir)
        render_all(rulegraph, rulegraph_out)
        log(f"rule graph -> {', '.join(rulegraph_out)}")
        dag = collapse_dag(
            snakemake_graph("dag", snakefile, configfile, workdir), subject_of_video, show_subject
        )
        render_all(dag, dag_out)
        log(f"job DAG (subject {show_subject} in full) -> {', '.join(dag_out)}")
    finally:
        Path(configfile).unlink(missing_ok=True)
