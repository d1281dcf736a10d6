"""Our own sheet format: videos.csv + ground_truth.csv, per-video fps, relative sources."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from tsmsnet.datasets import discover_videos, read_dataset
from tsmsnet.datasets.sheet import read_sheet
from tsmsnet.datasets.table import ANNOTATION_COLUMNS, VIDEO_COLUMNS
from tsmsnet.errors import AnnotationError, FramesError, InputError


def write_frames(folder: Path, n: int, first: int = 1) -> Path:
    ok, png = cv2.imencode(".png", np.zeros((6, 8), np.uint8))
    folder.mkdir(parents=True)
    for i in range(first, first + n):
        png.tofile(folder / f"frame_{i:05d}.png")
    return folder


def make_dataset(root: Path, elsewhere: Path) -> Path:
    """Two videos: one folder relative to the root, one absolute path outside it."""
    write_frames(root / "frames" / "a", 12)
    outside = write_frames(elsewhere / "b b", 10, first=0)
    (root / "videos.csv").write_text(
        f"video,subject,source,fps\n006_a,006,frames/a,25\np2_b, p2 ,{outside},29.97\n"
    )
    (root / "ground_truth.csv").write_text(
        "video,type,onset,apex,offset\n006_a,macro,2,5,11\np2_b,Micro,0.5,3,4\n006_a,micro,7,8,9\n"
    )
    return root


@pytest.fixture
def dcfg(cfg):
    return cfg["datasets"]["sheet"]


@pytest.fixture
def root(tmp_path):
    return make_dataset(tmp_path / "data", tmp_path / "other")


def read(root, dcfg):
    messages = []
    videos, annotations = read_sheet(root, dcfg, messages.append)
    return videos, annotations, "\n".join(messages)


def test_reads_sheet(root, dcfg):
    videos, annotations, log = read(root, dcfg)
    assert list(videos.columns) == VIDEO_COLUMNS
    assert list(annotations.columns) == ANNOTATION_COLUMNS
    assert list(videos["video"]) == ["006_a", "p2_b"]
    assert list(videos["subject"]) == ["006", "p2"]  # text kept: leading zeros, no spaces
    assert videos["fps"].tolist() == [25, 29.97]
    assert videos["first_frame"].tolist() == [1, 0] and videos["n_frames"].tolist() == [12, 10]
    assert videos["source"][0] == str(root / "frames" / "a")
    assert Path(videos["source"][1]).name == "b b"
    got = annotations[["video", "type", "onset", "apex", "offset", "fps"]].values.tolist()
    assert got == [
        ["006_a", "macro", 2, 5, 11, 25],
        ["006_a", "micro", 7, 8, 9, 25],
        ["p2_b", "micro", 0, 3, 4, 29.97],
    ]
    assert "1 line(s) with fractional frames rounded down: [3]" in log


def test_discover_reads_only_videos_csv(root, dcfg):
    (root / "ground_truth.csv").unlink()
    found = discover_videos("sheet", root, dcfg)
    assert list(found.columns) == ["subject", "video", "source"]
    assert list(found["video"]) == ["006_a", "p2_b"]
    with pytest.raises(AnnotationError, match="ground-truth sheet .*ground_truth.csv not found"):
        read(root, dcfg)


def test_missing_column(root, dcfg):
    (root / "videos.csv").write_text("video,subject,path,fps\nx,1,frames/a,25\n")
    with pytest.raises(AnnotationError, match="videos.csv lacks column\\(s\\) source"):
        read_dataset("sheet", root, dcfg)


@pytest.mark.parametrize(
    "text, message",
    [
        ("006_a,006,frames/a,fast\n", "videos.csv, line 2: fps 'fast' is not a positive number"),
        ("006_a,006,frames/a,0\n", "videos.csv, line 2: fps '0'"),
        ("006_a,,frames/a,25\n", "videos.csv, line 2: empty subject"),
    ],
)
def test_bad_video_lines(root, dcfg, text, message):
    (root / "videos.csv").write_text("video,subject,source,fps\n" + text)
    with pytest.raises(AnnotationError, match=message):
        read(root, dcfg)


@pytest.mark.parametrize(
    "line, message",
    [
        ("006_a,macro,x,5,9", "ground_truth.csv, line 3: onset 'x' is not a frame number"),
        ("006_a,blink,1,5,9", "ground_truth.csv, line 3: type 'blink'"),
        ("zzz,macro,1,5,9", "ground_truth.csv, line 3 .*names video zzz, which has no frames"),
        ("p2_b,macro,1,5,10", "ground_truth.csv, line 3 .*offset 10 is beyond the last frame 9"),
    ],
)
def test_bad_truth_lines(root, dcfg, line, message):
    (root / "ground_truth.csv").write_text(
        f"video,type,onset,apex,offset\n006_a,macro,2,5,11\n{line}\n"
    )
    with pytest.raises(AnnotationError, match=message):
        read(root, dcfg)


def test_missing_frames_folder(root, dcfg):
    (root / "videos.csv").write_text("video,subject,source,fps\nv,1,frames/none,25\n")
    assert len(discover_videos("sheet", root, dcfg)) == 1  # discovery lists, never checks
    with pytest.raises(FramesError, match="frames/none does not exist"):
        read(root, dcfg)


def test_duplicate_ids(root, dcfg):
    (root / "videos.csv").write_text("video,subject,source,fps\nv,1,frames/a,25\nv,1,frames/a,25\n")
    with pytest.raises(InputError, match="same video id"):
        discover_videos("sheet", root, dcfg)
