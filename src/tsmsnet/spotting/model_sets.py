"""Model sets: the trained models one spotting config runs with, read from a folder.

A fold folder (`models/<config>/<subject>`: apex.pt, interval.pt) is one model set; a folder of
fold folders (`models/<config>`, e.g. every held-out subject of upstream's published weights)
is an ensemble, whose folds must agree on the spotting config, fps and preprocessing
(tsmsnet.steps.spot.spot_stores averages their stage-1 scores and takes the majority of their
stage-2 labels). Everything is checked from the checkpoints' records before any work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tsmsnet.config import SpotConfig
from tsmsnet.errors import InputError
from tsmsnet.preprocess.record import KEYS as PREPROCESS_KEYS
from tsmsnet.preprocess.record import complete_record

STAGE_FILES = ("apex.pt", "interval.pt")


@dataclass(frozen=True)
class ModelSet:
    """One config's models: one fold or an ensemble of folds, with their shared settings."""

    folder: Path
    folds: tuple[Path, ...]  # fold folders; (folder,) for a single fold
    spot: SpotConfig
    fps: float | None
    preprocess: dict  # tsmsnet.preprocess.record: the same for every model set of a run
    cpu_kernels: dict  # the pins training ran under (config cpu_kernels), {} for none

    @property
    def name(self) -> str:
        return self.spot.name

    @property
    def apex(self) -> list[str]:
        return [str(f / "apex.pt") for f in self.folds]

    @property
    def interval(self) -> list[str]:
        return [str(f / "interval.pt") for f in self.folds]


def _payload(path: Path) -> dict:
    import torch

    if not path.is_file():
        raise InputError(
            f"{path} does not exist: --models takes a trained fold's folder, "
            "results/<dataset>/models/<config>/<subject>, holding apex.pt and interval.pt, "
            "or a folder of such folds (an ensemble, e.g. results/<dataset>/models/<config>)"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged file
        raise InputError(f"{path} is not a readable checkpoint ({exc}); retrain it") from exc


def _pinned(extra: dict) -> dict:
    """The CPU kernel pins a checkpoint was trained with ({} from a tsmsnet that recorded
    none, or imported weights: each CPU's own kernels)."""
    return dict(extra.get("cpu_kernels", {}).get("pinned", {}))


def load_fold(folder: str | Path) -> ModelSet:
    """One fold folder, checked: both checkpoints present, recording the same settings."""
    folder = Path(folder)
    apex, interval = (folder / name for name in STAGE_FILES)
    extras = {}
    for path in (apex, interval):
        extra = _payload(path).get("extra", {})
        missing = [k for k in ("spot", "fps", "preprocess") if k not in extra]
        if missing:
            raise InputError(
                f"checkpoint {path} does not record {', '.join(missing)} (written by an older "
                "tsmsnet): rerun the workflow to retrain it"
            )
        extras[path] = {**extra, "preprocess": complete_record(extra["preprocess"])}
    a, i = extras[apex], extras[interval]
    for key in ("spot", "fps"):
        if a[key] != i[key]:
            raise InputError(f"{apex} and {interval} disagree on {key}: retrain the fold")
    pins = _pinned(a)
    if pins != _pinned(i):
        raise InputError(f"{apex} and {interval} disagree on the CPU kernels: retrain the fold")
    missing = [k for k in PREPROCESS_KEYS if k not in a["preprocess"] or k not in i["preprocess"]]
    if missing:
        raise InputError(
            f"checkpoints in {folder} do not record {', '.join(missing)} (written by an older "
            "tsmsnet): rerun the workflow to retrain them"
        )
    for key in PREPROCESS_KEYS:
        if a["preprocess"][key] != i["preprocess"][key]:
            raise InputError(f"{apex} and {interval} disagree on {key}: retrain the fold")
    return ModelSet(
        folder=folder,
        folds=(folder,),
        spot=SpotConfig.from_record(a["spot"]),
        fps=None if a["fps"] is None else float(a["fps"]),
        preprocess={k: a["preprocess"][k] for k in PREPROCESS_KEYS},
        cpu_kernels=pins,
    )


def _is_fold(folder: Path) -> bool:
    return any((folder / name).exists() for name in STAGE_FILES)


def load_model_set(folder: str | Path) -> ModelSet:
    """A --models folder: a fold folder, or a folder of fold folders (an ensemble, its folds in
    name order), checked to agree on spotting config, fps and preprocessing."""
    folder = Path(folder)
    if _is_fold(folder) or not folder.is_dir():
        return load_fold(folder)
    fold_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and _is_fold(p))
    if not fold_dirs:
        return load_fold(folder)  # says what a --models folder holds
    folds = [load_fold(f) for f in fold_dirs]
    first = folds[0]
    for other in folds[1:]:
        differs = [
            k for k in ("spot", "fps", "cpu_kernels") if getattr(other, k) != getattr(first, k)
        ]
        differs += [k for k in PREPROCESS_KEYS if other.preprocess[k] != first.preprocess[k]]
        if differs:
            raise InputError(
                f"ensemble {folder}: folds {first.folder.name} and {other.folder.name} differ "
                f"in {', '.join(differs)}; an ensemble's folds must come from one config of one "
                "run (or one import): pass a single fold or a folder of matching folds"
            )
    return ModelSet(
        folder=folder,
        folds=tuple(fold_dirs),
        spot=first.spot,
        fps=first.fps,
        preprocess=first.preprocess,
        cpu_kernels=first.cpu_kernels,
    )


def common_settings(sets: list[ModelSet]) -> tuple[float | None, dict]:
    """The fps and preprocessing all model sets share (error if they or the CPU kernels
    they were trained with differ: one process pins its kernels once)."""
    first = sets[0]
    for other in sets[1:]:
        if other.cpu_kernels != first.cpu_kernels:
            raise InputError(
                f"models {first.folder} and {other.folder} were trained with different CPU "
                f"kernels ({first.cpu_kernels} vs {other.cpu_kernels}); pass models of one "
                "workflow run"
            )
        for key in PREPROCESS_KEYS:
            if other.preprocess[key] != first.preprocess[key]:
                raise InputError(
                    f"models {first.folder} and {other.folder} were trained on different "
                    f"preprocessing ({key}); pass models of one workflow run"
                )
    rates = {s.fps for s in sets if s.fps is not None}
    if len(rates) > 1:
        listing = ", ".join(f"{s.folder}: {s.fps:g} fps" for s in sets if s.fps is not None)
        raise InputError(f"the models were trained at different frame rates ({listing})")
    return (rates.pop() if rates else None), first.preprocess
