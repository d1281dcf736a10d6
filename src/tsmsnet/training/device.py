"""Where torch runs, with how many threads and which CPU kernels: chosen once per job from
config.yaml."""

from __future__ import annotations

import logging
import os
import platform
import warnings
from collections.abc import Mapping, MutableMapping

import torch

from tsmsnet.errors import ConfigError
from tsmsnet.runlog import Log

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


def _runs_avx2() -> bool:
    """x86-64 with AVX2: ATen trusts ATEN_CPU_CAPABILITY=avx2 unchecked (no AVX2: SIGILL)."""
    machine = platform.machine().lower()
    return machine in ("x86_64", "amd64") and bool(torch.cpu._is_avx2_supported())


def pin_cpu_kernels(
    pins: Mapping[str, str], log: Log, environ: MutableMapping[str, str] = os.environ
) -> dict:
    """Set `pins` (config `cpu_kernels`, via config.cpu_kernel_pins) before torch's first CPU
    operation, so this job runs the kernels every x86-64 CPU with AVX2 runs alike.

    oneDNN, ATen and MKL each read their variable at their first operation, not at import,
    so a job pins here, first thing. Returns what the checkpoint records: the pins in effect
    ({} when none were asked for, on a CPU without AVX2, or too late: torch had already
    chosen its kernels, e.g. in a test process) and ATen's kernel level. Pins override the
    environment: a checkpoint's bits must not depend on the shell it was trained from.
    """
    applied: dict[str, str] = {}
    if pins and not _runs_avx2():
        log(
            f"WARNING: {platform.machine()} CPU without AVX2: CPU kernels not pinned "
            "(config cpu_kernels); results may differ in the last bits from other CPUs'"
        )
    elif pins:
        environ.update({str(k): str(v) for k, v in pins.items()})
        applied = dict(pins)
    aten = torch.backends.cpu.get_cpu_capability()
    wanted = applied.get("ATEN_CPU_CAPABILITY")
    if wanted is not None and aten.lower() != wanted.lower():
        log(
            f"WARNING: torch had chosen its CPU kernels ({aten}) before they could be pinned "
            "(config cpu_kernels): this process's results depend on its CPU"
        )
        applied = {}
    return {"pinned": applied, "aten_capability": aten}
