"""Checks run before any job: the config against its schema, then the dataset as a whole.

workflow/rules/common.smk calls `check_workflow` and `check_data` while Snakemake builds the
DAG, so even `snakemake -n` stops on bad input with one line naming the key, file, sheet, row
or frame and the fix, exit status 1 and nothing written. For a real dataset that means
reading the workbook and listing every frames folder (names only; the frames fingerprints
list and stat them in a second process meanwhile, tsmsnet.datasets.signature).

What only decoding can tell fails in the first job that decodes, naming the frame: a corrupt,
empty or differently sized frame in `faces` (every frame; `landmarks` if it is among the first
`search_frames`), no face in `landmarks`. Both write aside and rename, so a failure leaves no
output that looks complete. A separate up-front decoding pass would read every frame twice.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml

from tsmsnet import pipeline
from tsmsnet.config import dataset_configs, spot_config, synthetic_preset
from tsmsnet.errors import ConfigError, InputError, TsmsnetError, one_line
from tsmsnet.runlog import quiet

# How many schema errors one message lists, and how long a quoted value may get.
_SHOW = 5
_VALUE_CHARS = 160
_FIX_CONFIG = "fix config.yaml or the --config / --configfile override"


@contextmanager
def exit_on_error() -> Iterator[None]:
    """For the Snakefile: a TsmsnetError prints `tsmsnet: <message>` and exits with status 1
    (Snakemake would otherwise show it inside a traceback of the Snakefile)."""
    try:
        yield
    except TsmsnetError as err:
        sys.stderr.write(f"tsmsnet: {one_line(err)}\n")
        sys.stderr.flush()
        raise SystemExit(1) from None


def _key(path) -> str:
    return ".".join(str(p) for p in path)


def _describe(error) -> str:
    """One schema violation as the user would fix it: the dotted key, what is wrong."""
    where = _key(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in known)
        names = ", ".join(f"{where}.{k}" if where else k for k in unknown)
        return f"unknown config key(s) {names} (known here: {', '.join(known)})"
    message = error.message
    if len(message) > _VALUE_CHARS:
        message = message[:_VALUE_CHARS] + "..."
    return f"config {where or '(top level)'}: {message}"


def check_config(cfg: dict, schema_path: str | Path) -> None:
    """The config against workflow/schemas/config.schema.yaml; ConfigError naming each key."""
    import jsonschema

    with open(schema_path, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [_describe(e) for e in errors[:_SHOW]]
        if len(errors) > _SHOW:
            lines.append(f"... ({len(errors)} problems in total)")
        raise ConfigError("; ".join(lines) + f": {_FIX_CONFIG}")


def min_frames(cfg: dict) -> dict[str, tuple[int, str]]:
    """Fewest frames a video needs per feature store: {what: (frames, the config key to lower)}.

    Stage 1 of config c pairs frame t with t + K (K + 1 frames give one sample); stage 2 pairs
    frames 4j and 4j + 4 (8 frames give one clip).
    """
    need = {}
    for name in dataset_configs(cfg):
        k = spot_config(cfg, name).K
        need[f"config {name} (K={k})"] = (k + 1, f"configs.{name}.K")
    stride = int(cfg["preprocess"]["stage2_stride"])
    need[f"stage 2 (stage2_stride={stride})"] = (2 * stride, "preprocess.stage2_stride")
    return need


def check_lengths(videos: pd.DataFrame, cfg: dict) -> None:
    """Every video long enough for every feature store, before any flow job is scheduled."""
    need = min_frames(cfg)
    for row in videos.itertuples(index=False):
        for what, (frames, key) in need.items():
            if int(row.n_frames) < frames:
                raise InputError(
                    f"video {row.video} ({row.source}) has {row.n_frames} frames but {what} "
                    f"needs at least {frames}: remove the video (and its annotations) from the "
                    f"dataset or lower {key}"
                )


def _check_synthetic_lengths(cfg: dict) -> None:
    name = cfg["synthetic"]["preset"]
    frames = int(synthetic_preset(cfg)["frames"])
    for what, (needed, key) in min_frames(cfg).items():
        if frames < needed:
            raise ConfigError(
                f"synthetic preset {name} has {frames} frames per video but {what} needs at "
                f"least {needed}: raise synthetic.presets.{name}.frames or lower {key}"
            )


def check_data(cfg: dict) -> None:
    """A real dataset's annotations and frame listings, read as the `annotations` rule will
    read them (synthetic data is checked by its preset, before it exists)."""
    if cfg["dataset"] == "synthetic":
        return
    from tsmsnet.datasets import read_dataset

    reader = pipeline.reader_name(cfg)
    videos, _ = read_dataset(reader, pipeline.data_root(cfg), cfg["datasets"][reader], log=quiet)
    check_lengths(videos, cfg)


def check_dataset(cfg: dict, read_data: bool = True) -> pd.DataFrame:
    """The video table, the folds and the spotting configs; with `read_data`, check_data too.

    Returns the video table (subject, video, source).
    """
    table = pipeline.video_table(cfg)
    pipeline.subjects(table)
    for name in dataset_configs(cfg):
        spot_config(cfg, name)
    if cfg["dataset"] == "synthetic":
        _check_synthetic_lengths(cfg)
    if read_data:
        check_data(cfg)
    return table


def check_workflow(cfg: dict, schema_path: str | Path, read_data: bool = True) -> pd.DataFrame:
    """Everything checkable before the first job: config schema, then the dataset.

    Returns the video table (subject, video, source) the checks built, for the DAG to use.
    The Snakefile runs it with read_data=False, then check_data, to start the frames
    fingerprints in between (tsmsnet.pipeline.frames_fingerprints).
    """
    check_config(cfg, schema_path)
    return check_dataset(cfg, read_data=read_data)
