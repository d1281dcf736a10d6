"""Flow feature stores computed by several threads (or a batched flow) equal the sequential ones
byte for byte, and equal the upstream per-pair computation."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import zarr

from benchmarks.fixtures.video import face_points_128
from tsmsnet.config import DEFAULT_CONFIG, load_config
from tsmsnet.preprocess import stores
from tsmsnet.preprocess.features import flow_to_sample
from tsmsnet.preprocess.flow import make_flow
from tsmsnet.preprocess.stores import geometry_from_faces, open_store, write_flow_features

SIZE = 64  # small faces keep TV-L1 quick; the geometry scales with them
N = 15


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    """A faces store of N textured frames drifting and shearing a little, chunked by 4."""
    rng = np.random.default_rng(1)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (SIZE, SIZE)).astype(np.float32), (0, 0), 1.5)
    tex = cv2.normalize(tex, None, 0, 255, cv2.NORM_MINMAX)
    frames = np.stack(
        [
            cv2.warpAffine(
                tex,
                np.float32([[1, 0.004 * i, 0.4 * i], [0, 1, -0.2 * i]]),
                (SIZE, SIZE),
                borderMode=cv2.BORDER_REFLECT,
            )
            for i in range(N)
        ]
    ).astype(np.uint8)
    out = tmp_path_factory.mktemp("faces") / "v.zarr"
    arr = zarr.create_array(
        store=str(out), shape=frames.shape, chunks=(4, SIZE, SIZE), dtype="uint8"
    )
    arr[:] = frames
    arr.attrs.update(
        {
            "first_frame": 1,
            "landmarks": (face_points_128() * SIZE / 128).tolist(),
            "face_size": SIZE,
        }
    )
    arr.attrs["source"] = "v"
    return out


@pytest.fixture(scope="module")
def cfg():
    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="module")
def geom(faces, cfg):
    return geometry_from_faces(open_store(faces), cfg["preprocess"]["features"])


def files(store: Path) -> dict[str, bytes]:
    """Every file of a store by relative path: byte-identical stores give equal dicts."""
    return {str(p.relative_to(store)): p.read_bytes() for p in store.rglob("*") if p.is_file()}


def write(faces, out, step, kind, flow_fn, geom, chunk, threads) -> Path:
    write_flow_features(
        faces, out, step, kind, flow_fn, geom, 42, 21, chunk, "float16", None, threads
    )
    return out


def test_tvl1_threads_byte_identical_to_sequential_and_upstream(faces, geom, cfg, tmp_path):
    params = cfg["preprocess"]["flow"]["tvl1"]
    seq = write(faces, tmp_path / "t1.zarr", 3, "skip", make_flow("tvl1", params, 1), geom, 5, 1)
    par = write(faces, tmp_path / "t2.zarr", 3, "skip", make_flow("tvl1", params, 2), geom, 5, 2)
    assert files(seq) == files(par)
    assert cv2.getNumThreads() == 2  # restored to what the job's make_flow set
    # Upstream's way: one pair at a time, each sample from its own flow.
    flow = make_flow("tvl1", params, 1)
    frames = open_store(faces)[:]
    want = np.stack(
        [flow_to_sample(flow(frames[t], frames[t + 3]), geom, 42, 21) for t in range(N - 3)]
    ).astype(np.float16)
    np.testing.assert_array_equal(open_store(par)[:], want)


@pytest.mark.parametrize("chunk, threads", [(2, 3), (7, 2)])
def test_dis_stride_threads_byte_identical(faces, geom, tmp_path, chunk, threads):
    dis = {"preset": "fast"}
    seq = write(faces, tmp_path / "a.zarr", 2, "stride", make_flow("dis", dis, 1), geom, chunk, 1)
    par = write(
        faces, tmp_path / "b.zarr", 2, "stride", make_flow("dis", dis, 1), geom, chunk, threads
    )
    assert open_store(par).shape[0] == N // 2 - 1
    assert files(seq) == files(par)


class Batched:
    """A flow with calc_many (as tvl1_torch has): records the batch sizes it was given."""

    def __init__(self):
        self.inner = make_flow("dis", {"preset": "fast"}, 1)
        self.method, self.params, self.batches = "dis", self.inner.params, []

    def __call__(self, prev, nxt):
        raise AssertionError("calc_many must be used when present")

    def calc_many(self, prevs, nexts):
        assert prevs.shape == nexts.shape and prevs.ndim == 3
        self.batches.append(len(prevs))
        return np.stack([self.inner(a, b) for a, b in zip(prevs, nexts, strict=True)])


def test_calc_many_used_per_block_and_identical(faces, geom, tmp_path):
    seq = write(
        faces, tmp_path / "a.zarr", 4, "skip", make_flow("dis", {"preset": "fast"}, 1), geom, 4, 1
    )
    batched = Batched()
    out = write(faces, tmp_path / "b.zarr", 4, "skip", batched, geom, 4, 2)
    assert batched.batches == [4, 4, 3]
    assert files(seq) == files(out)


def test_plain_callable_stays_sequential_and_in_order(faces, geom, tmp_path):
    """An arbitrary callable may keep state: never called from two threads at once."""
    inner = make_flow("dis", {"preset": "fast"}, 1)
    frames = open_store(faces)[:]
    index = {frames[i].tobytes(): i for i in range(N)}
    pairs = []

    def flow(prev, nxt):
        pairs.append((index[prev.tobytes()], index[nxt.tobytes()]))
        return inner(prev, nxt)

    write(faces, tmp_path / "a.zarr", 2, "skip", flow, geom, 3, 4)
    assert pairs == [(t, t + 2) for t in range(N - 2)]


def test_worker_failure_leaves_nothing(faces, geom, tmp_path, monkeypatch):
    calls = []

    def failing():
        inner = make_flow("dis", {"preset": "fast"}, 1)

        def flow(prev, nxt):
            calls.append(1)
            if len(calls) > 5:
                raise RuntimeError("simulated worker crash")
            return inner(prev, nxt)

        return flow

    monkeypatch.setattr(stores, "_flow_cloner", lambda flow_fn: failing)
    with pytest.raises(RuntimeError, match="simulated worker crash"):
        write(
            faces,
            tmp_path / "a.zarr",
            2,
            "skip",
            make_flow("dis", {"preset": "fast"}, 1),
            geom,
            3,
            2,
        )
    assert list(tmp_path.iterdir()) == []
