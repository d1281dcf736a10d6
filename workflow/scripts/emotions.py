"""Adapter: rule emotions -> tsmsnet.steps.data.emotion_table."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.data import emotion_table
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    emotion_table,
    annotations_csv=smk.input.annotations,
    dataset=smk.params.dataset,
    mapping=dict(smk.params.mapping),
    out=smk.output[0],
)
