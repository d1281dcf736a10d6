"""Adapter: rule import_upstream -> tsmsnet.steps.upstream.import_checkout."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.steps.runner import run_step
from tsmsnet.steps.upstream import import_checkout

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    import_checkout,
    checkout=smk.params.checkout,
    out=smk.params.out,
    # The workflow's config: params.sections is what the import reads of it.
    cfg=smk.config,
    config_path="the workflow's config",
    configs=list(smk.params.configs),
)
