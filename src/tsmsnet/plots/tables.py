"""F1 tables of a run as standalone HTML pages (the report shows them inline) and a bar chart.

Inputs are the evaluate rule's logs: metrics_all.json (pooled, per method) and
per_config.csv / per_fold.csv (long tables: method, config|fold, type, N, TP, M, FP, FN,
precision, recall, F1). Each page puts step 2 (final), step 2 refined (where the run refines),
step 1 (ablation), the classical reference and the training-free ROI-flow spotter side by
side, then lists every count.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tsmsnet.evaluation.megc import METRIC_KEYS, TYPES
from tsmsnet.plots.common import COLORS, METHOD_NAMES

# Method keys of the evaluation logs, in the order (and with the names) tables show them.
METHODS = {
    "step2": "step 2 (final)",
    "step2_refined": "step 2 refined (ours)",
    "step1": "step 1 (ablation)",
    "classical": "classical reference",
    "roi_flow": "ROI flow (training-free)",
}
SCORE_ROWS = (*TYPES, "overall")
DECIMALS = 4
_STYLE = """
body { font-family: sans-serif; font-size: 13px; margin: 1em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
p.note { color: #555; }
"""


def method_label(method: str) -> str:
    return METHODS.get(method, method)


def _method_order(methods) -> list[str]:
    known = [m for m in METHODS if m in set(methods)]
    return known + sorted(set(methods) - set(METHODS))


def pooled_table(metrics_all: dict) -> pd.DataFrame:
    """metrics_all.json -> long table: method, type, N, TP, M, FP, FN, precision, recall, F1."""
    rows = [
        {"method": method, "type": kind, **{k: metrics_all[method][kind][k] for k in METRIC_KEYS}}
        for method in _method_order(metrics_all)
        for kind in SCORE_ROWS
        if kind in metrics_all[method]
    ]
    return pd.DataFrame(rows, columns=["method", "type", *METRIC_KEYS])


def f1_side_by_side(long: pd.DataFrame, keys: Sequence[str] = ()) -> pd.DataFrame:
    """F1 of each method as columns, one row per (keys..., type), in the table's order."""
    keys = [*keys, "type"]
    wide = long.pivot_table(index=keys, columns="method", values="F1", aggfunc="first", sort=False)
    wide = wide[_method_order(wide.columns)]
    wide.columns = [f"F1 {method_label(m)}" for m in wide.columns]
    return wide.reset_index()


def counts_table(long: pd.DataFrame, keys: Sequence[str] = ()) -> pd.DataFrame:
    """Every count and score, methods named, ordered by (keys..., method, type)."""
    order = {m: i for i, m in enumerate(_method_order(long["method"].unique()))}
    kinds = {k: i for i, k in enumerate(SCORE_ROWS)}
    df = long.assign(
        _m=long["method"].map(order), _t=long["type"].map(kinds).fillna(len(kinds))
    ).sort_values([*keys, "_m", "_t"], kind="stable")
    df = df.drop(columns=["_m", "_t"])
    df["method"] = df["method"].map(method_label)
    return df[[*keys, "method", "type", *METRIC_KEYS]].reset_index(drop=True)


def _html_table(df: pd.DataFrame, caption: str) -> str:
    body = df.to_html(
        index=False,
        float_format=lambda v: f"{v:.{DECIMALS}f}",
        na_rep="-",
        border=0,
        escape=True,
    )
    return body.replace(
        ">\n  <thead>", f">\n  <caption>{html.escape(caption)}</caption>\n  <thead>", 1
    )


def html_page(title: str, tables: Sequence[tuple[str, pd.DataFrame]], note: str = "") -> str:
    """A standalone HTML page: title, optional note, then each (caption, table)."""
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h2>{html.escape(title)}</h2>",
    ]
    if note:
        parts.append(f'<p class="note">{html.escape(note)}</p>')
    parts += [_html_table(df, caption) for caption, df in tables]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def f1_page(long: pd.DataFrame, title: str, keys: Sequence[str] = (), note: str = "") -> str:
    """The F1 columns side by side, then all counts, of one long table."""
    return html_page(
        title,
        [
            ("F1 by method", f1_side_by_side(long, keys)),
            (
                "Counts (TP: ground truths found, N: predictions, M: ground truths)",
                counts_table(long, keys),
            ),
        ],
        note,
    )


def f1_chart(pooled: pd.DataFrame, title: str) -> Figure:
    """Grouped bars: F1 per expression type (and overall), one bar per method."""
    methods = _method_order(pooled["method"].unique())
    kinds = [k for k in SCORE_ROWS if k in set(pooled["type"])]
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / max(len(methods), 1)
    x = np.arange(len(kinds))
    palette = {method: COLORS[name] for method, name in METHOD_NAMES.items()}
    for i, method in enumerate(methods):
        rows = pooled[pooled["method"] == method].set_index("type")
        values = [float(rows.loc[k, "F1"]) if k in rows.index else np.nan for k in kinds]
        bars = ax.bar(
            x + (i - (len(methods) - 1) / 2) * width,
            values,
            width,
            label=method_label(method),
            color=palette.get(method),
        )
        ax.bar_label(bars, fmt=f"%.{DECIMALS - 1}f", fontsize=7, padding=1)
    ax.set_xticks(x, labels=kinds)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1 (pooled over videos)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", lw=0.3, alpha=0.5)
    return fig
