"""Training loss curves of one spotting config: every fold's per-epoch mean loss, both stages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

STAGES = (
    ("apex", "stage 1 (apex, MSE)"),
    ("interval", "stage 2 (interval, cross-entropy)"),
)


def loss_figure(losses: Mapping[str, Mapping[str, Sequence[float]]], title: str) -> Figure:
    """losses: stage ('apex', 'interval') -> fold (held-out subject) -> per-epoch losses.

    A fold whose stage was not trained (empty list) is named in the legend as untrained.
    """
    fig = Figure(figsize=(12, 4), layout="constrained")
    fig.suptitle(title, fontsize=11)
    axes = fig.subplots(1, len(STAGES))
    for ax, (stage, label) in zip(axes, STAGES, strict=True):
        folds = losses.get(stage, {})
        for fold in sorted(folds):
            values = list(folds[fold])
            if values:
                ax.plot(range(1, len(values) + 1), values, marker=".", lw=1, label=fold)
            else:
                ax.plot([], [], ls="none", label=f"{fold} (untrained)")
        if not any(folds.values()):
            ax.text(0.5, 0.5, "not trained in any fold", transform=ax.transAxes, ha="center")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("mean training loss")
        ax.grid(lw=0.3, alpha=0.5)
        if folds:
            ax.legend(title="held out", fontsize=7, title_fontsize=7, frameon=False)
    return fig
