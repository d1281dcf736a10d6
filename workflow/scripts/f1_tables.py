"""Adapter: rule f1_tables -> tsmsnet.steps.report.f1_tables."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.report import f1_tables
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    f1_tables,
    metrics_all_json=smk.input.metrics_all,
    per_config_csv=smk.input.per_config,
    per_fold_csv=smk.input.per_fold,
    pooled_out=smk.output.pooled,
    per_config_out=smk.output.per_config,
    per_fold_out=smk.output.per_fold,
    chart_out=smk.output.chart,
    dataset=smk.params.dataset,
    models=smk.params.models,
)
