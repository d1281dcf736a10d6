"""Adapter: rule recognize -> tsmsnet.steps.recognize.recognize_fold."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.recognize import recognize_fold
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    recognize_fold,
    model=smk.input.model,
    predictions_csv=smk.input.predictions,
    stores=list(smk.input.stores),
    videos=list(smk.params.videos),
    held_out=smk.params.held_out,
    device=smk.params.device,
    cpu_kernels=dict(smk.params.cpu_kernels),
    out=smk.output[0],
)
