"""Adapter: rule evaluate -> tsmsnet.steps.evaluate.evaluate_dataset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)


from tsmsnet.steps.evaluate import evaluate_dataset
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    evaluate_dataset,
    annotations_csv=smk.input.annotations,
    videos_csv=smk.input.videos,
    step1=list(smk.input.step1),
    step2=list(smk.input.step2),
    classical=list(smk.input.classical),
    out_dir=str(Path(smk.output.metrics).parent),
)
