"""Seeded training loops of both stages, checkpoints that rebuild their model, loss tables.

Training sees only the items it is given (the fold's training videos); the epoch count is
fixed by the config, so no test data ever influences a model.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from tsmsnet.atomic import atomic_write
from tsmsnet.errors import ConfigError, InputError
from tsmsnet.models.apex import ApexNet, ApexNetConfig
from tsmsnet.models.interval import IntervalNet, IntervalNetConfig
from tsmsnet.recognition.model import RecognitionNet, RecognitionNetConfig
from tsmsnet.runlog import Log
from tsmsnet.training.data import (
    ApexSamples,
    BlockShuffleBatchSampler,
    WindowSamples,
    open_store,
)
from tsmsnet.training.device import pick_device
from tsmsnet.training.samples import (
    apex_labels,
    balanced_indices,
    window_labels,
    window_starts,
)
from tsmsnet.training.seeding import seed_everything

# A training item: (feature store path or array, [(onset, offset), ...] in store-index space).
TrainItem = tuple[object, Sequence[tuple[int, int]]]
Progress = Callable[[int, int], None]

MODELS = {
    "ApexNet": (ApexNet, ApexNetConfig),
    "IntervalNet": (IntervalNet, IntervalNetConfig),
    "RecognitionNet": (RecognitionNet, RecognitionNetConfig),
}
# net_cfg fields that checkpoints written before they existed lack: what those models were
# built and trained with (raw stage-1 inputs, the Xavier init).
LEGACY_NET_CFG = {
    "ApexNet": {"input_scaling": "raw", "init": "xavier"},
    "IntervalNet": {"init": "xavier"},
    "RecognitionNet": {},
}


def _device(device) -> torch.device:
    return device if isinstance(device, torch.device) else pick_device(device)


def _optimizer(model: nn.Module, train_cfg: dict) -> torch.optim.Optimizer:
    return torch.optim.Adamax(
        model.parameters(),
        lr=float(train_cfg["lr"]),
        betas=tuple(float(b) for b in train_cfg["betas"]),
        weight_decay=float(train_cfg["weight_decay"]),
    )


def _check_step(items: Sequence[TrainItem], step: int, what: str) -> None:
    """Stores record the frame step they were built with; refuse a mismatch with the config."""
    for source, _ in items:
        stored = open_store(source).attrs.get("step")
        if stored is not None and int(stored) != int(step):
            raise ConfigError(
                f"feature store {source} was built with step {stored}, but {what} is {step}; "
                "rebuild the features or fix the config"
            )


def _fit(
    model: nn.Module,
    epoch_batches: Callable[[int], Iterable],
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    epochs: int,
    device: torch.device,
    log: Log,
    progress: Progress | None,
    micro_batch: int | None = None,
) -> list[float]:
    """Fixed-length training; returns the per-epoch mean loss (weighted by batch size).

    micro_batch: samples per forward/backward pass; a larger batch is split into passes whose
    gradients add up to the batch's mean-loss gradient (one optimiser step per batch), so peak
    memory follows the pass, not the batch. None: the whole batch in one pass. A batch's x is
    a tensor or anything sliced into one (data.WindowBatch reads each pass on demand).
    """
    losses = []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        total = torch.zeros((), device=device, dtype=torch.float64)
        seen = 0
        for x, y in epoch_batches(epoch):
            optimizer.zero_grad(set_to_none=True)
            step = len(y) if micro_batch is None else max(1, int(micro_batch))
            for lo in range(0, len(y), step):
                xs = x[lo : lo + step].to(device, non_blocking=True)
                ys = y[lo : lo + step].to(device, non_blocking=True)
                loss = loss_fn(model(xs), ys) * (len(ys) / len(y))
                loss.backward()
                total += loss.detach().double() * len(y)
            optimizer.step()
            seen += len(y)
        mean = float(total) / max(seen, 1)
        losses.append(mean)
        secs = time.perf_counter() - t0
        log(f"epoch {epoch}/{epochs} loss {mean:.6f} ({seen} samples, {secs:.1f}s)")
        if progress is not None:
            progress(epoch, epochs)
    return losses


def _as_batched(batch):
    """The datasets' __getitems__ already returns the batch tensors; nothing to collate."""
    return batch


def _loader(dataset, sampler, device: torch.device) -> DataLoader:
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=0,
        collate_fn=_as_batched,
        pin_memory=device.type == "cuda",
    )


def train_apex(
    train_items: Sequence[TrainItem],
    net_cfg: ApexNetConfig,
    train_cfg: dict,
    seed: int,
    device,
    log: Log,
    progress: Progress | None = None,
    *,
    K: int,
    group_batches: int | None = 8,
) -> tuple[ApexNet, list[float]]:
    """Train stage 1 (MSE on overlap targets) on the training videos' stage-1 stores.

    train_cfg: config.yaml `apex_net` (epochs, batch_size, lr, betas, weight_decay, cache_mb:
    the stores' decoded-block cache, which bounds memory for any number of training videos).
    K: the frame skip the stores were built with (checked against their `step` attr).
    group_batches: shuffle groups of this many batches of neighbouring blocks (None: full
    shuffle); bounds memory and keeps reads local. progress(epoch, epochs) after each epoch.
    """
    device = _device(device)
    if not train_items:
        raise InputError("train_apex got no training videos")
    _check_step(train_items, K, "K")
    seed_everything(seed)
    stores = [s for s, _ in train_items]
    lengths = [int(open_store(s).shape[0]) for s in stores]
    labels = [apex_labels(n, K, iv) for n, (_, iv) in zip(lengths, train_items, strict=True)]
    dataset = ApexSamples(stores, labels, cache_mb=float(train_cfg["cache_mb"]))
    if len(dataset) == 0:
        raise InputError("train_apex: the training stores hold no samples")
    n_pos = int(sum(y.sum() for y in labels))
    log(f"stage 1: {len(stores)} videos, {len(dataset)} samples, {n_pos} positive, K={K}")

    model = ApexNet(net_cfg).to(device)
    batch = int(train_cfg["batch_size"])
    gen = torch.Generator().manual_seed(seed)
    group = None if group_batches is None else group_batches * batch
    sampler = BlockShuffleBatchSampler(dataset.blocks(), batch, gen, group)
    loader = _loader(dataset, sampler, device)
    losses = _fit(
        model,
        lambda _epoch: loader,
        _optimizer(model, train_cfg),
        nn.MSELoss(),
        int(train_cfg["epochs"]),
        device,
        log,
        progress,
    )
    return model.eval(), losses


def train_interval(
    train_items: Sequence[TrainItem],
    net_cfg: IntervalNetConfig,
    train_cfg: dict,
    seed: int,
    device,
    log: Log,
    progress: Progress | None = None,
    *,
    clip_stride: int,
    group_batches: int | None = 8,
) -> tuple[IntervalNet, list[float]]:
    """Train stage 2 (cross-entropy) on balanced windows of L clips of the stage-2 stores.

    train_cfg: config.yaml `interval_net` (epochs, batch_size, lr, betas, weight_decay,
    positive_cover, clips_per_pass: at most this many clips go through the per-clip CNN in one
    pass, so memory stays bounded for any L and batch size; cache_mb as in train_apex).
    clip_stride: frames between clips (`preprocess.stage2_stride`, checked against the
    stores' `step` attr). The negatives are re-drawn every epoch from a seeded generator, so
    over the epochs the model sees more of them than one fixed draw would give.
    """
    device = _device(device)
    if not train_items:
        raise InputError("train_interval got no training videos")
    _check_step(train_items, clip_stride, "stage2_stride")
    seed_everything(seed)
    L = net_cfg.L
    cover = float(train_cfg["positive_cover"])
    stores = [s for s, _ in train_items]
    lengths = [int(open_store(s).shape[0]) for s in stores]
    starts = [window_starts(n, L) for n in lengths]
    labels = [
        window_labels(n, L, clip_stride, iv, cover)
        for n, (_, iv) in zip(lengths, train_items, strict=True)
    ]
    dataset = WindowSamples(stores, starts, labels, L, cache_mb=float(train_cfg["cache_mb"]))
    flat = dataset.flat_labels()
    n_pos = int(flat.sum())
    log(f"stage 2: {len(stores)} videos, {len(flat)} windows of {L} clips, {n_pos} positive")
    model = IntervalNet(net_cfg).to(device)
    if n_pos == 0:
        # Short expressions can leave a fold without any window they half-cover (real CAS(ME)^2
        # micros are 9-17 frames, an L=6 window 25). Stage 2 then stays untrained and the
        # spotter keeps every step-1 proposal apart (stage 2 decides fusion, never deletion).
        log(
            f"WARNING: no positive stage-2 training windows: no ground-truth interval covers "
            f"{cover:.0%} of any {L}-clip window in the {len(stores)} training videos; "
            "stage 2 stays untrained and will fuse no proposals in this fold"
        )
        return model.eval(), []
    batch = int(train_cfg["batch_size"])
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    group = None if group_batches is None else group_batches * batch
    windows = dataset.lazy()  # batches read one pass at a time: memory follows the pass

    def epoch_batches(_epoch: int) -> DataLoader:
        chosen = balanced_indices(flat, rng)
        sampler = BlockShuffleBatchSampler(dataset.blocks(chosen), batch, gen, group)
        return _loader(windows, sampler, device)

    losses = _fit(
        model,
        epoch_batches,
        _optimizer(model, train_cfg),
        nn.CrossEntropyLoss(),
        int(train_cfg["epochs"]),
        device,
        log,
        progress,
        micro_batch=windows_per_pass(train_cfg, L),
    )
    return model.eval(), losses


def windows_per_pass(train_cfg: dict, L: int) -> int:
    """Windows of L clips per forward pass under config `interval_net.clips_per_pass`."""
    return max(1, int(train_cfg["clips_per_pass"]) // int(L))


def save_checkpoint(path, model: nn.Module, net_cfg, losses: Sequence[float], record: dict) -> None:
    """Write weights plus everything needed to rebuild and audit the model (atomic rename).

    `record` is what the fold was trained with (tsmsnet.steps.train: fold, spotting config,
    training settings under `train`, seed, fps, preprocessing).
    """
    name = type(model).__name__
    if name not in MODELS:
        raise ConfigError(f"cannot checkpoint a {name}; known: {', '.join(MODELS)}")
    payload = {
        "format": 2,
        "model": name,
        "net_cfg": asdict(net_cfg),
        "losses": [float(v) for v in losses],
        "extra": dict(record),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load_checkpoint(path, device) -> tuple[nn.Module, dict]:
    """Rebuild the stored model on `device` in eval mode; returns (model, payload).

    A checkpoint lacking a later net_cfg field gets the value it was trained with
    (LEGACY_NET_CFG)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist; train the model first")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    name = payload.get("model")
    if name not in MODELS:
        raise InputError(f"checkpoint {path} holds an unknown model '{name}'")
    model_cls, cfg_cls = MODELS[name]
    model = model_cls(cfg_cls(**{**LEGACY_NET_CFG[name], **payload["net_cfg"]}))
    model.load_state_dict(payload["state_dict"])
    return model.to(_device(device)).eval(), payload


def was_trained(payload: dict) -> bool:
    """Whether a checkpoint's network learnt anything: ours record their per-epoch losses
    (none where stage 2 had no positive window to learn from); imported published weights
    (tsmsnet.upstream) were trained elsewhere and record none."""
    from tsmsnet.upstream import SOURCE

    return bool(payload["losses"]) or payload.get("extra", {}).get("source") == SOURCE


def write_losses_csv(path, losses: Sequence[float]) -> None:
    """Per-epoch training loss table: columns epoch (1-based), loss (written aside, renamed)."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["epoch", "loss"])
            for epoch, loss in enumerate(losses, start=1):
                writer.writerow([epoch, repr(float(loss))])

    atomic_write(path, write)
