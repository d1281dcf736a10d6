"""Timestamped log lines and progress for long jobs (rules log to files, the CLI to a bar)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

Log = Callable[[str], None]


def quiet(_: str) -> None:
    """A Log that drops every line (library calls that nobody watches)."""
    return None


def stream_log(stream: TextIO | None = None) -> Log:
    """A log callable writing timestamped, flushed lines to a stream (stderr by default)."""
    out = stream if stream is not None else sys.stderr

    def log(message: str) -> None:
        out.write(f"{time.strftime('%H:%M:%S')} {message}\n")
        out.flush()

    return log


class Progress:
    """Reports `label: done/total (pct)` every `every` fraction of the work, then at the end."""

    def __init__(self, total: int, log: Log, label: str, every: float = 0.1):
        self.total = max(int(total), 0)
        self.log = log
        self.label = label
        self.step = max(1, int(self.total * every))
        self.done = 0
        self.next_report = self.step
        self.start = time.perf_counter()

    def update(self, n: int = 1) -> None:
        """Count `n` more units and report when a reporting step is crossed."""
        self.to(self.done + n)

    def to(self, done: int) -> None:
        """Set the units done so far and report when a reporting step is crossed."""
        self.done = done
        if self.done >= self.next_report or self.done >= self.total:
            elapsed = time.perf_counter() - self.start
            pct = 100.0 * self.done / self.total if self.total else 100.0
            self.log(f"{self.label}: {self.done}/{self.total} ({pct:.0f}%) {elapsed:.1f}s")
            while self.next_report <= self.done:
                self.next_report += self.step
