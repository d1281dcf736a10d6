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

With `models: upstream` the check also lists upstream's checkout (file names only) and finds,
for every fold, the upstream folds that will spot it (tsmsnet.upstream.fold_models): a
subject holding ground truth of a config's type without a fold of its own fails here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import yaml

from tsmsnet import pipeline
from tsmsnet.config import dataset_configs, spot_config, synthetic_preset
from tsmsnet.errors import ConfigError, InputError, TsmsnetError, one_line
from tsmsnet.runlog import quiet
from tsmsnet.upstream import CONFIGS as UPSTREAM_CONFIGS
from tsmsnet.upstream import UpstreamSet, fold_models, read_upstream_set, upstream_config

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


def store_min_frames(Ks: dict[str, int], stride: int) -> dict[str, tuple[int, str]]:
    """Fewest frames a video needs per feature store: {what: (frames, the config key to lower)}
    for spotting configs {name: K} and the stage-2 stride.

    Stage 1 of config c pairs frame t with t + K (K + 1 frames give one sample); stage 2 pairs
    frames 4j and 4j + 4 (8 frames give one clip).
    """
    need = {f"config {name} (K={k})": (k + 1, f"configs.{name}.K") for name, k in Ks.items()}
    need[f"stage 2 (stage2_stride={stride})"] = (2 * stride, "preprocess.stage2_stride")
    return need


def min_frames(cfg: dict) -> dict[str, tuple[int, str]]:
    """`store_min_frames` of the dataset's spotting configs."""
    Ks = {name: spot_config(cfg, name).K for name in dataset_configs(cfg)}
    return store_min_frames(Ks, int(cfg["preprocess"]["stage2_stride"]))


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


@dataclass(frozen=True)
class Checked:
    """What the checks built, for the DAG to use (nothing is read twice)."""

    videos: pd.DataFrame  # subject, video, source
    # subject -> expression types of its ground truth (every subject of `videos`); None where
    # the dataset was not read (a cluster job re-reading the workflow)
    types: dict[str, set[str]] | None
    upstream: UpstreamSet | None = None  # models=upstream: the checkout's folds
    # models=upstream: (config, subject) -> the upstream folds (held-out subjects) spotting it
    spotted_by: dict[tuple[str, str], list[str]] | None = None


def _synthetic_types(cfg: dict) -> dict[str, set[str]]:
    from tsmsnet.synthetic.generate import planned_types

    preset = synthetic_preset(cfg)
    fps = float(cfg["datasets"][preset["layout"]]["fps"])
    return planned_types(cfg["synthetic"], preset, int(cfg["seed"]), fps)


def check_data(cfg: dict) -> dict[str, set[str]] | None:
    """A real dataset's annotations and frame listings, read as the `annotations` rule will
    read them; returns each subject's ground-truth types (None for synthetic data, which is
    checked by its preset before it exists)."""
    if cfg["dataset"] == "synthetic":
        return None
    from tsmsnet.datasets import read_dataset

    reader = pipeline.reader_name(cfg)
    videos, annotations = read_dataset(
        reader, pipeline.data_root(cfg), cfg["datasets"][reader], log=quiet
    )
    check_lengths(videos, cfg)
    types: dict[str, set[str]] = {s: set() for s in pipeline.subjects(videos)}
    for subject, kind in annotations[["subject", "type"]].itertuples(index=False):
        types.setdefault(str(subject), set()).add(str(kind))
    return types


def check_dataset(cfg: dict, read_data: bool = True) -> Checked:
    """The video table, the folds and the spotting configs; with `read_data`, check_data too.

    Returns the video table (subject, video, source) and each subject's ground-truth types
    (synthetic: as generation will draw them; a real dataset: from its annotations).
    """
    table = pipeline.video_table(cfg)
    pipeline.subjects(table)  # LOSO needs at least two: a clear error here
    for name in dataset_configs(cfg):
        spot_config(cfg, name)
    types = None
    if cfg["dataset"] == "synthetic":
        _check_synthetic_lengths(cfg)
        types = _synthetic_types(cfg)
    elif read_data:
        types = check_data(cfg)
    return Checked(table, types)


def _published(reader: str) -> str:
    names = [c.config for c in UPSTREAM_CONFIGS.values() if c.dataset == reader]
    return ", ".join(names) or "none"


def check_models_config(cfg: dict) -> None:
    """models=upstream: upstream_weights is set and upstream published the dataset's configs
    for its data (ConfigError; before the dataset is read)."""
    if cfg["models"] != "upstream":
        return
    if not cfg["upstream_weights"]:
        raise ConfigError(
            "models=upstream needs upstream_weights, the folder of a clone of "
            "https://github.com/xly135846/MEGC2021: run with --config models=upstream "
            "upstream_weights=/path/to/MEGC2021"
        )
    reader = pipeline.reader_name(cfg)
    for name in dataset_configs(cfg):
        published = upstream_config(name)
        if published is None or published.dataset != reader:
            raise ConfigError(
                f"models=upstream: upstream published no weights of config {name} for "
                f"{reader} data (published for {reader}: {_published(reader)}); set "
                f"datasets.{cfg['dataset']}.configs to those or use models=trained"
            )


def check_models(cfg: dict, checked: Checked) -> Checked:
    """models=upstream: upstream_weights is a checkout of upstream holding a fold for every
    (config, subject) that needs one (tsmsnet.upstream.fold_models). Returns `checked` with
    the checkout's folds and the folds that spot each (config, subject) (unchanged for
    models=trained). File names only: no weights are read here.
    """
    if cfg["models"] != "upstream":
        return checked
    try:
        upstream = read_upstream_set(cfg["upstream_weights"])
    except InputError as err:
        raise InputError(f"upstream_weights: {err}") from None
    spotted_by = {}
    for name in dataset_configs(cfg):
        kind = spot_config(cfg, name).type
        for subject in pipeline.subjects(checked.videos):
            holds = None if checked.types is None else kind in checked.types.get(subject, ())
            spotted_by[name, subject] = fold_models(name, subject, upstream.subjects(name), holds)
    return replace(checked, upstream=upstream, spotted_by=spotted_by)


def check_workflow(cfg: dict, schema_path: str | Path, read_data: bool = True) -> Checked:
    """Everything checkable before the first job: config schema, the dataset, the models.

    Returns what the checks built (video table, ground-truth types, upstream's folds), for the
    DAG to use.

    With read_data=False the dataset is not read (finish_checks reads it): the Snakefile starts
    the frames fingerprints in between (tsmsnet.pipeline.frames_fingerprints).
    """
    check_config(cfg, schema_path)
    check_models_config(cfg)
    return check_models(cfg, check_dataset(cfg, read_data=read_data))


def finish_checks(cfg: dict, checked: Checked) -> Checked:
    """What check_workflow(read_data=False) left: a real dataset's annotations and frames,
    then the models against its ground-truth types."""
    if cfg["dataset"] == "synthetic":
        return checked
    return check_models(cfg, replace(checked, types=check_data(cfg)))
