"""Adapter: rule str_report -> tsmsnet.steps.str_outputs.str_report."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.runner import run_step
from tsmsnet.steps.str_outputs import str_report

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    str_report,
    str_json=smk.input.str_json,
    per_fold_csv=smk.input.per_fold,
    confusion_csv=smk.input.confusion,
    table_out=smk.output.table,
    figure_out=smk.output.figure,
    dataset=smk.params.dataset,
)
