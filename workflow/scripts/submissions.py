"""Adapter: rule submissions -> tsmsnet.steps.str_outputs.write_submissions."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.runner import run_step
from tsmsnet.steps.str_outputs import write_submissions

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    write_submissions,
    spotting_csvs=list(smk.input.spotting),
    recognition_csvs=list(smk.input.recognition),
    folds=list(smk.params.folds),
    videos_csv=smk.input.videos,
    classes=list(smk.params.classes),
    others=smk.params.others,
    spotting_out=smk.output.spotting,
    str_out=smk.output.str,
)
