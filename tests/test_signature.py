"""Frames fingerprints: what changes them, their pinned bytes, and the second process that
computes them while the DAG builds (same digests, same errors)."""

import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

from tests.test_frames import write_frames
from tsmsnet.datasets.signature import Signatures, frames_signature
from tsmsnet.pipeline import GENERATED, frames_fingerprints


def test_signature_changes_with_frames(tmp_path):
    folder = write_frames(tmp_path / "v", ["img1.jpg", "img2.jpg"])
    (folder / "notes.txt").write_text("x")
    first = frames_signature(folder)
    assert first == frames_signature(folder) and len(first) == 40
    (folder / "notes.txt").write_text("not a frame: ignored")
    assert frames_signature(folder) == first
    stat = (folder / "img2.jpg").stat()
    os.utime(folder / "img2.jpg", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    touched = frames_signature(folder)
    assert touched != first
    write_frames(folder, ["img1.jpg", "img2.jpg", "img3.jpg"][2:])
    added = frames_signature(folder)
    assert added != touched
    (folder / "img1.jpg").unlink()
    assert frames_signature(folder) not in (first, touched, added)
    assert frames_signature(tmp_path / "absent") == "missing"


def test_signature_bytes_are_pinned(tmp_path):
    """The digest's input is fixed (sorted image names, size, mtime in ns): a change would
    rerun every finished video of every user's dataset."""
    folder = write_frames(tmp_path / "v", ["img2.jpg", "img10.JPG", "img1.png"])
    (folder / "._img1.png").write_bytes(b"")
    (folder / "notes.txt").write_text("x")
    lines = []
    for i, name in enumerate(sorted(["img2.jpg", "img10.JPG", "img1.png"])):
        os.utime(folder / name, ns=(0, 1_700_000_000_123_456_789 + i))
        size = (folder / name).stat().st_size
        lines.append(f"{name}\0{size}\0{1_700_000_000_123_456_789 + i}\n")
    assert frames_signature(folder) == hashlib.sha1("".join(lines).encode()).hexdigest()


def test_signature_of_video_file(tmp_path):
    path = tmp_path / "a.mp4"
    path.write_bytes(b"1234")
    first = frames_signature(path)
    path.write_bytes(b"12345")
    assert frames_signature(path) != first


def test_signature_of_a_long_video_sees_one_touched_frame(tmp_path):
    """7,000 frames (a SAMM-LV-length folder): rewriting one frame in place changes the digest.
    Its speed is measured by benchmarks/run.py --only dag, not here."""
    folder = tmp_path / "long"
    folder.mkdir()
    for i in range(1, 7001):
        (folder / f"006_1_{i:04d}.jpg").touch()
    before = frames_signature(folder)
    frame = folder / "006_1_3500.jpg"
    stat = frame.stat()
    os.utime(frame, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert frames_signature(folder) != before


def sources(tmp_path: Path) -> list[str]:
    """Two frames folders (one with a non-ASCII name), a video file and a missing path."""
    video = tmp_path / "clip.avi"
    video.write_bytes(b"1234")
    folder = write_frames(tmp_path / "v1", ["img1.jpg", "img2.jpg"])
    (folder / "notes.txt").write_text("not a frame")
    return [
        str(folder),
        str(write_frames(tmp_path / "vidéo 顔", ["f_0001.png", "f_0002.png"])),
        str(video),
        str(tmp_path / "absent"),
    ]


def test_second_process_gives_the_digests_computed_here(tmp_path):
    paths = sources(tmp_path)
    signatures = Signatures(paths)
    signatures._reader.join()  # the second process has written all of them
    assert len(signatures._given) == len(paths)
    assert signatures.result() == {p: frames_signature(p) for p in paths}
    assert signatures.result()[paths[3]] == "missing"


def test_second_process_sees_a_changed_frame(tmp_path):
    paths = sources(tmp_path)
    first = Signatures(paths)
    first._reader.join()
    frame = Path(paths[1]) / "f_0002.png"
    stat = frame.stat()
    os.utime(frame, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))
    second = Signatures(paths)
    second._reader.join()
    before, after = first.result(), second.result()
    assert [p for p in paths if before[p] != after[p]] == [paths[1]]


def test_what_the_second_process_has_not_given_is_computed_here(tmp_path, monkeypatch):
    """A second process still busy (here: one that never answers) is stopped, not awaited."""
    paths = sources(tmp_path)
    silent = tmp_path / "silent-python"
    silent.write_text("#!/bin/sh\nexec sleep 60\n")
    silent.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(silent))
    signatures = Signatures(paths)
    start = time.perf_counter()
    assert signatures.result() == {p: frames_signature(p) for p in paths}
    assert signatures._process.returncode is not None and time.perf_counter() - start < 30


def test_without_a_second_process_they_are_computed_here(tmp_path, monkeypatch):
    paths = sources(tmp_path)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    signatures = Signatures(paths)
    assert signatures._process is None
    assert signatures.result() == {p: frames_signature(p) for p in paths}


def test_a_failing_second_process_raises_what_computing_here_raises(tmp_path):
    folders = [write_frames(tmp_path / name, ["img1.jpg"]) for name in ("a", "b", "c")]
    (folders[1] / "img2.jpg").symlink_to(tmp_path / "gone.jpg")  # listed, but stat fails
    with pytest.raises(FileNotFoundError):
        frames_signature(folders[1])
    signatures = Signatures(folders)
    signatures._reader.join()  # it gave the first folder's digest, then failed on the second
    assert signatures._given == [frames_signature(folders[0])]
    with pytest.raises(FileNotFoundError):
        signatures.result()


def test_fingerprints_by_source(tmp_path, cfg):
    paths = sources(tmp_path)
    cfg["dataset"] = "casme2"
    for background in (True, False):
        fingerprint = frames_fingerprints(cfg, paths, background=background)
        assert [fingerprint(p) for p in paths] == [frames_signature(p) for p in paths]
    cfg["dataset"] = "synthetic"
    assert frames_fingerprints(cfg, paths, background=True)(paths[0]) == GENERATED


def test_digests_shared_between_both_processes_are_the_same(tmp_path):
    folders = [write_frames(tmp_path / f"v{i}", ["img1.jpg", "img2.jpg"]) for i in range(30)]
    assert Signatures(folders).result() == {str(f): frames_signature(f) for f in folders}
