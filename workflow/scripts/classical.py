"""Adapter: rule classical -> tsmsnet.steps.spot.classical_fold."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821 (this checkout)

from tsmsnet.config import SpotConfig
from tsmsnet.steps.runner import run_step
from tsmsnet.steps.spot import classical_fold

smk = snakemake  # noqa: F821 (injected by Snakemake)
run_step(
    smk,
    classical_fold,
    stage1=list(smk.input.stage1),
    test_videos=list(smk.params.test_videos),
    spot=SpotConfig.from_record(smk.params.spot),
    out=smk.output[0],
)
