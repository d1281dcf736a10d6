"""One leave-one-subject-out fold of the recognition network.

The fold gets its training videos' stage-1 stores and the emotion table; the held-out subject
is named only to check it absent (steps.train.check_no_leak). Every labelled expression of
the chosen types whose class is in the list gives its K + 1 samples (`samples`); classes are
balanced by loss weights (inverse sample frequency), so a rare class counts as much as a
frequent one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsmsnet.errors import InputError
from tsmsnet.preprocess.stores import open_store
from tsmsnet.recognition.model import RecognitionNet, RecognitionNetConfig
from tsmsnet.recognition.samples import centre_frame, read_samples, sample_indices, store_step
from tsmsnet.runlog import Log
from tsmsnet.training.device import pick_device
from tsmsnet.training.seeding import seed_everything
from tsmsnet.training.train import Progress, _fit, _optimizer


@dataclass(frozen=True)
class TrainingSet:
    """Samples (n, 3, H, W), their class index (n,), and how many expressions gave them."""

    x: np.ndarray
    y: np.ndarray
    expressions: np.ndarray  # per class


def training_set(
    truth: pd.DataFrame,
    stores: Sequence[str],
    videos: Sequence[str],
    held_out: str,
    classes: Sequence[str],
    types: Sequence[str],
    K: int,
) -> TrainingSet:
    """The samples of every expression of `types` with a class in `classes` in `videos`.

    truth: the emotion table (emotions.csv: video, subject, type, onset, apex, offset, emotion).
    stores: the videos' stage-1 stores (step K), in the order of `videos`.
    """
    from tsmsnet.steps.train import check_no_leak

    check_no_leak(truth, list(videos), held_out)
    index = {c: i for i, c in enumerate(classes)}
    rows = truth[truth["type"].isin(list(types)) & truth["emotion"].isin(list(classes))]
    xs, ys, counts = [], [], np.zeros(len(classes), dtype=np.int64)
    for video, path in zip(videos, stores, strict=True):
        picked = rows[rows["video"] == video]
        if picked.empty:
            continue
        store = open_store(path)
        if store_step(store, str(path)) != int(K):
            raise InputError(
                f"feature store {path} has step {store_step(store, str(path))}, not K={K}"
            )
        first = int(store.attrs["first_frame"])
        for row in picked.itertuples(index=False):
            centre = centre_frame(int(row.onset), int(row.offset), int(row.apex)) - first
            idx = sample_indices(centre, int(K), int(store.shape[0]))
            xs.append(read_samples(store, idx))
            ys.append(np.full(len(idx), index[row.emotion], dtype=np.int64))
            counts[index[row.emotion]] += 1
    if not xs:
        raise InputError(
            f"no expression of type {'/'.join(types)} with a class in {list(classes)} in the "
            f"{len(videos)} training videos (held out: {held_out}): the annotations carry no "
            "emotion labels of these classes; recognition needs them"
        )
    return TrainingSet(np.concatenate(xs), np.concatenate(ys), counts)


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Loss weight per class, n / (k * n_c) over the k classes present (0 for an absent one),
    so that every present class weighs the same in the loss."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes).astype(np.float64)
    present = counts > 0
    weights = np.zeros(n_classes, dtype=np.float64)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights.astype(np.float32)


def train_recognizer(
    data: TrainingSet,
    net_cfg: RecognitionNetConfig,
    settings: dict,
    seed: int,
    device,
    log: Log,
    progress: Progress | None = None,
) -> tuple[RecognitionNet, list[float]]:
    """Fixed-epoch training (Adamax, class-weighted cross-entropy, seeded shuffles).

    settings: config.yaml `recognition` (epochs, batch_size, lr, betas, weight_decay).
    """
    device = device if isinstance(device, torch.device) else pick_device(device)
    seed_everything(seed)
    n_classes = len(net_cfg.classes)
    weights = class_weights(data.y, n_classes)
    absent = [c for c, w in zip(net_cfg.classes, weights, strict=True) if w == 0]
    per_class = ", ".join(
        f"{c} {int(n)} ({int((data.y == i).sum())} samples)"
        for i, (c, n) in enumerate(zip(net_cfg.classes, data.expressions, strict=True))
    )
    log(
        f"recognition: {len(data.y)} samples of {int(data.expressions.sum())} expressions: "
        + per_class
    )
    if absent:
        log(f"WARNING: no training expression of class(es) {', '.join(absent)}: never predicted")
    model = RecognitionNet(net_cfg).to(device)
    x = torch.from_numpy(np.ascontiguousarray(data.x, dtype=np.float32))
    y = torch.from_numpy(data.y)
    batch = int(settings["batch_size"])
    gen = torch.Generator().manual_seed(int(seed))

    def epoch_batches(_epoch: int):
        order = torch.randperm(len(y), generator=gen)
        for lo in range(0, len(order), batch):
            chosen = order[lo : lo + batch]
            yield x[chosen], y[chosen]

    loss = nn.CrossEntropyLoss(weight=torch.from_numpy(weights).to(device))
    losses = _fit(
        model,
        epoch_batches,
        _optimizer(model, settings),
        loss,
        int(settings["epochs"]),
        device,
        log,
        progress,
    )
    return model.eval(), losses
