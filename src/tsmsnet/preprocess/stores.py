"""zarr stores of one video: aligned faces (uint8) and flow features (float16), crash-safe.

Every store is written aside and renamed into place only when complete (tsmsnet.atomic), so a
killed job never leaves a store that looks finished. Frames are streamed in blocks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import zarr

from tsmsnet.atomic import atomic_dir
from tsmsnet.errors import ConfigError, FramesError, InputError
from tsmsnet.preprocess.align import check_interpolation, crop_box, crop_resize, map_points
from tsmsnet.preprocess.features import flow_to_sample
from tsmsnet.preprocess.geometry import FaceGeometry
from tsmsnet.runlog import Progress, quiet

KINDS = ("skip", "stride")
# Flow methods OpenCV computes one pair per call, releasing the GIL: threads parallelise them.
OPENCV_METHODS = ("tvl1", "dis")


def open_store(source: str | Path | zarr.Array) -> zarr.Array:
    """A finished store, read-only (an array passes through); InputError saying to delete and
    rerun if it is missing or unreadable."""
    if isinstance(source, zarr.Array):
        return source
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: store missing; rerun the step that writes it")
    try:
        return zarr.open_array(str(path), mode="r")
    except Exception as exc:  # zarr raises many kinds for a damaged store
        raise InputError(f"{path}: unreadable zarr store ({exc}); delete it and rerun") from exc


def write_faces(
    source, landmarks, out, size: int, chunk: int, interpolation: str, log=None
) -> None:
    """Crop every frame of `source` to the landmarks' box, resized to size x size with
    `interpolation` (align.FACE_INTERPOLATIONS), into a uint8 store.

    attrs: first_frame, n_frames, landmarks (68x2 mapped to the face), box, source_shape,
    landmark_frame (store index of the detection frame), face_size, interpolation, source.
    """
    check_interpolation(interpolation)
    n = int(source.n_frames)
    name = str(getattr(source, "path", "video"))
    box = crop_box(landmarks)
    points = map_points(landmarks.points, box, size)
    report = Progress(n, log or quiet, f"faces {name}").to
    with atomic_dir(out) as tmp:
        arr = zarr.create_array(
            store=str(tmp), shape=(n, size, size), chunks=(chunk, size, size), dtype="uint8"
        )
        block = np.empty((chunk, size, size), dtype=np.uint8)
        done = fill = 0
        for frame in source.iter_grey(0, n):
            if done + fill >= n:
                raise FramesError(f"{name}: more frames than the {n} announced")
            block[fill] = crop_resize(frame, box, size, interpolation)
            fill += 1
            if fill == chunk:
                arr[done : done + fill] = block
                done, fill = done + fill, 0
                report(done)
        if fill:
            arr[done : done + fill] = block[:fill]
            done += fill
            report(done)
        if done != n:
            raise FramesError(f"{name}: only {done} of the {n} announced frames could be read")
        arr.attrs.update(
            {
                "first_frame": int(source.first_frame),
                "n_frames": n,
                "landmarks": points.tolist(),
                "box": [int(b) for b in box],
                "source_shape": [int(s) for s in landmarks.frame_shape],
                "landmark_frame": int(landmarks.frame_index),
                "face_size": int(size),
                "interpolation": interpolation,
                "source": name,
            }
        )


def geometry_from_faces(faces: zarr.Array, features_cfg: dict) -> FaceGeometry:
    """FaceGeometry of a faces store, with config.yaml's preprocess.features numbers."""
    attrs = faces.attrs
    return FaceGeometry.from_points(
        np.asarray(attrs["landmarks"], dtype=np.float64),
        int(attrs.get("face_size", faces.shape[-1])),
        nose_landmark=int(features_cfg["nose_landmark"]),
        nose_patch=int(features_cfg["nose_patch"]),
        eye_margin=features_cfg["eye_margin"],
        roi_margin=features_cfg["roi_margin"],
        source=str(attrs.get("source", "video")),
    )


def pair_count(n_frames: int, step: int, kind: str) -> int:
    """Samples in a store: skip N-step (pairs t, t+step); stride floor(N/step)-1 (4j, 4j+4)."""
    if kind == "skip":
        return n_frames - step
    if kind == "stride":
        return n_frames // step - 1
    raise ConfigError(f"unknown feature kind {kind!r}; known: {', '.join(KINDS)}")


def _frames_needed(i0: int, i1: int, step: int, kind: str) -> tuple[int, int]:
    """Frame range [lo, hi) covering both ends of samples i0..i1-1."""
    if kind == "skip":
        return i0, i1 + step
    return step * i0, step * i1 + 1


class _Window:
    """Contiguous frames [start, stop) of a store; slides forward, re-reading nothing."""

    def __init__(self, arr: zarr.Array):
        self.arr, self.start, self.frames = arr, 0, arr[0:0]

    def get(self, lo: int, hi: int) -> np.ndarray:
        stop = self.start + len(self.frames)
        keep = self.frames[max(lo - self.start, 0) :] if lo < stop else self.frames[:0]
        first = max(lo, stop)
        new = self.arr[first:hi] if hi > first else self.arr[0:0]
        self.frames, self.start = np.concatenate([keep, new]), lo
        return self.frames


class _SampleMaker:
    """Samples of frame pairs (frames[a], frames[a + step]) -> (B, 3, 2*roi_height, roi_width).

    Three ways, all giving byte-identical samples (each pair's flow depends on its two frames
    only, and each sample is made from its own flow by `flow_to_sample`):
    - threads: `threads` workers, each with its own flow object built like `flow_fn` with one
      OpenCV thread (OpenCV releases the GIL), when threads > 1 and `flow_fn` is a FlowFn
      of an OpenCV method (or of any method without calc_many);
    - batched: otherwise `flow_fn.calc_many(prevs, nexts)` when the flow function has it (one
      call per block: a batched solver spreads over its own threads or GPU);
    - sequential: `flow_fn` itself, one pair after the other, in order.
    """

    def __init__(self, flow_fn, threads: int, geom: FaceGeometry, roi_width: int, roi_height: int):
        self.flow_fn, self.geom, self.size = flow_fn, geom, (roi_width, roi_height)
        self.calc_many = getattr(flow_fn, "calc_many", None)
        self.pool: ThreadPoolExecutor | None = None
        self._cv2_threads: int | None = None
        per_pair = self.calc_many is None or getattr(flow_fn, "method", None) in OPENCV_METHODS
        clone = _flow_cloner(flow_fn) if threads > 1 and per_pair else None
        if clone is not None:
            self.calc_many = None
            self._cv2_threads = cv2.getNumThreads()
            local = threading.local()

            def start_worker() -> None:
                local.flow = clone()

            self._local = local
            self.pool = ThreadPoolExecutor(int(threads), "flow", initializer=start_worker)
        self.mode = (
            f"{threads} threads, one flow object each"
            if self.pool is not None
            else "batched (calc_many)"
            if self.calc_many is not None
            else "sequential"
        )

    def _sample(self, flow: np.ndarray) -> np.ndarray:
        return flow_to_sample(flow, self.geom, *self.size)

    def _pair(self, frames: np.ndarray, a: int, step: int) -> np.ndarray:
        return self._sample(self._local.flow(frames[a], frames[a + step]))

    def submit(self, frames: np.ndarray, starts: np.ndarray, step: int) -> Callable[[], np.ndarray]:
        """Start the pairs (frames[a], frames[a + step]) for a in `starts`; returns a function
        that waits for them and gives their samples as one float32 block."""
        starts = [int(a) for a in starts]
        if self.pool is not None:
            futures = [self.pool.submit(self._pair, frames, a, step) for a in starts]
            return lambda: np.stack([f.result() for f in futures]).astype(np.float32, copy=False)
        if self.calc_many is not None:

            def batched() -> np.ndarray:
                idx = np.asarray(starts)
                flows = np.asarray(self.calc_many(frames[idx], frames[idx + step]))
                return np.stack([self._sample(f) for f in flows]).astype(np.float32, copy=False)

            return batched

        def sequential() -> np.ndarray:
            out = [self._sample(self.flow_fn(frames[a], frames[a + step])) for a in starts]
            return np.stack(out).astype(np.float32, copy=False)

        return sequential

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        if self._cv2_threads is not None:
            cv2.setNumThreads(self._cv2_threads)  # the workers' make_flow set it to 1
            self._cv2_threads = None


def _flow_cloner(flow_fn) -> Callable[[], Callable] | None:
    """A factory of independent single-threaded copies of `flow_fn`, or None (an arbitrary
    callable may share state between calls, so it is only ever called from one thread)."""
    from tsmsnet.preprocess.flow import FlowFn, make_flow

    if not isinstance(flow_fn, FlowFn):
        return None
    method, params = flow_fn.method, dict(flow_fn.params)
    return lambda: make_flow(method, params, 1)


def write_flow_features(
    faces_path,
    out,
    step: int,
    kind: str,
    flow_fn,
    geom: FaceGeometry,
    roi_width: int,
    roi_height: int,
    chunk: int,
    dtype: str,
    log=None,
    threads: int = 1,
) -> None:
    """Flow samples of one video: kind 'skip' (stage 1, t -> t+step for every t) or
    'stride' (stage 2, step*j -> step*j+step). (n, 3, 2*roi_height, roi_width), chunked in time.

    Pairs are processed in blocks of one store chunk: each block's frames are read once from
    the faces store (a sliding window: memory is bounded by chunk + step frames, whatever
    the video's length), its flows computed by `threads` workers (see _SampleMaker) while the
    previous block is written. The store is byte-identical for every `threads`.
    """
    faces = open_store(faces_path)
    n_frames = int(faces.shape[0])
    name = faces.attrs.get("source", str(faces_path))
    n = pair_count(n_frames, step, kind)
    if n <= 0:
        raise InputError(
            f"{name}: {n_frames} frames is too short for {kind} features with step {step}; "
            f"it needs at least {step + 1 if kind == 'skip' else 2 * step} frames"
        )
    shape = (n, 3, 2 * roi_height, roi_width)
    report = Progress(n, log or quiet, f"{kind} features (step {step}) {name}").to
    window = _Window(faces)
    stride = 1 if kind == "skip" else step
    maker = _SampleMaker(flow_fn, max(1, int(threads)), geom, roi_width, roi_height)
    if log is not None:
        log(f"{kind} features (step {step}) {name}: {n} pairs, flow {maker.mode}")
    try:
        with atomic_dir(out) as tmp:
            arr = zarr.create_array(
                store=str(tmp), shape=shape, chunks=(chunk,) + shape[1:], dtype=dtype
            )
            pending = None  # (i0, i1, wait) of the block being computed
            for i0 in range(0, n, chunk):
                i1 = min(i0 + chunk, n)
                lo, hi = _frames_needed(i0, i1, step, kind)
                frames = window.get(lo, hi)
                starts = np.arange(i0 * stride, i1 * stride, stride) - lo
                block = (i0, i1, maker.submit(frames, starts, step))
                if pending is not None:
                    _write_block(arr, pending, dtype, report)
                pending = block
            _write_block(arr, pending, dtype, report)
            arr.attrs.update(
                {
                    "kind": kind,
                    "step": int(step),
                    "first_frame": int(faces.attrs.get("first_frame", 0)),
                    "n_frames": n_frames,
                    "flow": getattr(flow_fn, "method", "unknown"),
                    "flow_params": dict(getattr(flow_fn, "params", {})),
                    "source": name,
                }
            )
    finally:
        maker.close()


def _write_block(arr: zarr.Array, pending, dtype: str, report) -> None:
    i0, i1, wait = pending
    arr[i0:i1] = wait().astype(dtype)
    report(i1)
