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
        default=None,
        help="also give the share these predicted intervals match (CSV as for evaluate)",
    )


def run(args: argparse.Namespace) -> int:
    from tsmsnet.cli import read_csv
    from tsmsnet.config import DEFAULT_CONFIG, load_config
    from tsmsnet.evaluation.findable import config_K, fixed_window_table, predictions_table

    if args.K:
        K = parse_K(args.K)
    else:
        K = config_K(load_config(args.config or DEFAULT_CONFIG), args.configs)
    gt = read_csv(args.ground_truth, "ground truth")
    table = fixed_window_table(gt, K, source=args.ground_truth)
    table.insert(0, "rule", "window 2K+1")
    if args.predictions:
        pred = read_csv(args.predictions, "predictions")
        extra = predictions_table(gt, pred, args.ground_truth, args.predictions)
        extra.insert(0, "rule", "predictions")
        table = pd.concat([table, extra], ignore_index=True)
    table["share"] = table["share"].round(4)
    print(table.to_string(index=False, na_rep="-"))
    return 0
