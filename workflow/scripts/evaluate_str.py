"""Adapter: rule evaluate_str -> tsmsnet.steps.str_outputs.evaluate_str_outputs."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from dataclasses import fields

from tsmsnet.steps.runner import run_step
from tsmsnet.steps.str_outputs import StrPaths, evaluate_str_outputs

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    evaluate_str_outputs,
    emotions_csv=smk.input.emotions,
    videos_csv=smk.input.videos,
    recognition_csvs=list(smk.input.recognition),
    folds=list(smk.params.folds),
    str_config=dict(smk.params.options),
    outputs={f.name: smk.output[f.name] for f in fields(StrPaths)},
    dataset=smk.params.dataset,
    models=dict(smk.params.models),
)
