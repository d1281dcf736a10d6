"""Frame folders and video files: numeric order, clean sequences, grey decoding."""

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsmsnet.datasets.frames import VIDEO_FIRST_FRAME, FrameSource, _image_names, list_frames
from tsmsnet.datasets.signature import IMAGE_SUFFIXES, frames_signature, is_image
from tsmsnet.errors import FramesError


def write_image(path: Path, image: np.ndarray) -> None:
    """imencode + tofile: works for any path, like the reader's fromfile + imdecode."""
    ok, data = cv2.imencode(path.suffix, image)
    assert ok
    data.tofile(path)


def write_frames(folder: Path, names: list[str], size=(8, 8)) -> Path:
    """Lossless PNG-or-JPEG frames whose grey value encodes their position (10, 20, ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        write_image(folder / name, np.full(size, 10 * (i + 1), np.uint8))
    return folder


def test_numeric_order_not_glob_order(tmp_path):
    names = [f"img{i}.png" for i in (1, 10, 2, 3, 4, 5, 6, 7, 8, 9)]
    folder = write_frames(tmp_path / "v", names)
    (folder / "Thumbs.db").write_bytes(b"x")
    (folder / "meta.json").write_text("{}")
    (folder / "._img1.png").write_bytes(b"")  # macOS resource fork copy, not a frame
    assert [p.name for p in list_frames(folder)] == [f"img{i}.png" for i in range(1, 11)]


@pytest.mark.parametrize(
    "names, first",
    [
        (["img_1.jpg", "img_2.jpg", "img_3.jpg"], 1),
        (["006_1_0001.jpg", "006_1_0002.jpg", "006_1_0003.jpg"], 1),
        (["frame07.JPG", "frame08.JPEG", "frame09.bmp"], 7),
    ],
)
def test_trailing_integer_naming_schemes(tmp_path, names, first):
    folder = write_frames(tmp_path / "v", names)
    source = FrameSource(folder)
    assert [p.name for p in list_frames(folder)] == names
    assert (source.first_frame, source.n_frames, source.shape) == (first, 3, (8, 8))


def test_duplicate_numbers_name_both_files(tmp_path):
    folder = write_frames(tmp_path / "v", ["img1.jpg", "img_1.jpg", "img2.jpg"])
    with pytest.raises(FramesError, match="img1.jpg and img_1.jpg") as err:
        list_frames(folder)
    assert str(folder) in str(err.value)


def test_gaps_list_the_missing_numbers(tmp_path):
    folder = write_frames(tmp_path / "v", ["img1.jpg", "img2.jpg", "img5.jpg", "img6.jpg"])
    with pytest.raises(FramesError, match=r"missing 3, 4;.*re-extract"):
        list_frames(folder)


def test_many_gaps_are_abbreviated(tmp_path):
    folder = write_frames(tmp_path / "v", ["img1.jpg", "img100.jpg"])
    with pytest.raises(FramesError, match=r"missing 2, 3, 4, 5, 6, \.\.\. \(98 in total"):
        list_frames(folder)


def test_name_without_number(tmp_path):
    folder = write_frames(tmp_path / "v", ["img1.jpg", "cover.jpg"])
    with pytest.raises(FramesError, match="cover.jpg"):
        list_frames(folder)


def test_no_frames_names_folder(tmp_path):
    folder = tmp_path / "empty video"
    folder.mkdir()
    (folder / "Thumbs.db").write_bytes(b"x")
    with pytest.raises(FramesError, match="holds no frames") as err:
        FrameSource(folder)
    assert str(folder) in str(err.value)


def test_missing_path(tmp_path):
    with pytest.raises(FramesError, match="does not exist"):
        FrameSource(tmp_path / "nope")
    with pytest.raises(FramesError, match="neither a frames folder nor a video"):
        (tmp_path / "notes.txt").write_text("x")
        FrameSource(tmp_path / "notes.txt")


def test_read_and_stream_grey(tmp_path):
    folder = write_frames(tmp_path / "v", [f"img{i}.png" for i in range(3, 8)])
    source = FrameSource(folder)
    assert (source.first_frame, source.n_frames) == (3, 5)
    frame = source.read(2)
    assert frame.dtype == np.uint8 and frame.shape == (8, 8) and frame[0, 0] == 30
    streamed = [int(f[0, 0]) for f in source.iter_grey(1, 4)]
    assert streamed == [20, 30, 40]
    assert len(list(source.iter_grey())) == 5
    with pytest.raises(IndexError):
        source.read(5)


def test_colour_frames_become_grey(tmp_path):
    folder = tmp_path / "v"
    folder.mkdir()
    for i in (1, 2):
        write_image(folder / f"img{i}.png", np.full((6, 9, 3), (255, 0, 0), np.uint8))
    source = FrameSource(folder)
    assert source.shape == (6, 9)
    frame = source.read(1)
    assert frame.shape == (6, 9) and frame[0, 0] == round(0.114 * 255)


def test_non_ascii_path_with_spaces(tmp_path):
    folder = write_frames(tmp_path / "données vidéo" / "s15 顔", ["img1.png", "img2.png"])
    source = FrameSource(folder)
    assert source.read(1)[0, 0] == 20
    assert frames_signature(folder) != "missing"


@pytest.mark.parametrize("content, why", [(b"", "empty file"), (b"not a jpeg", "not a readable")])
def test_corrupt_frame_names_file_and_number(tmp_path, content, why):
    folder = write_frames(tmp_path / "v", ["img1.jpg", "img2.jpg", "img3.jpg"])
    (folder / "img3.jpg").write_bytes(content)
    source = FrameSource(folder)
    assert source.read(0).shape == (8, 8)
    with pytest.raises(FramesError, match=f"frame 3 .*img3.jpg.*{why}.*re-extract or remove"):
        list(source.iter_grey())


def test_truncated_jpeg_is_caught(tmp_path):
    """OpenCV 5 refuses a cut-off JPEG (older libjpeg builds decoded it as grey garbage)."""
    folder = write_frames(tmp_path / "v", ["img1.jpg"], size=(64, 64))
    noise = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    data = cv2.imencode(".jpg", noise)[1].tobytes()  # mostly scan data: a cut keeps the header
    (folder / "img2.jpg").write_bytes(data + bytes(16))  # zero padding after the end: fine
    assert FrameSource(folder).read(1).shape == (64, 64)
    (folder / "img2.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(FramesError, match="frame 2 .*img2.jpg.*not a readable image"):
        FrameSource(folder).read(1)


def test_frame_of_other_size_names_both_sizes(tmp_path):
    folder = write_frames(tmp_path / "v", ["img1.png", "img2.png"])
    write_image(folder / "img3.png", np.zeros((8, 10), np.uint8))
    with pytest.raises(FramesError, match=r"frame 3 .*img3.png.*10x8.*8x8"):
        FrameSource(folder).read(2)


def test_video_file(tmp_path):
    path = tmp_path / "clip é.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (16, 12))
    assert writer.isOpened()
    for i in range(5):
        writer.write(np.full((12, 16, 3), 40 * i, np.uint8))
    writer.release()
    with FrameSource(path) as source:
        assert (source.first_frame, source.n_frames, source.shape) == (
            VIDEO_FIRST_FRAME,
            5,
            (12, 16),
        )
        assert abs(int(source.read(3)[5, 5]) - 120) <= 4
        assert abs(int(source.read(1)[5, 5]) - 40) <= 4  # seek backwards
        values = [int(f[5, 5]) for f in source.iter_grey(2)]
    assert len(values) == 3
    assert all(abs(v - 40 * i) <= 4 for v, i in zip(values, (2, 3, 4), strict=True))


# What an image name and its frame number are, name by name (hidden names are not frames).
SUFFIXES = "|".join(s[1:] for s in IMAGE_SUFFIXES)
IMAGE_NAME = re.compile(rf"(?!\.)(.*?)(\d*)\.(?:{SUFFIXES})", re.IGNORECASE | re.DOTALL)
NAMES = st.builds(
    lambda stem, suffix: stem + suffix,
    st.text(st.sampled_from("ab_.0123456789 \n\u0663\u00b2\u0130\u212aJPGEjpeg"), max_size=8),
    st.sampled_from(["", ".jpg", ".JPG", ".Jpeg", ".png", ".bmp", ".jpe", ".jpgx", ".", ".tif"]),
)


@given(st.lists(NAMES, max_size=12, unique=True))
def test_one_pass_over_a_listing_is_the_name_regex_per_name(listing):
    matches = [(name, IMAGE_NAME.fullmatch(name)) for name in listing]
    expected = [(name, m.group(2)) for name, m in matches if m is not None]
    images, numbers = _image_names(listing)
    assert list(zip(images, numbers, strict=True)) == expected


def test_other_files_beside_the_frames_are_left_out(tmp_path):
    names = ["img3.jpg", "Thumbs.db", "img1.JPG", "._img2.jpg", "img2.png", "img.jpg.txt"]
    assert _image_names(names) == (["img3.jpg", "img1.JPG", "img2.png"], ["3", "1", "2"])
    assert _image_names(["a7.jpg", "b8.png"]) == (["a7.jpg", "b8.png"], ["7", "8"])
    assert _image_names([]) == ([], [])


@given(NAMES)
def test_the_fingerprint_covers_the_files_the_listing_counts(name):
    assert is_image(name) == (IMAGE_NAME.fullmatch(name) is not None)
    assert is_image(name) == (_image_names([name])[0] == [name])
