"""Adapter: rule loss_plot -> tsmsnet.steps.report.loss_plot."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.report import loss_plot
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    loss_plot,
    apex_csvs=list(smk.input.apex),
    interval_csvs=list(smk.input.interval),
    folds=list(smk.params.folds),
    config_name=smk.params.config_name,
    out=smk.output[0],
)
