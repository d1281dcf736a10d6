"""Adapter: rule refine -> tsmsnet.steps.refine.refine_fold."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.config import SpotConfig
from tsmsnet.steps.refine import refine_fold
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    refine_fold,
    annotations_csv=smk.input.annotations,
    train_stage1=list(smk.input.train_stage1),
    train_videos=list(smk.params.train_videos),
    test_stage1=list(smk.input.test_stage1),
    test_videos=list(smk.params.test_videos),
    step2_csv=smk.input.step2,
    spot=SpotConfig.from_record(smk.params.spot),
    settings=dict(smk.params.grid),
    held_out=smk.params.held_out,
    out=smk.output.refined,
    record_out=smk.output.record,
)
