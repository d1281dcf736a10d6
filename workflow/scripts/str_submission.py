"""Adapter: rule str_submission -> tsmsnet.steps.str_outputs.str_submission_file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.runner import run_step
from tsmsnet.steps.str_outputs import str_submission_file

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    str_submission_file,
    recognition_csvs=list(smk.input.recognition),
    folds=list(smk.params.folds),
    videos_csv=smk.input.videos,
    classes=list(smk.params.classes),
    others=smk.params.others,
    out=smk.output[0],
)
