"""`tsmsnet findable`: the share of ground truths a fixed 2K+1 window (or given predictions)
can match at IoU 0.5, per type; the library is tsmsnet.evaluation.findable."""

from __future__ import annotations

import argparse

import pandas as pd

from tsmsnet.errors import InputError


def parse_K(items: list[str]) -> dict[str, int]:
    """['micro=12', 'macro=31'] -> {'micro': 12, 'macro': 31}, with a clear error otherwise."""
    out = {}
    for item in items:
        kind, _, value = item.partition("=")
        if not value.strip().isdigit():
            raise InputError(f"--K takes TYPE=FRAMES pairs such as micro=12, got '{item}'")
        out[kind.strip()] = int(value)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "ground_truth",
        help="CSV with video, type, onset, offset (MEGC ground truth or annotations.csv)",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--K", nargs="+", metavar="TYPE=K", help="frame skip per type")
    group.add_argument(
        "--configs",
        nargs="+",
        metavar="NAME",
        help="spotting configs of config.yaml whose K to use (e.g. cas_micro cas_macro)",
    )
    parser.add_argument("--config", default=None, help="config file (default: config.yaml)")
    parser.add_argument(
        "--predictions",
        nargs="+",
        default=None,
        metavar="CSV",
        help="also give the share these predicted intervals match (CSVs as for evaluate, read "
        "as one set, e.g. every fold's step2_refined.csv) and, in column beyond_window, how "
        "many of those no 2K+1 window could match",
    )


def run(args: argparse.Namespace) -> int:
    from tsmsnet.cli import read_csv
    from tsmsnet.config import DEFAULT_CONFIG, load_config
    from tsmsnet.evaluation.findable import config_K, fixed_window_table, predictions_table
    from tsmsnet.evaluation.megc import normalise

    if args.K:
        K = parse_K(args.K)
    else:
        K = config_K(load_config(args.config or DEFAULT_CONFIG), args.configs)
    gt = read_csv(args.ground_truth, "ground truth")
    table = fixed_window_table(gt, K, source=args.ground_truth)
    table.insert(0, "rule", "window 2K+1")
    if args.predictions:
        # Each file checked on its own, so an error names the file and its row.
        pred = pd.concat(
            [
                normalise(read_csv(path, "predictions"), "predictions", path)
                for path in args.predictions
            ],
            ignore_index=True,
        )
        extra = predictions_table(gt, pred, args.ground_truth, K=K)
        extra.insert(0, "rule", "predictions")
        table = pd.concat([table, extra], ignore_index=True)
    table["share"] = table["share"].round(4)
    table = table.astype(object).where(table.notna(), "-")  # pandas' <NA> reads as noise
    print(table.to_string(index=False))
    return 0
