"""Adapter: rules train_apex and train_interval -> tsmsnet.steps.train.train_fold."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.config import SpotConfig
from tsmsnet.steps.runner import run_step
from tsmsnet.steps.train import train_fold

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    train_fold,
    stage=smk.params.stage,
    annotations_csv=smk.input.annotations,
    stores=list(smk.input.stores),
    videos=list(smk.params.videos),
    held_out=smk.params.held_out,
    spot=SpotConfig.from_record(smk.params.spot),
    train=dict(smk.params.train),
    targets=dict(smk.params.targets),
    preprocess=dict(smk.params.preprocess),
    seed=smk.params.seed,
    device=smk.params.device,
    cpu_kernels=dict(smk.params.cpu_kernels),
    model_out=smk.output.model,
    losses_out=smk.output.losses,
    used_out=smk.output.used,
)
