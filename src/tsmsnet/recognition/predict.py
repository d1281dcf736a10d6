"""Name the emotion class of spotted intervals with trained recognition networks.

Public entry point (the `recognize` rule and `tsmsnet spot` call it):

    name_classes(models, stores, intervals, device="auto", log=quiet) -> DataFrame

- models: a checkpoint file (`recognizer.pt`), a fold folder holding one
  (`results/D/models/recognition/<subject>/`), a folder of fold folders
  (`results/D/models/recognition/`: an ensemble, class probabilities averaged over the folds),
  or a list of checkpoint files.
- stores: {video: stage-1 store path} built with the checkpoints' K (their record's `K`;
  checked against each store's `step` attr). Every video of `intervals` needs one.
- intervals: DataFrame with at least video, onset, offset in the dataset's frame numbers
  (store index = frame - the store's first_frame); any other columns are kept.
- returns: the same rows, in the same order and index, plus `emotion` (the class with the
  highest mean probability; ties go to the class listed first) and `emotion_score` (that mean
  probability). An interval is centred on its midpoint and read as the K + 1 samples whose span
  holds it (`samples`); their softmax is averaged, then the folds' averages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tsmsnet.errors import InputError
from tsmsnet.preprocess.stores import open_store
from tsmsnet.recognition.samples import centre_frame, read_samples, sample_indices, store_step
from tsmsnet.runlog import Log, quiet

CHECKPOINT = "recognizer.pt"
OUTPUT_COLUMNS = ["emotion", "emotion_score"]


def checkpoint_paths(models) -> list[Path]:
    """The recognizer checkpoints `models` names (see the module docstring), sorted."""
    if isinstance(models, str | Path):
        path = Path(models)
        if path.is_file():
            return [path]
        if (path / CHECKPOINT).is_file():
            return [path / CHECKPOINT]
        found = sorted(path.glob(f"*/{CHECKPOINT}"))
        if not found:
            raise InputError(
                f"no recognition model at {path}: give a {CHECKPOINT}, a fold folder holding "
                "one, or a folder of fold folders (results/<dataset>/models/recognition)"
            )
        return found
    paths = [Path(p) for p in models]
    if not paths:
        raise InputError("no recognition checkpoints given")
    return paths


def load_recognizers(models, device) -> tuple[list, list[dict]]:
    """(networks, payloads) of `models`; all must name the same classes and K."""
    from tsmsnet.training.train import load_checkpoint

    loaded = [load_checkpoint(p, device) for p in checkpoint_paths(models)]
    payloads = [p for _, p in loaded]
    for path, payload in zip(checkpoint_paths(models), payloads, strict=True):
        if payload["model"] != "RecognitionNet":
            raise InputError(f"{path} holds a {payload['model']}, not a recognition network")
    keys = {(tuple(p["net_cfg"]["classes"]), int(p["extra"]["K"])) for p in payloads}
    if len(keys) > 1:
        raise InputError(f"the recognition checkpoints disagree on classes or K: {sorted(keys)}")
    return [m for m, _ in loaded], payloads


@torch.no_grad()
def _probabilities(nets: list, x: np.ndarray, device) -> np.ndarray:
    """(C,) mean over samples and networks of the softmax of (n, 3, H, W) samples."""
    batch = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
    probs = [torch.softmax(net(batch), dim=1).mean(dim=0) for net in nets]
    return torch.stack(probs).mean(dim=0).double().cpu().numpy()


def name_classes(
    models,
    stores: Mapping[str, str | Path],
    intervals: pd.DataFrame,
    device="auto",
    log: Log = quiet,
) -> pd.DataFrame:
    """`intervals` plus `emotion` and `emotion_score` (see the module docstring)."""
    from tsmsnet.training.device import pick_device

    device = pick_device(device) if not isinstance(device, torch.device) else device
    nets, payloads = load_recognizers(models, device)
    classes = list(payloads[0]["net_cfg"]["classes"])
    K = int(payloads[0]["extra"]["K"])
    missing = sorted(set(intervals["video"].astype(str)) - set(map(str, stores)))
    if missing:
        raise InputError(f"no stage-1 store given for video(s) {', '.join(missing)}")
    out = intervals.copy()
    names, scores = [], []
    opened: dict[str, object] = {}
    for row in intervals.itertuples(index=False):
        video = str(row.video)
        if video not in opened:
            store = open_store(stores[video])
            if store_step(store, str(stores[video])) != K:
                raise InputError(
                    f"feature store {stores[video]} was built with step "
                    f"{store_step(store, str(stores[video]))}, the recognition models with K={K}: "
                    "give the stage-1 stores of that K"
                )
            opened[video] = store
        store = opened[video]
        centre = centre_frame(int(row.onset), int(row.offset)) - int(store.attrs["first_frame"])
        x = read_samples(store, sample_indices(centre, K, int(store.shape[0])))
        p = _probabilities(nets, x, device)
        best = int(np.argmax(p))
        names.append(classes[best])
        scores.append(round(float(p[best]), 6))
    out["emotion"] = pd.Series(names, index=out.index, dtype=object)
    out["emotion_score"] = pd.Series(scores, index=out.index, dtype=float)
    log(f"named {len(out)} interval(s) with {len(nets)} recognition model(s): {_counts(names)}")
    return out


def _counts(names: Sequence[str]) -> str:
    values, counts = np.unique(np.asarray(names, dtype=object), return_counts=True)
    return ", ".join(f"{v} {c}" for v, c in zip(values, counts, strict=True)) or "none"
