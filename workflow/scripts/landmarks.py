"""Adapter: rule landmarks -> tsmsnet.steps.preprocess.landmarks."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.preprocess import landmarks
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    landmarks,
    source=smk.params.source,
    out=smk.output[0],
    search_frames=smk.params.search_frames,
    upsample=smk.params.upsample,
    # Only the datasets that fill frame gaps give this param (common.smk GAP_PARAMS).
    fill_gaps=smk.params.get("fill_gaps", False),
)
