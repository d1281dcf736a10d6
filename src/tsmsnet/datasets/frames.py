"""Frames of one video, from a folder of numbered images or a video file, read as grey frames.

Frame numbers are the integer at the end of each image's stem (img1.jpg, img_1.jpg,
006_1_0001.jpg), because releases name frames differently and glob order is not numeric
order. Store index i is frame number `first_frame + i`; frames must be consecutive, except
where the caller fills gaps (`fill_gaps`, CAS(ME)^3, whose releases drop frames): a missing
number then reads the nearest earlier frame, so the store index stays frame number - first.
A video file has no names, so its frames are numbered from `VIDEO_FIRST_FRAME` (1, as the
CAS(ME)^2 and SAMM frame files are).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from tsmsnet.datasets.signature import IMAGE_SUFFIXES
from tsmsnet.errors import FramesError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")
# Frame number of the first frame of a video file (annotations of image releases start at 1).
VIDEO_FIRST_FRAME = 1
# How many offending names or missing numbers an error message lists before "...".
_SHOW = 5
# Image names (not hidden; signature.is_image) and the trailing frame number of each stem, for
# a whole folder listing joined by NUL (no file name holds one) in one regex pass: the DAG
# build lists about a million SAMM-LV frames. Matches give the number ("" when none), or
# (name, number).
_SUFFIX_GROUP = "|".join(re.escape(s[1:]) for s in IMAGE_SUFFIXES)
_NAME_IN_LISTING = rf"(?<![^\0])(?!\.)[^\0]*?(\d*)\.(?:{_SUFFIX_GROUP})(?=\0|\Z)"
_FRAME_NUMBERS = re.compile(_NAME_IN_LISTING, re.IGNORECASE)
_IMAGE_NAMES = re.compile(f"({_NAME_IN_LISTING})", re.IGNORECASE)


def _listing(names: list[str], more: str = "") -> str:
    shown = ", ".join(names[:_SHOW])
    return shown + (f", ... ({len(names)} in total{more})" if len(names) > _SHOW else "")


def _image_names(listing: list[str]) -> tuple[list[str], list[str]]:
    """(image names, their trailing frame numbers as text, "" when none) of a folder listing,
    in listing order: one regex pass, where a Python call per name cost more than listing."""
    joined = "\0".join(listing)
    numbers = _FRAME_NUMBERS.findall(joined)
    if len(numbers) == len(listing):  # every entry an image: the usual frames folder
        return listing, numbers
    found = _IMAGE_NAMES.findall(joined)
    return [name for name, _ in found], [number for _, number in found]


def _numbered_frames(folder: Path, fill_gaps: bool = False) -> tuple[int, list[str], list[int]]:
    """(first frame number, image names in frame order, missing frame numbers) of `folder`,
    checked consecutive; with `fill_gaps` a missing number takes the nearest earlier frame's
    name instead of raising.

    Names only (no stat, no Path per frame): the DAG build lists about a million SAMM-LV
    frames. A folder that happens to carry an image suffix fails later, when it is decoded.
    """
    if not folder.is_dir():
        raise FramesError(f"frames folder {folder} does not exist: check data_root and the layout")
    images, digits = _image_names(os.listdir(folder))
    if not images:
        raise FramesError(
            f"frames folder {folder} holds no frames ({', '.join(IMAGE_SUFFIXES)}): "
            "extract the video's frames into it or remove the folder"
        )
    if not all(digits):
        unnumbered = sorted(name for name, d in zip(images, digits, strict=True) if not d)
        raise FramesError(
            f"frames folder {folder}: file names without a trailing frame number: "
            f"{_listing(unnumbered)}; rename them like img1.jpg or remove them"
        )
    numbers = list(map(int, digits))
    first, last = min(numbers), max(numbers)
    by_number = dict(zip(numbers, images, strict=True))
    if len(by_number) == len(numbers) == last - first + 1:
        return first, list(map(by_number.__getitem__, range(first, last + 1))), []
    numbered = sorted(zip(numbers, images, strict=True))
    pairs = zip(numbered, numbered[1:], strict=False)
    dups = sorted({f"{a[1]} and {b[1]} (frame {a[0]})" for a, b in pairs if a[0] == b[0]})
    if dups:
        raise FramesError(
            f"frames folder {folder}: several files share a frame number: {_listing(dups)}; "
            "keep one naming scheme and remove the other copies"
        )
    present = set(numbers)
    if fill_gaps:
        return first, *_filled(by_number, first, last)
    missing = [str(n) for n in range(first, last + 1) if n not in present]
    raise FramesError(
        f"frames folder {folder}: frame numbers {first}..{last} have gaps, missing "
        f"{_listing(missing)}; frames must be consecutive: re-extract the missing frames"
    )


def _filled(by_number: dict[int, str], first: int, last: int) -> tuple[list[str], list[int]]:
    """Names of frames first..last, a missing number taking the nearest earlier frame's name,
    and the missing numbers (`first` and `last` are present)."""
    names, missing = [], []
    for number in range(first, last + 1):
        name = by_number.get(number)
        if name is None:
            missing.append(number)
            name = names[-1]
        names.append(name)
    return names, missing


def list_frames(folder: str | Path) -> list[Path]:
    """Image files of `folder` in frame-number order (raises FramesError if not clean)."""
    folder = Path(folder)
    return [folder / name for name in _numbered_frames(folder)[1]]


def decode_grey(path: Path, frame: int) -> np.ndarray:
    """Decode one image file to uint8 grey; np.fromfile copes with non-ASCII paths."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise FramesError(f"frame {frame} ({path}) cannot be read ({exc}): re-extract it") from exc
    if data.size == 0:
        raise FramesError(f"frame {frame} ({path}) is an empty file: re-extract or remove it")
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FramesError(
            f"frame {frame} ({path}) is not a readable image (corrupt?): re-extract or remove it"
        )
    return image


def _grey(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


class FrameSource:
    """A frames folder or a video file, read frame by frame (nothing held beyond one frame).

    fill_gaps: a folder's missing frame numbers read the nearest earlier frame (their numbers
    in `missing`) instead of raising FramesError; for datasets whose frame drops are normal.
    """

    def __init__(self, path: str | Path, fill_gaps: bool = False):
        self.path = Path(path)
        self._names: list[str] | None = None
        self._capture: cv2.VideoCapture | None = None
        self._next_index = 0  # index the open capture returns on its next read
        self.missing: list[int] = []  # frame numbers filled from the frame before
        if self.path.is_dir():
            self.first_frame, self._names, self.missing = _numbered_frames(self.path, fill_gaps)
            self.n_frames = len(self._names)
        elif self.path.is_file() and self.path.suffix.lower() in VIDEO_SUFFIXES:
            capture = self._open()
            # Container frame counts can be off by a few; iter_grey reports a short video.
            self.n_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            capture.release()
            self.first_frame = VIDEO_FIRST_FRAME
            if self.n_frames <= 0:
                raise FramesError(f"video {self.path} reports no frames: re-encode it")
        elif self.path.exists():
            raise FramesError(
                f"{self.path} is neither a frames folder nor a video file "
                f"({', '.join(VIDEO_SUFFIXES)}): point the source at one of those"
            )
        else:
            raise FramesError(f"frames source {self.path} does not exist: check the path")

    def __repr__(self) -> str:
        return f"FrameSource({str(self.path)!r}, n_frames={self.n_frames})"

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the video file kept open by read() (no-op for folders)."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _file(self, index: int) -> Path:
        """Path of the image of store index `index` (folders only)."""
        return self.path / self._names[index]

    @property
    def is_video(self) -> bool:
        return self._names is None

    @cached_property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the first frame; every other frame must match it."""
        first = self._decode_first()
        return int(first.shape[0]), int(first.shape[1])

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise FramesError(f"video {self.path} cannot be opened by OpenCV: re-encode it")
        return capture

    def _decode_first(self) -> np.ndarray:
        if self._names is not None:
            return decode_grey(self._file(0), self.first_frame)
        capture = self._open()
        try:
            ok, image = capture.read()
        finally:
            capture.release()
        if not ok:
            raise FramesError(f"video {self.path}: first frame cannot be decoded: re-encode it")
        return _grey(image)

    def _check(self, image: np.ndarray, index: int) -> np.ndarray:
        if image.shape[:2] != self.shape:
            where = self._file(index) if self._names is not None else self.path
            raise FramesError(
                f"frame {self.first_frame + index} ({where}) is {image.shape[1]}x{image.shape[0]} "
                f"but the first frame is {self.shape[1]}x{self.shape[0]} (W x H): "
                "all frames of a video must have one size; re-extract it"
            )
        return image

    def _index_range(self, start: int, stop: int | None) -> range:
        stop = self.n_frames if stop is None else stop
        if not 0 <= start <= stop <= self.n_frames:
            raise IndexError(f"frames [{start}, {stop}) outside 0..{self.n_frames} of {self.path}")
        return range(start, stop)

    def _video_frame(self, capture: cv2.VideoCapture, index: int) -> np.ndarray:
        ok, image = capture.read()
        if not ok:
            raise FramesError(
                f"video {self.path}: frame {self.first_frame + index} (of {self.n_frames} "
                "announced) cannot be decoded: the file is truncated or corrupt; re-encode it"
            )
        return self._check(_grey(image), index)

    def read(self, i: int) -> np.ndarray:
        """uint8 grey (H, W) of store index i (frame number first_frame + i)."""
        self._index_range(i, i + 1)
        if self._names is not None:
            return self._check(decode_grey(self._file(i), self.first_frame + i), i)
        if self._capture is None:
            self._capture = self._open()
            self._next_index = 0
        if self._next_index != i:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, i)
        image = self._video_frame(self._capture, i)
        self._next_index = i + 1
        return image

    def iter_grey(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Grey frames start..stop-1 in order, decoded one at a time."""
        indices = self._index_range(start, stop)
        if self._names is not None:
            for i in indices:
                yield self._check(decode_grey(self._file(i), self.first_frame + i), i)
            return
        capture = self._open()
        try:
            if start:
                capture.set(cv2.CAP_PROP_POS_FRAMES, start)
            for i in indices:
                yield self._video_frame(capture, i)
        finally:
            capture.release()
