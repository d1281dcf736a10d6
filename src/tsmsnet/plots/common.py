"""Saving figures: PNG without a timestamp, written aside then renamed."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from tsmsnet.atomic import atomic_write

DPI = 100
# Colours of what a figure can show (the same in every figure).
COLORS = {
    "truth": "#2ca02c",
    "other truth": "#bbbbbb",
    "score": "#1f3b73",
    "threshold": "#d62728",
    "step 1": "#ff7f0e",
    "step 2": "#1f77b4",
    "step 2 refined": "#9467bd",
    "classical": "#7f7f7f",
    "roi flow": "#8c564b",
}
# Each evaluated method's name in figures (its lane in score plots, its colour everywhere).
METHOD_NAMES = {
    "step2": "step 2",
    "step2_refined": "step 2 refined",
    "step1": "step 1",
    "classical": "classical",
    "roi_flow": "roi flow",
}


def save_png(fig: Figure, path: str | Path) -> Path:
    """Write `fig` as PNG to `path` atomically, without a software stamp (deterministic)."""
    path = Path(path)
    atomic_write(
        path, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    )
    return path
