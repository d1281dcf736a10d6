"""Adapter: rule synthetic_workbook -> tsmsnet.steps.data.synthetic_workbook."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.data import synthetic_workbook
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    synthetic_workbook,
    truth_csvs=list(smk.input.truth),
    layout=smk.params.layout,
    emotions=dict(smk.params.emotions),
    workbook_outs=list(smk.output.workbooks),
    csv_out=smk.output.csv,
)
