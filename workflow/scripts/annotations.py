"""Adapter: rule annotations -> tsmsnet.steps.data.annotation_tables."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.data import annotation_tables
from tsmsnet.steps.runner import run_step

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    annotation_tables,
    reader=smk.params.reader,
    data_root=smk.params.data_root,
    reader_cfg=dict(smk.params.reader_cfg),
    videos_out=smk.output.videos,
    annotations_out=smk.output.annotations,
)
