"""Crash-safe writes, the one implementation every writer uses: write aside, lock, rename.

A file or folder is written under a hidden temp name beside its destination
(`.<name>.tmp-<pid>`), held under an exclusive flock while it is written, and renamed into
place only when complete. A killed job therefore never leaves an output that looks finished:
what it leaves is a temp that nobody holds (the kernel drops a dead process's lock, SIGKILL
included), which the next write of that destination removes, whatever became of the pid.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import pandas as pd

TEMP_MARK = ".tmp-"


def temp_path(path: str | Path) -> Path:
    """Where this process writes `path` before renaming it: hidden, so no reader lists it."""
    path = Path(path)
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock(fd: int, block: bool) -> bool:
    """flock `fd` exclusively: True when taken, False when another process holds it.

    A held lock means a live writer, whatever became of its pid (reused, or a zombie that
    nobody reaps). OSError where the file system has no flock.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def writer_gone(tmp: Path) -> bool:
    """Whether the process that made the temp `tmp` no longer writes it."""
    pid = tmp.name.rsplit("-", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            return _lock(fd, block=False)
        finally:
            os.close(fd)
    except FileNotFoundError:
        return False  # removed meanwhile
    except OSError:  # no flock here: the pid is the only evidence
        return not _pid_alive(int(pid))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(FileNotFoundError):
            path.unlink()


def remove_stale_temps(path: str | Path) -> None:
    """Delete the temps of `path` that killed writers left (no process holds their lock)."""
    path = Path(path)
    if not path.parent.is_dir():
        return
    for tmp in path.parent.glob(f".{path.name}{TEMP_MARK}*"):
        if writer_gone(tmp):
            _remove(tmp)


@contextmanager
def _held(tmp: Path) -> Iterator[None]:
    """Hold the exclusive lock on `tmp` (a file or folder that exists) while the body runs."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        with suppress(OSError):  # no flock on this file system: pids decide staleness
            _lock(fd, block=True)
        yield
    finally:
        os.close(fd)


@contextmanager
def written_aside(paths: Sequence[str | Path], folder: bool = False) -> Iterator[list[Path]]:
    """Yield temp paths for `paths`; when the body returns, rename every one into place.

    All are written before any is renamed, so a job that dies while writing leaves none of
    them replaced (and a dying rename leaves only complete files). On failure the temps go.
    `folder=True` yields empty temp folders (stores, frames folders) instead of file paths.
    """
    finals = [Path(p) for p in paths]
    temps = [temp_path(p) for p in finals]
    with ExitStack() as stack:
        for final, tmp in zip(finals, temps, strict=True):
            final.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(final)
            _remove(tmp)
            if folder:
                tmp.mkdir()
            else:
                tmp.touch()
            stack.enter_context(_held(tmp))
        try:
            yield temps
        except BaseException:
            for tmp in temps:
                _remove(tmp)
            raise
        for final, tmp in zip(finals, temps, strict=True):
            if final.is_dir() and not final.is_symlink():
                shutil.rmtree(final)
            os.replace(tmp, final)


@contextmanager
def atomic_dir(out: str | Path) -> Iterator[Path]:
    """A folder (a zarr store, a frames folder) written aside and renamed when complete.

    A stale `out` is removed before writing starts, so it never outlives a failed rerun.
    """
    out = Path(out)
    if out.exists():
        _remove(out)
    with written_aside([out], folder=True) as (tmp,):
        yield tmp


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)`, then rename tmp onto `path`; returns `path`."""
    with written_aside([path]) as (tmp,):
        write(tmp)
    return Path(path)


def atomic_csv(df: pd.DataFrame, path: str | Path, **to_csv) -> Path:
    """A DataFrame as CSV without the index (keywords go to `to_csv`)."""
    return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, **to_csv))


def atomic_text(text: str, path: str | Path) -> Path:
    """A text file."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_json(data: object, path: str | Path, indent: int = 2) -> Path:
    """A JSON file with a final newline."""
    return atomic_text(json.dumps(data, indent=indent) + "\n", path)
