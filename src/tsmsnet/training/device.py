"""Where torch runs and with how many threads: chosen once per job from config.yaml."""

from __future__ import annotations

import logging
import warnings

import torch

from tsmsnet.errors import ConfigError

logger = logging.getLogger(__name__)


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when torch sees a GPU, else CPU; 'cuda' without a GPU warns and uses CPU.

    A missing GPU must never crash a pipeline that can still finish on the CPU.
    """
    if isinstance(name, torch.device):
        name = name.type
    name = str(name).lower()
    has_cuda = torch.cuda.is_available()
    if name == "auto":
        return torch.device("cuda" if has_cuda else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda":
        if has_cuda:
            return torch.device("cuda")
        msg = "device 'cuda' was requested but torch sees no CUDA GPU; running on the CPU"
        logger.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
        return torch.device("cpu")
    raise ConfigError(f"unknown device '{name}'; use auto, cpu or cuda")


def set_threads(n: int) -> None:
    """Use exactly the n threads the job was granted (inter-op too, where still allowed)."""
    n = max(1, int(n))
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:
        # Inter-op threads can only be set once, before any parallel work; keep what is set.
        pass
