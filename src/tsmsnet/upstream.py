"""The published weights of upstream (xly135846/MEGC2021): where a checkout keeps them, what
their file names say, and the record an imported fold keeps.

A checkout holds one state dict per configuration, held-out subject and stage:
`weights/1st/<cfg>/net_min_loss_<subject><epoch>_<test F1>.pt` (stage 1) and
`weights/2nd/<cfg>/net_min_loss_<subject>.pt` (stage 2). The stage-1 names show that upstream
kept, for each fold, the epoch with the best F1 on the held-out subject itself (test-set model
selection, which our workflow never does); the record says so.

Upstream trained each configuration only on the subjects holding a ground truth of its type
and published a fold for each of them (14 of CAS(ME)^2's 22 subjects for micro). A subject
without a fold of its own is therefore one that no fold saw: the ensemble of all folds may
spot it (`fold_models`), while a subject holding the type but lacking its fold was seen by
every fold and cannot be spotted without leakage.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from tsmsnet.errors import InputError

SOURCE = "upstream"  # extra["source"] of an imported checkpoint
REPOSITORY = "xly135846/MEGC2021"
STAGE_DIRS = {"apex": "1st", "interval": "2nd"}  # our stage -> upstream's folder
SELECTION = (
    "upstream kept, for each fold, the epoch whose model scored the best F1 on the held-out "
    "subject's own videos (the number after the last underscore of the stage-1 file name): "
    "these weights were selected on their test subject, so their scores on it are optimistic"
)


@dataclass(frozen=True)
class UpstreamConfig:
    """One upstream configuration folder and what it is in our terms."""

    folder: str  # upstream's name under weights/1st and weights/2nd
    config: str  # our spotting config (config.yaml `configs`)
    dataset: str  # our dataset (config.yaml `datasets`: its fps)
    subject_digits: int  # digits of the subject in upstream's file names
    subject_format: str  # upstream's digits -> the subject id our dataset reader gives
    # How upstream fed stage 1: per-sample, per-channel min-max to [0, 1] on CAS(ME)^2, raw on
    # SAMM (method.md). The imported ApexNetConfig applies it.
    input_scaling: str


CONFIGS = {
    c.folder: c
    for c in (
        UpstreamConfig("cas-micro", "cas_micro", "casme2", 2, "s{}", "minmax"),
        UpstreamConfig("cas-macro", "cas_macro", "casme2", 2, "s{}", "minmax"),
        UpstreamConfig("samm-micro", "samm_micro", "samm_lv", 3, "{}", "raw"),
        UpstreamConfig("samm-macro", "samm_macro", "samm_lv", 3, "{}", "raw"),
    )
}

_F1 = r"(?P<f1>\d+(?:\.\d+)?)"


def _stage1_name(digits: int) -> re.Pattern:
    # CAS: `1547_0.1667` (subject 15, epoch 47) or `32_3_0.2667`; SAMM: `006_0_0.2143`
    # (subject 006, epoch 0) or `006_0.3137` (no epoch).
    return re.compile(rf"^net_min_loss_(?P<subject>\d{{{digits}}})_?(?P<epoch>\d+)?_{_F1}\.pt$")


def _stage2_name(digits: int) -> re.Pattern:
    return re.compile(rf"^net_min_loss_(?P<subject>\d{{{digits}}})\.pt$")


@dataclass(frozen=True)
class UpstreamFile:
    """One state dict of a checkout, with what its path says."""

    path: Path
    config: UpstreamConfig
    stage: str  # apex | interval
    subject: str  # upstream's digits, e.g. '15', '006'
    epoch: int | None
    test_f1: float | None

    @property
    def held_out(self) -> str:
        """The held-out subject as our dataset reader names it (`s15`, `006`)."""
        return self.config.subject_format.format(self.subject)

    def relative(self, checkout: Path) -> str:
        return self.path.relative_to(checkout).as_posix()


def parse_name(path: Path, config: UpstreamConfig, stage: str) -> UpstreamFile:
    """What an upstream file name says, or InputError naming the file."""
    digits = config.subject_digits
    pattern = _stage1_name(digits) if stage == "apex" else _stage2_name(digits)
    match = pattern.match(path.name)
    if match is None:
        expected = (
            f"net_min_loss_<{digits}-digit subject><epoch>_<F1>.pt"
            if stage == "apex"
            else f"net_min_loss_<{digits}-digit subject>.pt"
        )
        raise InputError(
            f"{path}: not an upstream weights file name for {config.folder} (expected "
            f"{expected}); remove it or move it out of the checkout's weights/ folder"
        )
    groups = match.groupdict()
    epoch, f1 = groups.get("epoch"), groups.get("f1")
    return UpstreamFile(
        path=path,
        config=config,
        stage=stage,
        subject=groups["subject"],
        epoch=None if epoch is None else int(epoch),
        test_f1=None if f1 is None else float(f1),
    )


@dataclass(frozen=True)
class UpstreamFold:
    """Both stages' state dicts of one configuration and held-out subject."""

    config: UpstreamConfig
    apex: UpstreamFile
    interval: UpstreamFile

    @property
    def held_out(self) -> str:
        return self.apex.held_out


def _weights_dir(checkout: Path, stage: str) -> Path:
    return checkout / "weights" / STAGE_DIRS[stage]


def scan_checkout(checkout: str | Path) -> list[UpstreamFold]:
    """Every fold of a checkout of upstream, both stages paired, checked before any loading.

    Errors: not a checkout (no weights/1st and weights/2nd), an unknown config folder, a file
    whose name says nothing we can read, a fold with one stage only.
    """
    checkout = Path(checkout)
    dirs = {stage: _weights_dir(checkout, stage) for stage in STAGE_DIRS}
    absent = [str(d) for d in dirs.values() if not d.is_dir()]
    if absent:
        raise InputError(
            f"{checkout} is not a checkout of upstream ({REPOSITORY}): no {', '.join(absent)}; "
            f"clone https://github.com/{REPOSITORY} and pass its folder"
        )
    files: dict[tuple[str, str], dict[str, UpstreamFile]] = {}
    for stage, folder in dirs.items():
        for sub in sorted(folder.iterdir()):
            if not sub.is_dir():
                continue
            config = CONFIGS.get(sub.name)
            if config is None:
                raise InputError(
                    f"{sub}: unknown upstream config folder; known: {', '.join(CONFIGS)}"
                )
            for path in sorted(sub.glob("*.pt")):
                f = parse_name(path, config, stage)
                slot = files.setdefault((config.folder, f.subject), {})
                if stage in slot:
                    raise InputError(
                        f"{path} and {slot[stage].path} are both stage {STAGE_DIRS[stage]} of "
                        f"{config.folder} subject {f.subject}: keep one"
                    )
                slot[stage] = f
    if not files:
        raise InputError(f"{checkout}: no weights files (*.pt) under weights/1st or weights/2nd")
    folds = []
    for (folder, subject), slot in sorted(files.items()):
        lone = [s for s in STAGE_DIRS if s not in slot]
        if lone:
            (have,) = slot.values()
            raise InputError(
                f"{have.path} has no partner of the other stage: "
                f"{_weights_dir(checkout, lone[0]) / folder} holds no file of subject {subject}"
            )
        folds.append(UpstreamFold(CONFIGS[folder], slot["apex"], slot["interval"]))
    return folds


def fold_record(
    fold: UpstreamFold,
    stage: str,
    checkout: Path,
    spot: dict,
    fps: float,
    preprocess: dict,
    commit: str | None,
) -> dict:
    """The record an imported checkpoint keeps: the keys of a trained fold's record (what is
    unknown is None: training videos, settings, seed), plus where the weights came from."""
    f = fold.apex if stage == "apex" else fold.interval
    return {
        "held_out": fold.held_out,
        "videos": None,  # unknown: upstream trained on the other subjects' videos
        "spot": spot,
        "train": None,
        "seed": None,
        "fps": float(fps),
        "preprocess": preprocess,
        "source": SOURCE,
        "upstream": {
            "repository": REPOSITORY,
            "commit": commit,
            "file": f.relative(checkout),
            "config": fold.config.folder,
            "subject": f.subject,
            "epoch": f.epoch,  # stage 1 only: its file name holds them
            "test_f1": f.test_f1,
            "selection": SELECTION,
            "input_scaling": fold.config.input_scaling,
        },
    }


def checkout_commit(checkout: str | Path) -> str | None:
    """The commit a git clone is at (None for a plain copy or without git)."""
    checkout = Path(checkout)
    if not (checkout / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def upstream_config(config: str) -> UpstreamConfig | None:
    """The upstream configuration published for our spotting config (None: none was)."""
    return next((c for c in CONFIGS.values() if c.config == config), None)


@dataclass(frozen=True)
class UpstreamSet:
    """What a checkout publishes, by our names: config -> held-out subject -> fold."""

    checkout: Path
    folds: dict[str, dict[str, UpstreamFold]]
    commit: str | None

    def subjects(self, config: str) -> list[str]:
        """The held-out subjects of the config's folds, sorted."""
        return sorted(self.folds.get(config, {}))

    def files(self, configs: Collection[str]) -> list[Path]:
        """Both stages' state dicts of every fold of these configs (what an import reads)."""
        return [
            f.path
            for config in sorted(configs)
            for fold in self.folds.get(config, {}).values()
            for f in (fold.apex, fold.interval)
        ]


def read_upstream_set(checkout: str | Path) -> UpstreamSet:
    """A checkout's folds from its file names only (no weights read), and its commit."""
    folds: dict[str, dict[str, UpstreamFold]] = {}
    for fold in scan_checkout(checkout):
        folds.setdefault(fold.config.config, {})[fold.held_out] = fold
    return UpstreamSet(Path(checkout), folds, checkout_commit(checkout))


def fold_models(
    config: str, subject: str, folds: Collection[str], holds_type: bool | None
) -> list[str]:
    """The upstream folds (by held-out subject) that spot `subject` under `config`.

    Its own fold where upstream published one; else every fold, as an ensemble: upstream
    trained each fold only on subjects holding the config's type, so none saw a subject
    without it. holds_type: whether the subject holds a ground truth of the config's type
    (None: not known here, e.g. a cluster job re-reading the workflow; the DAG was checked).
    InputError when no fold exists or when the subject holds the type but has no fold (every
    fold trained on it).
    """
    own = sorted(folds)
    if subject in folds:
        return [subject]
    if not own:
        raise InputError(
            f"upstream's weights have no fold of {config}: it cannot be spotted with them; "
            "use a full checkout of upstream or models=trained"
        )
    if holds_type:
        raise InputError(
            f"subject {subject} holds ground truth of {config}'s type but upstream's weights "
            f"have no fold holding it out (folds: {', '.join(own)}): every fold trained on it, "
            f"so its scores would be on training data; add its fold to the checkout, remove the "
            f"subject from the dataset, or use models=trained"
        )
    return own
