"""Per-video preprocessing steps: landmarks, aligned faces, flow feature stores, ROI curves."""

from __future__ import annotations

from tsmsnet.runlog import Log


def landmarks(
    source: str, out: str, search_frames: int, upsample: int, log: Log, fill_gaps: bool = False
):
    """Face box and 68 landmarks on the first frame (within search_frames) with a face.

    fill_gaps: missing frame numbers read the frame before (datasets.fills_frame_gaps)."""
    from tsmsnet.datasets.frames import FrameSource
    from tsmsnet.preprocess.landmarks import detect

    with FrameSource(source, fill_gaps=fill_gaps) as frames:
        found = detect(frames, search_frames, upsample)
    log(f"{source}: face found on store frame {found.frame_index}, box {found.box}")
    found.to_json(out)
    return found


def faces(
    source: str,
    landmarks_json: str,
    out: str,
    size: int,
    chunk: int,
    interpolation: str,
    log: Log,
    fill_gaps: bool = False,
) -> None:
    """Every frame grey, cropped to the face box, resized to size x size with `interpolation`
    (config preprocess.face_interpolation), into a uint8 zarr store; a missing frame number
    stores the frame before where `fill_gaps` (datasets.fills_frame_gaps)."""
    from tsmsnet.datasets.frames import FrameSource
    from tsmsnet.preprocess.landmarks import Landmarks
    from tsmsnet.preprocess.stores import write_faces

    found = Landmarks.from_json(landmarks_json)
    with FrameSource(source, fill_gaps=fill_gaps) as frames:
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


def roi_curves(
    faces: str,
    videos_csv: str,
    video: str,
    out: str,
    gaps_s: list[float],
    roi_flow: dict,
    flow: dict,
    features: dict,
    chunk: int,
    threads: int,
    log: Log,
) -> None:
    """Per-ROI motion curves of one video for the training-free spotter (every gap of
    `gaps_s` seconds, at the video's fps from videos.csv), computed once, read by every fold."""
    from tsmsnet.datasets.table import read_videos
    from tsmsnet.errors import InputError
    from tsmsnet.preprocess.flow import make_flow
    from tsmsnet.preprocess.roi_curves import compute_roi_curves, roi_layout, write_roi_curves
    from tsmsnet.preprocess.stores import geometry_from_faces, open_store

    table = read_videos(videos_csv)
    row = table[table["video"] == video]
    if len(row) != 1:
        raise InputError(f"{videos_csv}: {len(row)} rows for video {video}; expected one")
    fps = float(row["fps"].iloc[0])
    store = open_store(faces)
    geom = geometry_from_faces(store, features)
    points = store.attrs["landmarks"]
    layout = roi_layout(
        points, geom.size, roi_flow["rois"], roi_flow["roi_margin"], geom.eye_mask, geom.nose, video
    )
    flow_fn = make_flow(flow["method"], flow["params"], threads, flow.get("device", "auto"))
    log(f"{video}: ROIs {', '.join(layout.names)}; gaps {gaps_s} s at {fps:g} fps")
    curves = compute_roi_curves(store, gaps_s, flow_fn, layout, fps, chunk, video, log)
    write_roi_curves(curves, out)
