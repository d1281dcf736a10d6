"""Adapter: rule roi_curves -> tsmsnet.steps.preprocess.roi_curves."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.preprocess import roi_curves
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    roi_curves,
    faces=smk.input.faces,
    videos_csv=smk.input.videos,
    video=smk.params.video,
    out=smk.output[0],
    gaps_s=list(smk.params.gaps_s),
    roi_flow={"rois": dict(smk.params.rois), "roi_margin": smk.params.roi_margin},
    flow=dict(smk.params.flow),
    features=dict(smk.params.features),
    chunk=smk.params.chunk,
    threads=smk.threads,
)
