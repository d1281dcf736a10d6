"""Write aside, then rename: a killed job never leaves a complete-looking small output."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` then rename tmp onto `path` (same folder, so the rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_csv(df: pd.DataFrame, path: str | Path) -> None:
    """A DataFrame as CSV without the index, written aside then renamed."""
    atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))


def atomic_text(text: str, path: str | Path) -> None:
    """A text file written aside then renamed."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
