"""Run trained networks over feature stores: stage-1 score curves, stage-2 proposal labels.

Each function takes the models of one fold or of an ensemble of folds (e.g. every held-out
subject's models of upstream's published weights): stage-1 scores are the folds' mean, stage-2
labels their majority. Every block of the store is read once for all models.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from tsmsnet.models.layers import minmax_channels


@torch.no_grad()
def apex_scores(
    models: Sequence[torch.nn.Module], store, device: torch.device, block: int
) -> np.ndarray:
    """Stage-1 score of every sample of a store, the mean over `models`, read `block` samples
    at a time. One model: its own float32 scores, unchanged (the float64 mean of one value)."""
    if not models:
        raise ValueError("apex_scores needs at least one model")
    for model in models:
        model.eval()
    n = int(store.shape[0])
    out = np.empty(n, dtype=np.float32)
    for lo in range(0, n, block):
        x = torch.from_numpy(np.asarray(store[lo : lo + block], dtype=np.float32)).to(device)
        total = np.zeros(len(x), dtype=np.float64)
        for model in models:
            total += model(x).float().cpu().numpy().reshape(-1)
        out[lo : lo + len(x)] = total / len(models)
    return out


def proposal_window(store, onset: int, L: int, stride: int) -> np.ndarray:
    """L clips starting at the clip of `onset`, zero-padded past the video's end; normalised.

    Clip j spans frames [stride*j, stride*j + stride], so a proposal starting at frame a
    begins at clip a // stride (as upstream). Padding stays 0 after normalisation (no NaN).
    """
    n = int(store.shape[0])
    first = min(max(onset // stride, 0), max(n - 1, 0))
    clips = np.asarray(store[first : first + L], dtype=np.float32)
    window = np.zeros((L, *store.shape[1:]), dtype=np.float32)
    window[: len(clips)] = clips
    return minmax_channels(window)


def majority(votes: np.ndarray) -> np.ndarray:
    """Label 1 where more than half of the voters (rows) say 1; a tie gives 0, so a proposal
    is fused only when most folds agree (stage 2 decides fusion, 0 keeps proposals apart)."""
    votes = np.asarray(votes)
    return (2 * votes.sum(axis=0) > votes.shape[0]).astype(np.int64)


@torch.no_grad()
def classify_proposals(
    models: Sequence[torch.nn.Module],
    store,
    proposals: np.ndarray,
    L: int,
    stride: int,
    device: torch.device,
    block: int = 1024,
) -> np.ndarray:
    """Stage-2 label (0/1) of each proposal [onset, offset, score] in store-index frames: the
    majority of `models`' labels (one model: its own).

    Windows are built and classified about `block` clips at a time (memory stays bounded
    however many proposals a long video gives).
    """
    if not models:
        raise ValueError("classify_proposals needs at least one model")
    for model in models:
        model.eval()
    labels = np.zeros(len(proposals), dtype=np.int64)
    per_pass = max(1, int(block) // int(L))
    for lo in range(0, len(proposals), per_pass):
        chunk = proposals[lo : lo + per_pass]
        windows = torch.from_numpy(
            np.stack([proposal_window(store, int(p[0]), L, stride) for p in chunk])
        ).to(device)
        votes = [model(windows).argmax(dim=1).cpu().numpy() for model in models]
        labels[lo : lo + len(chunk)] = majority(np.stack(votes))
    return labels
