"""Adapter: rules stage1_features and stage2_features -> tsmsnet.steps.preprocess.flow_features."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.preprocess import flow_features
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    flow_features,
    faces=smk.input.faces,
    out=smk.output[0],
    kind=smk.params.kind,
    step=smk.params.step,
    flow=dict(smk.params.flow),
    features=dict(smk.params.features),
    chunk=smk.params.chunk,
    threads=smk.threads,
)
