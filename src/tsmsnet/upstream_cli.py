"""`tsmsnet import-upstream UPSTREAM_CHECKOUT --out DIR`: upstream's published weights as our
model sets (tsmsnet.steps.upstream.import_checkout).

UPSTREAM_CHECKOUT is a clone of xly135846/MEGC2021; every state dict under its weights/1st and
weights/2nd becomes DIR/<config>/<held-out subject>/{apex,interval}.pt. The shapes, K, L, P,
fps and preprocessing come from config.yaml (--config; an installed package has none).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tsmsnet.errors import InputError

DESCRIPTION = (
    "Convert the published weights of upstream TSMSNet (a clone of "
    "https://github.com/xly135846/MEGC2021) into tsmsnet checkpoints: one folder per "
    "configuration and held-out subject, DIR/<config>/<subject>/ (apex.pt, interval.pt), as "
    "the workflow lays out its folds. Give `tsmsnet spot --models` a subject folder (one fold) "
    "or a config folder (all folds as an ensemble). The files are read with PyTorch's "
    "weights-only loader, which runs no code from them (a pickle that needs more is refused). "
    "Upstream chose each fold's epoch by its F1 on the held-out subject (the number in the "
    "stage-1 file name); each checkpoint records that, the file it came from, its held-out "
    "subject, the config (K, L, P, fps) and the method's preprocessing."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tsmsnet.config import DEFAULT_CONFIG

    parser.description = DESCRIPTION
    parser.add_argument("checkout", help="folder of a clone of xly135846/MEGC2021 (has weights/)")
    parser.add_argument("--out", required=True, help="output folder (DIR/<config>/<subject>/)")
    parser.add_argument(
        "--config",
        default=str(DEFAULT_CONFIG),
        help="config.yaml giving K, L, P, fps, network shapes and preprocessing "
        "(default: this checkout's)",
    )


def run(args: argparse.Namespace) -> int:
    from tsmsnet.config import load_config
    from tsmsnet.runlog import stream_log
    from tsmsnet.steps.upstream import import_checkout

    config_path = Path(args.config)
    if not config_path.is_file():
        raise InputError(
            f"config file {config_path} not found (an installed tsmsnet ships none): pass "
            "--config with the config.yaml of a tsmsnet checkout"
        )
    cfg = load_config(config_path)
    folders = import_checkout(args.checkout, args.out, cfg, config_path, stream_log())
    for config in sorted({f.parent for f in folders}):
        print(config)
    print(f"{len(folders)} folds imported", file=sys.stderr)
    return 0
