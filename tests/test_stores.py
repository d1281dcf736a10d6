"""zarr stores: aligned faces and stage-1/stage-2 flow features, streamed and crash-safe."""

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.fixtures.video import face_points_128
from tsmsnet.datasets.frames import FrameSource
from tsmsnet.errors import InputError
from tsmsnet.preprocess.align import crop_resize
from tsmsnet.preprocess.features import flow_to_sample
from tsmsnet.preprocess.flow import make_flow
from tsmsnet.preprocess.landmarks import Landmarks
from tsmsnet.preprocess.stores import (
    geometry_from_faces,
    open_store,
    write_faces,
    write_flow_features,
)

N = 30
SIZE = 128
BOX = (20, 10, 140, 110)  # 120 x 100 in a 160 x 120 frame
FIRST = 7


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """N textured frames drifting by 0.3 px per frame, numbered from FIRST."""
    folder = tmp_path_factory.mktemp("data") / "sub01_vid01"
    folder.mkdir()
    rng = np.random.default_rng(0)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (120, 160)).astype(np.float32), (0, 0), 2.0)
    tex = cv2.normalize(tex, None, 0, 255, cv2.NORM_MINMAX)
    for i in range(N):
        m = np.float32([[1, 0, 0.3 * i], [0, 1, 0]])
        frame = cv2.warpAffine(tex, m, (160, 120), borderMode=cv2.BORDER_REFLECT)
        cv2.imwrite(str(folder / f"img{FIRST + i}.png"), frame.astype(np.uint8))
    return folder


@pytest.fixture(scope="module")
def landmarks() -> Landmarks:
    scale = np.array([(BOX[2] - BOX[0]) / SIZE, (BOX[3] - BOX[1]) / SIZE])
    points = face_points_128() * scale + np.array(BOX[:2])
    return Landmarks(frame_index=0, box=BOX, points=points, frame_shape=(120, 160))


@pytest.fixture(scope="module")
def faces(video, landmarks, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faces") / "faces.zarr"
    write_faces(FrameSource(video), landmarks, out, SIZE, chunk=8, interpolation="linear")
    return out


@pytest.fixture(scope="module")
def geom(faces, cfg_features):
    return geometry_from_faces(open_store(faces), cfg_features)


@pytest.fixture(scope="module")
def cfg_features():
    from tsmsnet.config import DEFAULT_CONFIG, load_config

    return load_config(DEFAULT_CONFIG)["preprocess"]["features"]


class Recorder:
    """A DIS flow that records which frame pairs it was asked for (by their content)."""

    def __init__(self, faces_arr, fail_after=None, watch=None):
        self.flow = make_flow("dis", {"preset": "ultrafast"}, threads=1)
        self.method, self.params = self.flow.method, self.flow.params
        self.index = {faces_arr[i].tobytes(): i for i in range(faces_arr.shape[0])}
        self.pairs, self.fail_after, self.watch = [], fail_after, watch

    def __call__(self, prev, nxt):
        if self.watch is not None:
            assert not self.watch.exists(), "out must not exist while it is written"
        if self.fail_after is not None and len(self.pairs) >= self.fail_after:
            raise RuntimeError("simulated crash")
        self.pairs.append((self.index[prev.tobytes()], self.index[nxt.tobytes()]))
        return self.flow(prev, nxt)


def test_faces_store(faces, video):
    arr = open_store(faces)
    assert arr.shape == (N, SIZE, SIZE) and arr.dtype == np.uint8
    assert arr.chunks == (8, SIZE, SIZE)
    attrs = arr.attrs
    assert attrs["first_frame"] == FIRST and attrs["n_frames"] == N
    assert attrs["box"] == list(BOX) and attrs["source_shape"] == [120, 160]
    assert attrs["landmark_frame"] == 0
    np.testing.assert_allclose(attrs["landmarks"], face_points_128(), atol=1e-9)
    frame = FrameSource(video).read(13)
    np.testing.assert_array_equal(arr[13], crop_resize(frame, BOX, SIZE, "linear"))
    assert attrs["interpolation"] == "linear"
    assert not list(faces.parent.glob(".*.tmp-*"))


def test_faces_progress_log(video, landmarks, tmp_path):
    lines = []
    write_faces(
        FrameSource(video), landmarks, tmp_path / "f.zarr", SIZE, 8, "linear", log=lines.append
    )
    assert 2 <= len(lines) <= 11 and f"{N}/{N} (100%)" in lines[-1]


def test_stage1_store(faces, geom, tmp_path):
    arr_faces = open_store(faces)
    rec = Recorder(arr_faces, watch=tmp_path / "s1.zarr")
    k = 5
    write_flow_features(faces, tmp_path / "s1.zarr", k, "skip", rec, geom, 42, 21, 8, "float16")
    arr = open_store(tmp_path / "s1.zarr")
    assert arr.shape == (N - k, 3, 42, 42) and arr.dtype == np.float16
    assert arr.chunks == (8, 3, 42, 42)
    assert rec.pairs == [(t, t + k) for t in range(N - k)]
    attrs = arr.attrs
    assert (attrs["kind"], attrs["step"], attrs["first_frame"]) == ("skip", k, FIRST)
    assert attrs["n_frames"] == N and attrs["flow"] == "dis"
    for t in (0, 9, N - k - 1):
        want = flow_to_sample(rec.flow(arr_faces[t], arr_faces[t + k]), geom, 42, 21)
        np.testing.assert_allclose(arr[t].astype(np.float32), want, atol=2e-3, rtol=2e-3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s1.zarr"]


def test_stage2_store(faces, geom, tmp_path):
    arr_faces = open_store(faces)
    rec = Recorder(arr_faces)
    write_flow_features(faces, tmp_path / "s2.zarr", 4, "stride", rec, geom, 42, 21, 4, "float16")
    arr = open_store(tmp_path / "s2.zarr")
    assert arr.shape == (N // 4 - 1, 3, 42, 42) and arr.dtype == np.float16
    assert rec.pairs == [(4 * j, 4 * j + 4) for j in range(N // 4 - 1)]
    assert arr.attrs["kind"] == "stride" and arr.attrs["step"] == 4
    want = flow_to_sample(rec.flow(arr_faces[20], arr_faces[24]), geom, 42, 21)
    np.testing.assert_allclose(arr[5].astype(np.float32), want, atol=2e-3, rtol=2e-3)


def test_failure_midway_leaves_nothing(faces, geom, tmp_path):
    out = tmp_path / "s1.zarr"
    out.mkdir()  # a stale store from an earlier run
    (tmp_path / ".s1.zarr.tmp-999999999").mkdir()  # left by a killed job
    rec = Recorder(open_store(faces), fail_after=12)
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_flow_features(faces, out, 5, "skip", rec, geom, 42, 21, 8, "float16")
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_told_by_lock_not_pid(faces, geom, tmp_path):
    """A killed writer's pid may be reused (or a zombie) before the rerun: its temp store is
    removed because nobody holds its lock; a live writer's locked temp is left alone."""
    out = tmp_path / "s1.zarr"
    reused = tmp_path / f".s1.zarr.tmp-{os.getppid()}"  # a live pid that writes nothing
    reused.mkdir()
    live = tmp_path / ".s1.zarr.tmp-1"
    live.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(live)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        write_flow_features(
            faces, out, 5, "skip", Recorder(open_store(faces)), geom, 42, 21, 8, "float16"
        )
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["s1.zarr", live.name])
    finally:
        holder.kill()
        holder.wait()
    write_flow_features(
        faces, out, 5, "skip", Recorder(open_store(faces)), geom, 42, 21, 8, "float16"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s1.zarr"]


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def test_too_short_video(video, landmarks, geom, tmp_path):
    class Short:
        path, n_frames, first_frame, shape = "short_vid", 5, 1, (120, 160)

        def iter_grey(self, start=0, stop=None):
            yield from (FrameSource(video).read(i) for i in range(start, stop or 5))

    write_faces(Short(), landmarks, tmp_path / "f.zarr", SIZE, 8, "linear")
    rec = Recorder(open_store(tmp_path / "f.zarr"))
    with pytest.raises(InputError, match="short_vid.*at least 6 frames"):
        write_flow_features(
            tmp_path / "f.zarr", tmp_path / "s.zarr", 5, "skip", rec, geom, 42, 21, 8, "float16"
        )
    assert not (tmp_path / "s.zarr").exists()


def test_open_store_errors(tmp_path):
    with pytest.raises(InputError, match="missing"):
        open_store(tmp_path / "nope.zarr")
    bad = tmp_path / "bad.zarr"
    bad.mkdir()
    (bad / "zarr.json").write_text("{not json")
    with pytest.raises(InputError, match="delete it and rerun"):
        open_store(bad)
