"""Adapter: rule synthetic_subject -> tsmsnet.steps.data.synthetic_subject."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.data import synthetic_subject
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    synthetic_subject,
    data_root=smk.params.data_root,
    subject_index=smk.params.subject_index,
    preset=dict(smk.params.preset),
    synthetic=dict(smk.params.synthetic),
    fps=smk.params.fps,
    seed=smk.params.seed,
    face_size=smk.params.face_size,
    truth_out=smk.output.truth,
)
