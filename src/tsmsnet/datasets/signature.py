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
import threading
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
    """Ends the second process if it still runs (its digests are no longer needed)."""
    if process.poll() is None:
        process.kill()
    process.wait()


def _is_digest(text: str) -> bool:
    return text == "missing" or (len(text) == 40 and all(c in "0123456789abcdef" for c in text))


class Signatures:
    """frames_signature of each of `paths`, computed in a second process from now on.

    That process works from the first path on and writes each digest as it has it.
    `result()` takes those and computes the others here from the last path back, so a caller
    that needs them before that process is done shares the work left instead of waiting for
    it. Paths it did not give (it could not start, or stopped on an error) are computed here,
    raising what frames_signature raises: the digests are the same either way.
    """

    def __init__(self, paths: Iterable[str | Path]):
        self.paths = sorted({str(p) for p in paths})
        self._result: dict[str, str] | None = None
        self._given: list[str] = []  # the second process's digests, in path order
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", __file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return
        weakref.finalize(self, _stop, process)
        try:
            process.stdin.write(json.dumps(self.paths).encode("ascii"))
            process.stdin.close()
        except OSError:  # it died at start: all computed here
            _stop(process)
            process.stdout.close()
            return
        self._process = process
        self._reader = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream) -> None:
        """The second process's digests, one a line, kept as they come (a thread: the read
        waits without holding the GIL)."""
        with stream:
            for line in stream:
                digest = line.decode("ascii", "replace").rstrip("\n")
                if not (line.endswith(b"\n") and _is_digest(digest)):
                    return
                self._given.append(digest)

    def result(self) -> dict[str, str]:
        """{path: frames_signature(path)} for every path given."""
        if self._result is None:
            here: dict[str, str] = {}
            try:
                for path in reversed(self.paths):
                    if len(self._given) + len(here) >= len(self.paths):
                        break
                    here[path] = frames_signature(path)
            finally:
                if self._process is not None:
                    _stop(self._process)
                    self._reader.join()
            given = self._given[: len(self.paths) - len(here)]
            self._result = {**dict(zip(self.paths, given, strict=False)), **here}
        return self._result


if __name__ == "__main__":
    # The second process: paths as a JSON list on stdin, their digests in order on stdout,
    # each written as soon as it is computed.
    for source in json.loads(sys.stdin.buffer.read()):
        sys.stdout.buffer.write(f"{frames_signature(source)}\n".encode("ascii"))
        sys.stdout.buffer.flush()
