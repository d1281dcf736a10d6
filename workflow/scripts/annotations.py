"""Adapter: rule annotations -> tsmsnet.steps.data.annotation_tables."""

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
