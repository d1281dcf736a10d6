"""Videos made from frames folders, for tests that spot a video file as a user would."""

from __future__ import annotations

from pathlib import Path

import cv2

from tsmsnet.datasets.frames import list_frames


def write_mp4(frames_dir: Path, out: Path, fps: float) -> int:
    """frames_dir's frames as an mp4v video at `fps`; returns the frame count."""
    files = list_frames(frames_dir)
    first = cv2.imread(str(files[0]))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, first.shape[1::-1])
    assert writer.isOpened()
    for path in files:
        writer.write(cv2.imread(str(path)))
    writer.release()
    return len(files)
