"""Run trained networks over feature stores: stage-1 score curves, stage-2 proposal labels."""

from __future__ import annotations

import numpy as np
import torch

from tsmsnet.models.layers import minmax_channels


@torch.no_grad()
def apex_scores(model: torch.nn.Module, store, device: torch.device, block: int) -> np.ndarray:
    """Stage-1 score of every sample of a store, read `block` samples at a time."""
    model.eval()
    n = int(store.shape[0])
    out = np.empty(n, dtype=np.float32)
    for lo in range(0, n, block):
        x = torch.from_numpy(np.asarray(store[lo : lo + block], dtype=np.float32)).to(device)
        out[lo : lo + len(x)] = model(x).float().cpu().numpy().reshape(-1)
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


@torch.no_grad()
def classify_proposals(
    model: torch.nn.Module,
    store,
    proposals: np.ndarray,
    L: int,
    stride: int,
    device: torch.device,
    block: int = 1024,
) -> np.ndarray:
    """Stage-2 label (0/1) of each proposal [onset, offset, score] in store-index frames.

    Windows are built and classified about `block` clips at a time (memory stays bounded
    however many proposals a long video gives).
    """
    model.eval()
    labels = np.zeros(len(proposals), dtype=np.int64)
    per_pass = max(1, int(block) // int(L))
    for lo in range(0, len(proposals), per_pass):
        chunk = proposals[lo : lo + per_pass]
        windows = np.stack([proposal_window(store, int(p[0]), L, stride) for p in chunk])
        logits = model(torch.from_numpy(windows).to(device))
        labels[lo : lo + len(chunk)] = logits.argmax(dim=1).cpu().numpy()
    return labels
