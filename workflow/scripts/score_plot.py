"""Adapter: rule score_plot -> tsmsnet.steps.report.fold_score_plot."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.config import SpotConfig
from tsmsnet.steps.report import fold_score_plot
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    fold_score_plot,
    scores_csv=smk.input.scores,
    predictions_csv={method: smk.input[method] for method in smk.params.methods},
    annotations_csv=smk.input.annotations,
    videos=list(smk.params.videos),
    spot=SpotConfig.from_record(smk.params.spot),
    held_out=smk.params.held_out,
    out=smk.output[0],
)
