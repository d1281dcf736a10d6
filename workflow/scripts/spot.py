"""Adapter: rule spot -> tsmsnet.steps.spot.spot_fold."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.config import SpotConfig
from tsmsnet.steps.runner import run_step
from tsmsnet.steps.spot import spot_fold

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    spot_fold,
    apex_models=list(smk.input.apex),
    interval_models=list(smk.input.interval),
    stage1=list(smk.input.stage1),
    stage2=list(smk.input.stage2),
    test_videos=list(smk.params.test_videos),
    spot=SpotConfig.from_record(smk.params.spot),
    stride=smk.params.stride,
    device=smk.params.device,
    cpu_kernels=dict(smk.params.cpu_kernels),
    step1_out=smk.output.step1,
    step2_out=smk.output.step2,
    scores_out=smk.output.scores,
    held_out=smk.params.held_out,
)
