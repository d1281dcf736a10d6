"""Adapter: rule dag -> tsmsnet.steps.report.dag_figures."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.report import dag_figures
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    dag_figures,
    snakefile=smk.params.snakefile,
    config=dict(smk.params.config),
    subject_of_video=dict(smk.params.subject_of_video),
    show_subject=smk.params.show_subject,
    rulegraph_out=list(smk.output.rulegraph),
    dag_out=list(smk.output.dag),
)
