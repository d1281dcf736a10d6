"""Per-video preprocessing steps: landmarks, aligned faces, flow feature stores."""

from __future__ import annotations

from tsmsnet.runlog import Log


def landmarks(source: str, out: str, search_frames: int, upsample: int, log: Log):
    """Face box and 68 landmarks on the first frame (within search_frames) with a face."""
    from tsmsnet.datasets.frames import FrameSource
    from tsmsnet.preprocess.landmarks import detect

    with FrameSource(source) as frames:
        found = detect(frames, search_frames, upsample)
    log(f"{source}: face found on store frame {found.frame_index}, box {found.box}")
    found.to_json(out)
    return found


def faces(
    source: str, landmarks_json: str, out: str, size: int, chunk: int, interpolation: str, log: Log
) -> None:
    """Every frame grey, cropped to the face box, resized to size x size with `interpolation`
    (config preprocess.face_interpolation), into a uint8 zarr store."""
    from tsmsnet.datasets.frames import FrameSource
    from tsmsnet.preprocess.landmarks import Landmarks
    from tsmsnet.preprocess.stores import write_faces

    found = Landmarks.from_json(landmarks_json)
    with FrameSource(source) as frames:
        write_faces(frames, found, out, size, chunk, interpolation, log=log)


def flow_features(
    faces: str,
    out: str,
    kind: str,
    step: int,
    flow: dict,
    features: dict,
    chunk: int,
    threads: int,
    log: Log,
) -> None:
    """Stage-1 ('skip', step K) or stage-2 ('stride', step 4) flow feature store of one video.

    `threads` (the rule's) flow workers compute pairs in parallel; the store is the same
    byte for byte whatever the count.
    """
    from tsmsnet.preprocess.flow import make_flow
    from tsmsnet.preprocess.stores import geometry_from_faces, open_store, write_flow_features

    geom = geometry_from_faces(open_store(faces), features)
    flow_fn = make_flow(flow["method"], flow["params"], threads, flow.get("device", "auto"))
    write_flow_features(
        faces,
        out,
        step=step,
        kind=kind,
        flow_fn=flow_fn,
        geom=geom,
        roi_width=features["roi_width"],
        roi_height=features["roi_height"],
        chunk=chunk,
        dtype=features["dtype"],
        log=log,
        threads=threads,
    )
