"""Run a step from a Snakemake script: log file, thread limits, one-line errors."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import Any

from tsmsnet.errors import TsmsnetError, one_line
from tsmsnet.runlog import stream_log

# OSError numbers that mean "the disk (or the user's quota) is full".
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
# What some writers say instead of raising OSError(ENOSPC) (torch.save: "file write failed").
_DISK_FULL_TEXTS = ("no space left on device", "disk quota exceeded", "file write failed")
# Free bytes below which an otherwise unexplained write failure is blamed on the disk.
_NEARLY_FULL = 1 << 20
# How many outputs a message names before "(+N more)".
_SHOW = 3
# Read by OpenMP and the BLAS libraries when their thread pools start (torch's among them).
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_threads(threads: int, torch_too: bool = True) -> None:
    """OpenCV and torch use exactly the threads the rule declared.

    torch_too=False leaves torch unimported (about 1 s of CPU in each of the many jobs that
    never use it); a torch imported later starts with the environment's thread count (torch
    caps that at the core count; steps that need more set it themselves, as tvl1_torch does).
    """
    import cv2

    n = max(1, int(threads))
    cv2.setNumThreads(n)
    for name in THREAD_ENV:
        os.environ[name] = str(n)
    if torch_too or "torch" in sys.modules:
        import torch

        torch.set_num_threads(n)


def uses_torch(smk: Any) -> bool:
    """Rules that run torch declare the gpu resource (docs/architecture.md), the others do not."""
    return bool(getattr(smk, "resources", {}).get("gpu", 0))


def _chain(err: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from or while handling (no cycles)."""
    seen: list[BaseException] = []
    while err is not None and all(err is not s for s in seen):
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def is_disk_full(err: BaseException) -> bool:
    """OSError ENOSPC/EDQUOT anywhere in the chain, or a writer's words for it."""
    for e in _chain(err):
        if isinstance(e, OSError) and e.errno in DISK_FULL:
            return True
        if any(text in str(e).lower() for text in _DISK_FULL_TEXTS):
            return True
    return False


def _output_disk_full(smk: Any) -> bool:
    """Whether the file system of the first output has (almost) no space left."""
    outs = [str(o) for o in getattr(smk, "output", [])]
    if not outs:
        return False
    folder = os.path.dirname(os.path.abspath(outs[0]))
    while folder and not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):
        return False
    return stat.f_bavail * stat.f_frsize < _NEARLY_FULL


def _outputs(smk: Any) -> str:
    outs = [str(o) for o in getattr(smk, "output", [])]
    if not outs:
        return "its outputs"
    shown = ", ".join(outs[:_SHOW])
    return shown + (f" (+{len(outs) - _SHOW} more)" if len(outs) > _SHOW else "")


def failure_message(err: BaseException, smk: Any) -> str | None:
    """What the user should read for a failure they can act on; None for a real bug."""
    if isinstance(err, TsmsnetError):
        return one_line(err)
    if is_disk_full(err) or _output_disk_full(smk):
        full = next(
            (e for e in _chain(err) if isinstance(e, OSError) and e.filename is not None), None
        )
        where = f" at {full.filename}" if full is not None else ""
        return (
            f"disk full (no space left on device{where}) while writing {_outputs(smk)}: "
            "free space and rerun (nothing partial is kept)"
        )
    if type(err).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError
        return (
            "GPU out of memory: lower apex_net.batch_size / interval_net.batch_size or run "
            "with --config device=cpu, then rerun"
        )
    if isinstance(err, MemoryError):
        return (
            f"out of memory while writing {_outputs(smk)}: give the job more memory, or lower "
            "preprocess.chunk_frames (preprocessing) or the batch_size (training), and rerun"
        )
    return None


def _safe_log(log: Callable[[str], None], message: str) -> None:
    """Log unless the log file itself cannot be written (a full disk)."""
    try:
        log(message)
    except OSError:
        pass


def run_step(smk: Any, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call `fn(**kwargs, log=...)` with stderr sent to the rule's log file.

    A failure the user can act on (a TsmsnetError: bad input; a full disk; no memory) ends
    the job with one line on the console and in the log, without a traceback wall. Other
    exceptions (bugs) keep their traceback.
    """
    log_path = smk.log[0] if len(smk.log) else os.devnull
    fh = open(log_path, "w", encoding="utf-8")
    console = sys.stderr
    sys.stderr = fh
    log = stream_log(fh)
    try:
        limit_threads(smk.threads, torch_too=uses_torch(smk))
        return fn(**kwargs, log=log)
    except Exception as err:
        message = failure_message(err, smk)
        if message is None:
            raise
        _safe_log(log, f"ERROR: {message}")
        console.write(f"tsmsnet: {smk.rule}: {message}\n")
        console.flush()
        raise SystemExit(1) from None
    finally:
        sys.stderr = console
        try:
            fh.close()
        except OSError:  # flushing the log onto a full disk
            pass
