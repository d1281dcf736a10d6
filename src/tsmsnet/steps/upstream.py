"""Import upstream's published weights as model sets: one fold folder per configuration and
held-out subject, laid out as the workflow's (`<out>/<config>/<subject>/apex.pt, interval.pt`),
so a fold folder is a model set and a config folder an ensemble for `tsmsnet spot`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from tsmsnet.atomic import atomic_text
from tsmsnet.config import SpotConfig, spot_config, training
from tsmsnet.errors import ConfigError, InputError
from tsmsnet.runlog import Log
from tsmsnet.upstream import (
    CONFIGS,
    UpstreamConfig,
    UpstreamFile,
    checkout_commit,
    fold_record,
    scan_checkout,
)


@dataclass(frozen=True)
class ImportSettings:
    """What config.yaml says about one upstream configuration: our nets' shapes, the spotting
    config (K, L, P), the dataset's fps and the method's preprocessing."""

    apex_net: object  # ApexNetConfig
    interval_net: object  # IntervalNetConfig
    spot: dict  # SpotConfig.record()
    fps: float
    preprocess: dict  # tsmsnet.preprocess.record


def import_sections(cfg: dict, config: UpstreamConfig, config_path: str | Path) -> dict:
    """What an import of one upstream configuration reads of config.yaml, as plain data (no
    torch): the spotting config, ROI layout, stage-1 settings, fps and preprocessing record.
    The workflow's rerun trigger for its import. ConfigError naming a missing key."""
    from tsmsnet.preprocess.record import preprocess_record

    try:
        as_dataset = {**cfg, "dataset": config.dataset}
        return {
            "spot": spot_config(cfg, config.config).record(),
            "features": dict(cfg["preprocess"]["features"]),
            "apex_net": training(as_dataset, "apex_net"),
            "interval_net": training(as_dataset, "interval_net"),
            "fps": float(cfg["datasets"][config.dataset]["fps"]),
            "preprocess": preprocess_record(cfg),
        }
    except KeyError as exc:
        raise ConfigError(
            f"{config_path} has no {exc} (needed for upstream's {config.folder}): pass the "
            "config.yaml of a tsmsnet checkout with --config"
        ) from None


def import_settings(cfg: dict, config: UpstreamConfig, config_path: str | Path) -> ImportSettings:
    """config.yaml's settings of one upstream configuration (ConfigError naming a missing key)."""
    from tsmsnet.models.apex import ApexNetConfig
    from tsmsnet.models.interval import IntervalNetConfig

    s = import_sections(cfg, config, config_path)
    return ImportSettings(
        # Upstream's own input scaling, whatever config.yaml now says for the dataset.
        apex_net=replace(
            ApexNetConfig.from_sections(s["apex_net"], s["features"]),
            input_scaling=config.input_scaling,
        ),
        interval_net=IntervalNetConfig.from_spot(
            SpotConfig.from_record(s["spot"]), s["interval_net"], s["features"]
        ),
        spot=s["spot"],
        fps=s["fps"],
        preprocess=s["preprocess"],
    )


def read_state_dict(path: Path) -> dict:
    """An upstream file as plain tensors: torch's weights-only loader runs no pickled code
    (all 184 published files load so), and anything else is refused."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for damaged or unsafe pickles
        raise InputError(
            f"{path} is not a plain PyTorch state dict that loads without running pickled code "
            f"({exc}); only upstream's own weights files are supported"
        ) from None


def upstream_model(f: UpstreamFile, settings: ImportSettings):
    """The file's weights in a fresh net of ours (strict load through the key map)."""
    from tsmsnet.models.apex import ApexNet
    from tsmsnet.models.interval import IntervalNet
    from tsmsnet.models.upstream import load_upstream

    model = ApexNet(settings.apex_net) if f.stage == "apex" else IntervalNet(settings.interval_net)
    return load_upstream(model, read_state_dict(f.path), f.path).eval()


def import_checkout(
    checkout: str | Path,
    out: str | Path,
    cfg: dict,
    config_path: str | Path,
    log: Log,
    configs: Collection[str] | None = None,
) -> list[Path]:
    """Every fold of an upstream checkout into `out/<config>/<held-out subject>/`: apex.pt and
    interval.pt (our checkpoint format, the fold's record in `extra`) and `<stage>_config.yaml`
    (that record). Every file is read and strictly loaded before anything is written.
    configs: only the folds of these spotting configs (ours, e.g. cas_micro; the workflow's
    dataset), else all. Returns the fold folders."""
    from tsmsnet.training.train import save_checkpoint

    checkout, out = Path(checkout), Path(out)
    folds = scan_checkout(checkout)
    if configs is not None:
        folds = [f for f in folds if f.config.config in configs]
        if not folds:
            raise InputError(f"{checkout} has no folds of {', '.join(sorted(configs))}")
    settings = {
        name: import_settings(cfg, CONFIGS[name], config_path)
        for name in sorted({f.config.folder for f in folds})
    }
    commit = checkout_commit(checkout)
    converted = []
    for fold in folds:
        s = settings[fold.config.folder]
        models = {stage: upstream_model(getattr(fold, stage), s) for stage in ("apex", "interval")}
        converted.append((fold, models))
    log(f"{checkout}: {len(folds)} folds of {len(settings)} configs load into our networks")
    written = []
    for fold, models in converted:
        s = settings[fold.config.folder]
        folder = out / fold.config.config / fold.held_out
        for stage, model in models.items():
            record = fold_record(fold, stage, checkout, s.spot, s.fps, s.preprocess, commit)
            net_cfg = s.apex_net if stage == "apex" else s.interval_net
            save_checkpoint(folder / f"{stage}.pt", model, net_cfg, [], record)
            atomic_text(yaml.safe_dump(record, sort_keys=True), folder / f"{stage}_config.yaml")
        log(f"{fold.apex.relative(checkout)}, {fold.interval.relative(checkout)} -> {folder}")
        written.append(folder)
    return written
