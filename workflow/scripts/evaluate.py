"""Adapter: rule evaluate -> tsmsnet.steps.evaluate.evaluate_dataset."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from dataclasses import fields

from tsmsnet.evaluation.logs import LogPaths
from tsmsnet.steps.evaluate import evaluate_dataset
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    evaluate_dataset,
    annotations_csv=smk.input.annotations,
    videos_csv=smk.input.videos,
    predictions={m: list(smk.input[m]) for m in smk.params.methods},
    labels=[tuple(label) for label in smk.params.labels],
    config_types=dict(smk.params.config_types),
    models=smk.params.models,
    outputs={f.name: smk.output[f.name] for f in fields(LogPaths)},
)
