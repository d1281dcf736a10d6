"""Adapter: rule train_recognizer -> tsmsnet.steps.recognize.train_recognizer_fold."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.recognize import train_recognizer_fold
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    train_recognizer_fold,
    emotions_csv=smk.input.emotions,
    stores=list(smk.input.stores),
    videos=list(smk.params.videos),
    held_out=smk.params.held_out,
    classes=list(smk.params.classes),
    spot_config=smk.params.spot_config,
    K=int(smk.params.K),
    settings=dict(smk.params.settings),
    features=dict(smk.params.features),
    preprocess=dict(smk.params.preprocess),
    seed=smk.params.seed,
    device=smk.params.device,
    cpu_kernels=dict(smk.params.cpu_kernels),
    model_out=smk.output.model,
    losses_out=smk.output.losses,
    used_out=smk.output.used,
)
