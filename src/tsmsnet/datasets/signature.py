"""The fingerprint of a video's frames: names, sizes and mtimes of its images (nothing read).

It is the freshness proof of external frames (a `params` of the per-video rules): a frame
changed, added or removed changes it. That takes a stat per frame, about a million for
SAMM-LV and seconds of CPU that no folder listing can replace, so `Signatures` computes them
in a second process while the caller does other work (Snakemake building the DAG). This file
uses the standard library only: that process runs it as a script and starts in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
_IMAGE_EXTENSIONS = frozenset(s[1:] for s in IMAGE_SUFFIXES)


def is_image(name: str) -> bool:
    """Image file by suffix (any case); hidden files (macOS ._img1.jpg copies) are not frames.

    What tsmsnet.datasets.frames's name regex matches, in string methods (tested equal).
    """
    dot = name.rfind(".")
    return dot > 0 and name[0] != "." and name[dot + 1 :].lower() in _IMAGE_EXTENSIONS


def _stats(folder: Path, names: list[str]) -> Iterator[os.stat_result]:
    """os.stat of each name in `folder`, relative to the open folder where the OS allows: a
    one-name lookup instead of the whole path's, about a quarter less time per frame."""
    if os.stat not in os.supports_dir_fd:
        yield from (os.stat(folder / name) for name in names)
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        yield from (os.stat(name, dir_fd=fd) for name in names)
    finally:
        os.close(fd)


def frames_signature(path: str | Path) -> str:
    """sha1 of `name\\0size\\0mtime_ns\\n` per image of a frames folder in name order (of the
    file itself for a video file); "missing" when `path` does not exist."""
    path = Path(path)
    digest = hashlib.sha1()
    if path.is_dir():
        names = sorted(name for name in os.listdir(path) if is_image(name))
        # One update of the joined lines hashes the same bytes as one update per line, faster.
        lines = [
            f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
            for name, stat in zip(names, _stats(path, names), strict=True)
        ]
        digest.update("".join(lines).encode())
    elif path.is_file():
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    else:
        return "missing"
    return digest.hexdigest()


def _stop(process: subprocess.Popen) -> None:
    """Ends a second process nobody collected (the caller failed or exited first)."""
    if process.poll() is None:
        process.kill()
        process.wait()


class Signatures:
    """frames_signature of each of `paths`, computed in a second process from now on.

    `result()` collects them. If that process cannot start or fails, `result()` computes them
    here instead, raising what frames_signature raises: the digests are the same either way.
    """

    def __init__(self, paths: Iterable[str | Path]):
        self.paths = sorted({str(p) for p in paths})
        self._result: dict[str, str] | None = None
        self._process: subprocess.Popen | None = None
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", __file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return
        self._process = process
        weakref.finalize(self, _stop, process)
        try:
            process.stdin.write(json.dumps(self.paths).encode("ascii"))
            process.stdin.close()
        except OSError:  # it died at start: computed here
            self._process = None

    def _collected(self) -> list[str] | None:
        """The second process's digests, or None if it failed."""
        process, self._process = self._process, None
        if process is None:
            return None
        out = process.stdout.read()
        process.stdout.close()
        if process.wait() != 0:
            return None
        try:
            digests = json.loads(out)
        except ValueError:
            return None
        return digests if isinstance(digests, list) and len(digests) == len(self.paths) else None

    def result(self) -> dict[str, str]:
        """{path: frames_signature(path)} for every path given."""
        if self._result is None:
            digests = self._collected()
            if digests is None:
                digests = [frames_signature(p) for p in self.paths]
            self._result = dict(zip(self.paths, digests, strict=True))
        return self._result


if __name__ == "__main__":
    # The second process: paths as a JSON list on stdin, their digests in order on stdout.
    sources = json.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(json.dumps([frames_signature(p) for p in sources]).encode("ascii"))
