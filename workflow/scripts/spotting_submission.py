"""Adapter: rule spotting_submission -> tsmsnet.steps.str_outputs.spotting_submission_file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.runner import run_step
from tsmsnet.steps.str_outputs import spotting_submission_file

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(smk, spotting_submission_file, spotting_csvs=list(smk.input), out=smk.output[0])
