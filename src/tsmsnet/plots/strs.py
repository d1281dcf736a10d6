"""Spot-then-recognise (STR) report material: the confusion matrix of the TP pairs as a figure
and str.json's numbers as a standalone HTML page (the report shows it inline).

Inputs are rule evaluate_str's files: str.json, str_per_fold.csv and str_confusion.csv (rows
the true class, columns the predicted one). Where STR is not available (no emotion labels),
both say why instead of showing numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tsmsnet.plots.tables import html_page

SCORE_COLUMNS = ("N", "M", "TP", "FP", "FN", "F1")


def confusion_figure(confusion: pd.DataFrame, title: str, reason: str | None = None) -> Figure:
    """Counts of the scored TP pairs, true class by row, predicted class by column.

    `reason` (STR not available) replaces the matrix by that sentence.
    """
    fig = Figure(figsize=(4.8, 4.0), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    if reason is not None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"STR not available:\n{reason}", ha="center", va="center", wrap=True)
        return fig
    counts = confusion.to_numpy(dtype=np.int64)
    ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(int(counts.max(initial=0)), 1))
    top = counts.max(initial=0)
    for (i, j), value in np.ndenumerate(counts):
        color = "white" if top and value > top / 2 else "black"
        ax.text(j, i, str(value), ha="center", va="center", color=color, fontsize=9)
    ax.set_xticks(range(counts.shape[1]), labels=[str(c) for c in confusion.columns])
    ax.set_yticks(range(counts.shape[0]), labels=[str(c) for c in confusion.index])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return fig


def scores_table(metrics: dict) -> pd.DataFrame:
    """One row: the spotting counts and F1, the recognition scores and STRS of str.json."""
    spotting, analysis = metrics["spotting"], metrics["recognition"]
    row = {
        **{k if k != "F1" else "spotting F1": spotting[k] for k in SCORE_COLUMNS},
        "pairs": analysis["pairs"],
        "UF1": analysis["UF1"],
        "UAR": analysis["UAR"],
        "analysis F1": analysis["F1"],
        "STRS": metrics["STRS"],
    }
    return pd.DataFrame([row])


def class_table(metrics: dict) -> pd.DataFrame:
    """Per class of the list: TP, FP, FN over the pairs, precision, recall, F1."""
    per_class = metrics["recognition"]["per_class"]
    return pd.DataFrame(
        [{"class": c, **per_class[c]} for c in metrics["recognition"]["classes"]],
        columns=["class", "TP", "FP", "FN", "precision", "recall", "F1"],
    )


def _note(metrics: dict) -> str:
    """The options and models behind the numbers, in words."""
    options = metrics["options"]
    videos = (
        "videos without a micro-expression dropped"
        if options["drop_videos_without_micro"]
        else "every video counts"
    )
    others = "scored" if options["include_others"] else "left out"
    skipped = "; classes absent from both sides skipped" if options["skip_absent_classes"] else ""
    parts = [
        f"Spotting: micro-expressions only, matching {options['matching']} at IoU >= 0.5, "
        f"every fold pooled ({videos}).",
        f"Recognition on the TP pairs over the classes {', '.join(options['classes'])} "
        f"(pairs whose truth is {options['others']} {others}{skipped}).",
        "STRS = spotting F1 x analysis F1.",
    ]
    models = metrics.get("models") or {}
    if models:
        parts.append("Models: " + "; ".join(f"{k}: {v}" for k, v in models.items()) + ".")
    return " ".join(parts)


def str_page(metrics: dict, per_fold: pd.DataFrame, confusion: pd.DataFrame, title: str) -> str:
    """str.json's scores, per class, the confusion counts and the per-fold table."""
    if not metrics.get("available", True):
        return html_page(title, [], f"STR not available: {metrics['reason']}")
    matrix = confusion.copy()
    matrix.columns = [f"predicted {c}" for c in matrix.columns]
    matrix = matrix.rename_axis("true").reset_index()
    return html_page(
        title,
        [
            ("Pooled over every fold", scores_table(metrics)),
            ("Per class (over the TP pairs)", class_table(metrics)),
            ("Confusion of the TP pairs (rows: true class)", matrix),
            ("Per fold (held-out subject; the pooled scores are not their mean)", per_fold),
        ],
        _note(metrics),
    )
