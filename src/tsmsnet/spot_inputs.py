"""The videos of a `tsmsnet spot` INPUT, found from names only (nothing decoded).

A folder holding images is one video (a frames folder), as is a video file. Any other folder
is a set of videos: every folder below it that holds images and every video file below it, at
any depth -- the MEGC unseen test sets (`CAS_data/<subject>/<clip>/*.jpg`, SAMM's
`<video>/*.jpg` such as `001_2/`) or a folder of .mp4/.avi files.

Ids: a video's id (the `video` column of intervals.csv, `vid` of the spotting submission) is
its path below INPUT with `/` and without a file's suffix (`spNO.1/a`, `001_2`, `clip`); a
single input's is its own name (a file's stem). Its subject (the STR submission's `subject`) is
the id's first part when nested (`spNO.1`), else the name up to its first `_` (SAMM's `001_2`
-> `001`), else the whole name; the STR submission's `video` is the rest (`a`, `001_2`).

Hidden entries and files that are neither images nor videos (a readme, a workbook) are
ignored, as is the output folder (--out) where it lies inside INPUT; a folder holding images
beside video files or subfolders, a folder below INPUT holding neither, or two videos with one
id is an error naming them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tsmsnet.datasets.frames import VIDEO_SUFFIXES
from tsmsnet.datasets.signature import IMAGE_SUFFIXES, is_image
from tsmsnet.errors import InputError

_SHOW = 5  # names an error lists before "..."


@dataclass(frozen=True)
class InputVideo:
    """One video to spot: where its frames are and what the output files call it."""

    source: Path
    video: str  # id: intervals.csv's video, the spotting submission's vid
    subject: str  # the STR submission's subject
    clip: str  # the STR submission's video


def is_video_file(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def subject_and_clip(video: str) -> tuple[str, str]:
    """(subject, clip) of an id: `spNO.1/a` -> (spNO.1, a); `001_2` -> (001, 001_2)."""
    head, sep, rest = video.partition("/")
    if sep:
        return head, rest
    return video.split("_", 1)[0] or video, video


def _input_video(source: Path, video: str) -> InputVideo:
    subject, clip = subject_and_clip(video)
    return InputVideo(source=source, video=video, subject=subject, clip=clip)


def _entries(folder: Path, skip: Path | None) -> tuple[bool, list[Path], list[Path]]:
    """(holds images, video files, subfolders) of a folder, hidden entries and `skip` (a
    resolved folder) left out."""
    images, files, folders = False, [], []
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if skip is None or Path(entry.path).resolve() != skip:
                    folders.append(Path(entry.path))
            elif is_image(entry.name):
                images = True
            elif is_video_file(Path(entry.name)):
                files.append(Path(entry.path))
    return images, sorted(files), sorted(folders)


def _listing(paths: list[Path]) -> str:
    shown = ", ".join(p.name for p in paths[:_SHOW])
    return shown + (f", ... ({len(paths)} in all)" if len(paths) > _SHOW else "")


def _walk(folder: Path, root: Path, skip: Path | None, out: list[InputVideo]) -> None:
    images, files, folders = _entries(folder, skip)
    if images and (files or folders):
        raise InputError(
            f"{folder} holds frame images beside "
            f"{'video files' if files else 'subfolders'} ({_listing(files + folders)}): a "
            "folder is either one video's frames or a folder of videos; move the frames into "
            "their own folder or the rest out"
        )
    if images:
        out.append(_input_video(folder, folder.relative_to(root).as_posix()))
        return
    if not files and not folders:
        raise InputError(
            f"{folder} holds no frames ({', '.join(IMAGE_SUFFIXES)}), video files "
            f"({', '.join(VIDEO_SUFFIXES)}) or folders of them: extract the video's frames "
            "into it or remove it"
        )
    for path in files:
        out.append(_input_video(path, path.relative_to(root).with_suffix("").as_posix()))
    for sub in folders:
        _walk(sub, root, skip, out)


def find_videos(root: str | Path, out: str | Path | None = None) -> tuple[list[InputVideo], bool]:
    """(the videos of INPUT in id order, whether INPUT is a folder of videos); `out`, the
    output folder, is no video even where it lies inside INPUT."""
    root = Path(root)
    if root.is_file() or not root.exists():
        return [_input_video(root, root.stem)], False  # FrameSource says what is wrong
    skip = None if out is None else Path(out).resolve()
    images, files, folders = _entries(root, skip)
    if images and not files and not folders:
        return [_input_video(root, root.name)], False
    if not images and not files and not folders:
        raise InputError(
            f"{root} holds no frames, video files ({', '.join(VIDEO_SUFFIXES)}) or folders of "
            "them: point INPUT at a frames folder, a video file or a folder of videos"
        )
    videos: list[InputVideo] = []
    _walk(root, root, skip, videos)
    by_id: dict[str, list[Path]] = {}
    for v in videos:
        by_id.setdefault(v.video, []).append(v.source)
    clashes = {k: s for k, s in by_id.items() if len(s) > 1}
    if clashes:
        video, sources = min(clashes.items())
        raise InputError(
            f"{', '.join(map(str, sources))} would all be video {video}: rename all but one "
            "(a video's id is its path below INPUT without the file's suffix)"
        )
    return sorted(videos, key=lambda v: v.video), True
