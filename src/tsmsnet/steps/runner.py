"""Run a step from a Snakemake script: log file, thread limits, one-line errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from tsmsnet.errors import TsmsnetError
from tsmsnet.runlog import stream_log


def limit_threads(threads: int) -> None:
    """OpenCV and torch use exactly the threads the rule declared."""
    import cv2

    cv2.setNumThreads(int(threads))
    try:
        import torch

        torch.set_num_threads(int(threads))
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass


def run_step(smk: Any, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call `fn(**kwargs, log=...)` with stderr sent to the rule's log file.

    A TsmsnetError (bad input the user can fix) ends the job with its message on the
    console and in the log, without a traceback wall.
    """
    log_path = smk.log[0] if len(smk.log) else os.devnull
    with open(log_path, "w", encoding="utf-8") as fh:
        console = sys.stderr
        sys.stderr = fh
        log = stream_log(fh)
        limit_threads(smk.threads)
        try:
            return fn(**kwargs, log=log)
        except TsmsnetError as err:
            log(f"ERROR: {err}")
            console.write(f"tsmsnet: {smk.rule}: {err}\n")
            raise SystemExit(1) from None
        finally:
            sys.stderr = console
