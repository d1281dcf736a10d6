"""Adapter: rule faces -> tsmsnet.steps.preprocess.faces."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.preprocess import faces
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    faces,
    source=smk.params.source,
    landmarks_json=smk.input.landmarks,
    out=smk.output[0],
    size=smk.params.size,
    interpolation=smk.params.interpolation,
    chunk=smk.params.chunk,
    # Only the datasets that fill frame gaps give this param (common.smk GAP_PARAMS).
    fill_gaps=smk.params.get("fill_gaps", False),
)
