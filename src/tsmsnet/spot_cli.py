"""`tsmsnet spot INPUT --models DIR [--models DIR ...] --out OUT`: spot expressions in a new video.

INPUT is a frames folder or a video file. Each --models folder is one trained fold of the
workflow (results/D/models/<config>/<subject>: apex.pt, interval.pt) or a folder of folds of one
config (an ensemble: results/D/models/<config>, or a config folder of `tsmsnet import-upstream`;
tsmsnet.spotting.model_sets); give one per spotting config (e.g. a micro and a macro one). The
checkpoints record the training videos' fps and the preprocessing their inputs went through;
INPUT goes through the same steps as in the workflow (tsmsnet.steps.preprocess) into OUT/work/,
then both spotting steps (tsmsnet.steps.spot.spot_stores, as the workflow's folds). Writes
OUT/intervals.csv (video, type, onset, offset, score: the final step-2 intervals of every
config), OUT/scores.csv (config, video, frame, score) and OUT/scores.png. Everything it needs
comes from the checkpoints and the arguments: no config.yaml is read, so an installed package
runs it anywhere.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from tsmsnet.errors import InputError
from tsmsnet.spotting.model_sets import ModelSet, common_settings, load_model_set

# A video may differ from the models' fps by this fraction (29.97 fps fits models of 30 fps):
# K, L and expression durations are counted in frames, so a larger difference misfits them.
FPS_TOLERANCE = 0.01
INTERVAL_COLUMNS = ["video", "type", "onset", "offset", "score"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="frames folder (numbered images) or video file (.mp4, .avi)")
    parser.add_argument(
        "--models",
        action="append",
        required=True,
        metavar="DIR",
        help="trained fold results/D/models/<config>/<subject> (apex.pt, interval.pt), or a "
        "folder of folds of one config (an ensemble: stage-1 scores averaged over folds, "
        "stage-2 labels by majority, a tie keeping proposals apart); repeat for more configs",
    )
    parser.add_argument(
        "--out", required=True, help="output folder (intervals.csv, scores.csv, scores.png, work/)"
    )
    parser.add_argument(
        "--fps",
        type=float,
        help="frame rate of INPUT; default: the video file's own, or the models' for a folder",
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="threads for optical flow")


def video_file_fps(path: Path) -> float | None:
    """Frame rate a video container announces (None when it announces none)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS)) if capture.isOpened() else 0.0
    finally:
        capture.release()
    return fps if fps > 0 else None


def input_fps(path: Path, is_video: bool, given: float | None, models_fps: float | None) -> float:
    """--fps, else the video file's own rate, else (frames folder) the models' rate."""
    if given is not None:
        if given <= 0:
            raise InputError(f"--fps must be positive, got {given:g}")
        return float(given)
    if is_video:
        fps = video_file_fps(path)
        if fps is not None:
            return fps
    if models_fps is not None:
        return models_fps
    raise InputError(f"cannot tell the frame rate of {path} (nor of the models): pass --fps")


def check_fps(path: Path, fps: float, models_fps: float | None, sets: list[ModelSet]) -> None:
    """The models' frame-based settings (K, L) only fit videos of their training fps."""
    if models_fps is None or abs(fps - models_fps) <= FPS_TOLERANCE * models_fps:
        return
    folders = ", ".join(str(s.folder) for s in sets)
    raise InputError(
        f"{path} is {fps:g} fps but the models ({folders}) were trained on {models_fps:g} fps "
        f"videos (K and L count frames); resample it to {models_fps:g} fps "
        f"(e.g. ffmpeg -i IN -r {models_fps:g} OUT) or use models trained at {fps:g} fps"
    )


def preprocess_input(
    source: Path, preprocess: dict, Ks: list[int], work: Path, device: str, threads: int, log
) -> tuple[dict[int, str], str]:
    """`source` through the workflow's preprocessing steps, as the checkpoints record it:
    landmarks, faces, one stage-1 store per K, the stage-2 store -> ({K: stage 1}, stage 2)."""
    from tsmsnet.preprocess.flow import on_device
    from tsmsnet.steps import preprocess as steps

    chunk = preprocess["chunk_frames"]
    marks = preprocess["landmarks"]
    landmarks_json, faces = work / "landmarks.json", work / "faces.zarr"
    steps.landmarks(
        source=str(source),
        out=str(landmarks_json),
        search_frames=marks["search_frames"],
        upsample=marks["upsample"],
        log=log,
    )
    steps.faces(
        source=str(source),
        landmarks_json=str(landmarks_json),
        out=str(faces),
        size=preprocess["face_size"],
        chunk=chunk,
        interpolation=preprocess["face_interpolation"],
        log=log,
    )
    flow = on_device(preprocess["flow"], device)

    def features(kind: str, step: int, out: Path) -> str:
        steps.flow_features(
            faces=str(faces),
            out=str(out),
            kind=kind,
            step=step,
            flow=flow,
            features=preprocess["features"],
            chunk=chunk,
            threads=threads,
            log=log,
        )
        return str(out)

    stage2 = features("stride", preprocess["stage2_stride"], work / "stage2.zarr")
    stage1 = {K: features("skip", K, work / f"stage1_K{K}.zarr") for K in sorted(set(Ks))}
    return stage1, stage2


def spot_with(s: ModelSet, stage1: str, stage2: str, video: str, device: str, log):
    """Both spotting steps with one model set -> (Spotted, its score-plot track)."""
    from tsmsnet.plots.curves import video_tracks
    from tsmsnet.steps.spot import spot_stores

    spot = s.spot
    folds = f", ensemble of {len(s.folds)} folds" if len(s.folds) > 1 else ""
    log(f"spotting with {s.folder} ({s.name}: {spot.type}, K={spot.K}{folds})")
    spotted = spot_stores(
        apex_models=s.apex,
        interval_models=s.interval,
        stage1=[stage1],
        stage2=[stage2],
        videos=[video],
        spot=spot,
        stride=s.preprocess["stage2_stride"],
        device=device,
        log=log,
    )
    predictions = {"step 1": spotted.step1, "step 2": spotted.step2}
    (track,) = video_tracks(spotted.scores, [video], spot.type, spot.P, predictions)
    title = f"{video}: {s.name} ({spot.type}, K={spot.K}, P={spot.P:g})"
    return spotted, replace(track, title=title)


def spot_tables(sets: list[ModelSet], spotted: list):
    """Every model set's final intervals in one table by onset, and their score curves."""
    import pandas as pd

    from tsmsnet.steps.spot import PREDICTION_COLUMNS

    rows = [sp.step2 for sp in spotted if len(sp.step2)]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=PREDICTION_COLUMNS)
    table = table.sort_values(["onset", "type"], kind="stable").reset_index(drop=True)
    curves = pd.concat(
        [sp.scores.assign(config=s.name) for s, sp in zip(sets, spotted, strict=True)],
        ignore_index=True,
    )
    return table[INTERVAL_COLUMNS], curves[["config", "video", "frame", "score"]]


def run(args: argparse.Namespace) -> int:
    from tsmsnet.atomic import atomic_csv
    from tsmsnet.datasets.frames import FrameSource
    from tsmsnet.plots.common import save_png
    from tsmsnet.plots.curves import score_figure
    from tsmsnet.progressbar import bar_log
    from tsmsnet.training.device import pin_cpu_kernels

    sets = [load_model_set(folder) for folder in args.models]
    models_fps, preprocess = common_settings(sets)
    # The kernels training ran, before any operation: the same scores on any x86-64 CPU.
    pin_cpu_kernels(sets[0].cpu_kernels, lambda line: print(line, file=sys.stderr))
    source = Path(args.input)
    with FrameSource(source) as frames:
        is_video, n_frames = frames.is_video, frames.n_frames
    fps = input_fps(source, is_video, args.fps, models_fps)
    check_fps(source, fps, models_fps, sets)
    video = source.stem if is_video else source.name
    out = Path(args.out)
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    log = bar_log()
    try:
        log(f"{source}: {n_frames} frames at {fps:g} fps, {len(sets)} model set(s)")
        Ks = [s.spot.K for s in sets]
        stage1, stage2 = preprocess_input(
            source, preprocess, Ks, work, args.device, args.threads, log
        )
        results = [spot_with(s, stage1[s.spot.K], stage2, video, args.device, log) for s in sets]
    finally:
        getattr(log, "close", lambda: None)()
    intervals, scores = spot_tables(sets, [spotted for spotted, _ in results])
    tracks = [track for _, track in results]
    atomic_csv(intervals, out / "intervals.csv")
    atomic_csv(scores, out / "scores.csv")
    save_png(score_figure(tracks, f"{video} ({fps:g} fps)"), out / "scores.png")
    for name in ("intervals.csv", "scores.csv", "scores.png"):
        print(out / name)
    print(f"{len(intervals)} intervals", file=sys.stderr)
    return 0
