"""Adapter: rule roi_flow -> tsmsnet.steps.spot.roi_flow_fold."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.config import SpotConfig
from tsmsnet.steps.runner import run_step
from tsmsnet.steps.spot import roi_flow_fold

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    roi_flow_fold,
    annotations=smk.input.annotations,
    train_curves=list(smk.input.train),
    test_curves=list(smk.input.test),
    train_videos=list(smk.params.train_videos),
    test_videos=list(smk.params.test_videos),
    held_out=smk.params.held_out,
    spot=SpotConfig.from_record(smk.params.spot),
    roi_flow=dict(smk.params.roi_flow),
    out=smk.output.predictions,
    choice=smk.output.choice,
)
