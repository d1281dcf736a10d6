"""`tsmsnet` command line: parses arguments, calls the library, prints; no logic of its own.

Each subcommand is a pair (add_arguments, run) registered in COMMANDS, so another one is added
by writing its two functions, here or in its own module (`spot`: tsmsnet.spot_cli,
`findable`: tsmsnet.findable_cli,
`import-upstream`: tsmsnet.upstream_cli), and one entry.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from tsmsnet import findable_cli, spot_cli, upstream_cli
from tsmsnet.config import DEFAULT_CONFIG, load_config
from tsmsnet.errors import InputError, TsmsnetError, one_line
from tsmsnet.evaluation.megc import evaluate
from tsmsnet.evaluation.strs import MATCHINGS, StrOptions, confusion_table, evaluate_str
from tsmsnet.evaluation.submission import write_confusion, write_str_json

ERROR_EXIT = 2


def read_csv(path: str | Path, what: str) -> pd.DataFrame:
    """A CSV table with video and subject ids kept as text (`006_1`, `0101`, `006` unchanged)."""
    try:
        df = pd.read_csv(path, dtype={"video": str, "subject": str})
    except FileNotFoundError:
        raise InputError(f"{what} file not found: {path}") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} file is empty (no header row): {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} file {path} is not a readable CSV: {exc}") from None
    return df


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ground_truth", help="CSV with video, type, onset, offset (apex optional)")
    parser.add_argument("predictions", help="CSV with video, type, onset, offset (score optional)")


def _evaluate_run(args: argparse.Namespace) -> int:
    gt = read_csv(args.ground_truth, "ground truth")
    pred = read_csv(args.predictions, "predictions")
    result = evaluate(
        gt, pred, ground_truth_source=args.ground_truth, predictions_source=args.predictions
    )
    print(json.dumps(result, indent=2))
    return 0


# `evaluate-str`: ground truth is an annotations.csv (video, type, onset, offset, emotion; macro
# rows need no emotion); predictions have video, onset, offset and emotion (or class), type
# optional (without it every row is a micro-expression, as in an STR submission file). The
# class list and MEAN's variants default to the config's `str` section.
def _evaluate_str_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ground_truth", help="annotations CSV: video, type, onset, offset, emotion")
    parser.add_argument(
        "predictions", help="CSV: video, onset, offset, emotion (or class); type optional"
    )
    parser.add_argument("--out", help="also write the JSON here (str.json)")
    parser.add_argument("--confusion", help="write the confusion table (CSV) here")
    parser.add_argument(
        "--config", default=str(DEFAULT_CONFIG), help="config file whose `str` section gives "
        "the defaults below (default: the project's config.yaml)"
    )  # fmt: skip
    parser.add_argument("--classes", help="comma-separated class list (config: str.classes)")
    parser.add_argument(
        "--matching", choices=MATCHINGS, help="one_to_one (str.md) or best_only (MEAN)"
    )
    for flag, what in (
        ("include-others", "score pairs whose ground truth is others"),
        ("drop-videos-without-micro", "drop videos without a ground-truth micro (MEAN)"),
        ("skip-absent-classes", "skip classes absent from both sides in the means (MEAN)"),
    ):
        parser.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, help=what)


def str_options(args: argparse.Namespace) -> StrOptions:
    """config's `str` section with the options given on the command line."""
    try:
        cfg = load_config(args.config)
    except FileNotFoundError:
        raise InputError(f"config file not found: {args.config}; pass --config") from None
    classes = None
    if args.classes is not None:
        classes = tuple(c for c in args.classes.split(",") if c.strip())
    return StrOptions.from_config(
        cfg,
        classes=classes,
        matching=args.matching,
        include_others=args.include_others,
        drop_videos_without_micro=args.drop_videos_without_micro,
        skip_absent_classes=args.skip_absent_classes,
    )


def _evaluate_str_run(args: argparse.Namespace) -> int:
    options = str_options(args)
    gt = read_csv(args.ground_truth, "ground truth")
    pred = read_csv(args.predictions, "predictions")
    result = evaluate_str(
        gt,
        pred,
        options,
        ground_truth_source=args.ground_truth,
        predictions_source=args.predictions,
    )
    if args.out:
        write_str_json(result.metrics, args.out)
    if args.confusion:
        write_confusion(confusion_table(result.spotting.pairs, options), args.confusion)
    print(json.dumps(result.metrics, indent=2))
    return 0


Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]

COMMANDS: dict[str, Command] = {
    "evaluate": (
        "score predicted intervals against ground truth (MEGC protocol); prints JSON",
        _evaluate_arguments,
        _evaluate_run,
    ),
    "evaluate-str": (
        "score spotted micro-expressions and their emotion classes (spot-then-recognise: "
        "spotting F1, UF1, UAR, analysis F1, STRS); prints JSON",
        _evaluate_str_arguments,
        _evaluate_str_run,
    ),
    "spot": (
        "spot expressions in a new video, frames folder or folder of them (a test set) with "
        "trained models, and name the micro-expressions' classes with --recognizer; writes "
        "intervals.csv, scores.png and the MEGC submission files",
        spot_cli.add_arguments,
        spot_cli.run,
    ),
    "findable": (
        "share of ground truths per type that a fixed 2K+1 window (or given predictions) can "
        "match at IoU 0.5; prints a table",
        findable_cli.add_arguments,
        findable_cli.run,
    ),
    "import-upstream": (
        "convert upstream's published weights (a clone of xly135846/MEGC2021) into model sets "
        "for spot",
        upstream_cli.add_arguments,
        upstream_cli.run,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per registered command."""
    parser = argparse.ArgumentParser(
        prog="tsmsnet", description="Macro- and micro-expression spotting in long videos."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(command)
        command.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; a TsmsnetError becomes a one-line message and exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except TsmsnetError as exc:
        print(f"tsmsnet {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return ERROR_EXIT


if __name__ == "__main__":
    sys.exit(main())
