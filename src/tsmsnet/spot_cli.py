"""`tsmsnet spot INPUT --models DIR [--models DIR ...] --out OUT`: spot expressions in new videos.

INPUT is a frames folder, a video file, or a folder of them (a test set such as MEGC's unseen
`CAS_data/<subject>/<clip>/`; tsmsnet.spot_inputs finds the videos and names them). Each
--models folder is one trained fold of the workflow (results/D/models/<config>/<subject>:
apex.pt, interval.pt) or a folder of folds of one config (an ensemble: results/D/models/<config>,
or a config folder of `tsmsnet import-upstream`; tsmsnet.spotting.model_sets); give one per
spotting config (e.g. a micro and a macro one). The checkpoints record the training videos' fps
and the preprocessing their inputs went through; each video goes through the same steps as in
the workflow (tsmsnet.steps.preprocess) into OUT/work/, then both spotting steps
(tsmsnet.steps.spot.spot_stores, as the workflow's folds). Writes OUT/intervals.csv (video,
type, onset, offset, score: the final step-2 intervals of every config), OUT/scores.csv
(config, video, frame, score) and OUT/scores.png; for a folder of videos these three (and
work/) go to OUT/<video id>/, each video spotted on its own, and OUT/intervals.csv gathers
them all. Both write the spotting submission OUT/submission/spotting.csv
(`vid,onset,offset,type`, tsmsnet.evaluation.submission); with --recognizer also the emotion
class of each micro interval and the STR submission OUT/submission/str.csv
(tsmsnet.spot_recognition). Every video is checked (frames, fps, length) before the first is
preprocessed. Everything it needs comes from the checkpoints and the arguments: no config.yaml
is read, so an installed package runs it anywhere.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from tsmsnet.errors import InputError, TsmsnetError, one_line
from tsmsnet.evaluation.submission import FOLDER, SPOTTING_FILE, STR_FILE
from tsmsnet.spot_inputs import InputVideo, find_videos
from tsmsnet.spot_recognition import (
    Recognizer,
    load_recognizer,
    name_micro,
    str_table,
)
from tsmsnet.spotting.model_sets import ModelSet, common_settings, load_model_set

# A video may differ from the models' fps by this fraction (29.97 fps fits models of 30 fps):
# K, L and expression durations are counted in frames, so a larger difference misfits them.
FPS_TOLERANCE = 0.01
INTERVAL_COLUMNS = ["video", "type", "onset", "offset", "score"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input",
        help="frames folder (numbered images), video file (.mp4, .avi), or a folder of them "
        "(e.g. CAS_data/<subject>/<clip>/ or SAMM's <video>/ folders: every frames folder and "
        "video file below it, each spotted on its own)",
    )
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
        "--out",
        required=True,
        help="output folder (intervals.csv, submission/spotting.csv; scores.csv, scores.png, "
        "work/ there for one video, in <video id>/ for each video of a folder)",
    )
    parser.add_argument(
        "--fps",
        type=float,
        help="frame rate of INPUT (of every video in a folder of videos); default: a video "
        "file's own, the models' for a frames folder (CAS_data: 30, SAMM: 200)",
    )
    parser.add_argument(
        "--fill-gaps",
        action="store_true",
        help="a frames folder may miss frame numbers: each reads the frame before (CAS(ME)^3 "
        "releases drop frames); without it a gap is an error",
    )
    parser.add_argument(
        "--recognizer",
        metavar="DIR",
        help="recognition models (results/D/models/recognition, one fold's folder in it, or a "
        "recognizer.pt): name the emotion class of each spotted micro-expression and write "
        "the STR submission submission/str.csv",
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


def check_length(path: Path, n_frames: int, sets: list[ModelSet]) -> None:
    """Enough frames for every feature store the models read (tsmsnet.validate's rule)."""
    from tsmsnet.validate import store_min_frames

    Ks = {s.name: s.spot.K for s in sets}
    for what, (frames, _) in store_min_frames(Ks, sets[0].preprocess["stage2_stride"]).items():
        if n_frames < frames:
            raise InputError(
                f"{path} has {n_frames} frames but {what} needs at least {frames}: "
                "spot a longer video (or leave this one out)"
            )


@dataclass(frozen=True)
class PlannedVideo:
    """A video of INPUT, checked: its frames, frame rate and length fit the models."""

    input: InputVideo
    n_frames: int
    fps: float
    filled: int  # missing frame numbers read from the frame before (--fill-gaps)


def plan_video(
    v: InputVideo,
    given_fps: float | None,
    models_fps: float | None,
    sets: list[ModelSet],
    fill_gaps: bool,
) -> PlannedVideo:
    """Names and container headers only (nothing decoded): a bad video fails before any
    video is preprocessed."""
    from tsmsnet.datasets.frames import FrameSource

    with FrameSource(v.source, fill_gaps=True) as frames:
        is_video, n_frames, missing = frames.is_video, frames.n_frames, frames.missing
        first = frames.first_frame
    if missing and not fill_gaps:
        shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise InputError(
            f"frames folder {v.source}: frame numbers {first}..{first + n_frames - 1} miss "
            f"{len(missing)} ({shown}); pass --fill-gaps to read each from the frame before "
            "(CAS(ME)^3 releases drop frames) or re-extract the missing frames"
        )
    fps = input_fps(v.source, is_video, given_fps, models_fps)
    check_fps(v.source, fps, models_fps, sets)
    check_length(v.source, n_frames, sets)
    return PlannedVideo(input=v, n_frames=n_frames, fps=fps, filled=len(missing))


def preprocess_input(
    source: Path,
    preprocess: dict,
    Ks: list[int],
    work: Path,
    device: str,
    threads: int,
    log,
    fill_gaps: bool = False,
) -> tuple[dict[int, str], str]:
    """`source` through the workflow's preprocessing steps, as the checkpoints record it:
    landmarks, faces, one stage-1 store per K, the stage-2 store -> ({K: stage 1}, stage 2).
    fill_gaps: missing frame numbers read the frame before (as for CAS(ME)^3 in the workflow)."""
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
        fill_gaps=fill_gaps,
    )
    steps.faces(
        source=str(source),
        landmarks_json=str(landmarks_json),
        out=str(faces),
        size=preprocess["face_size"],
        chunk=chunk,
        interpolation=preprocess["face_interpolation"],
        log=log,
        fill_gaps=fill_gaps,
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


def spot_video(p: PlannedVideo, sets: list[ModelSet], rec: Recognizer | None, out: Path, args, log):
    """One video through preprocessing (into out/work/), both steps with every model set and
    the recognizer if any; writes out/intervals.csv, scores.csv and scores.png -> its
    intervals (with emotion and emotion_score when recognised)."""
    from tsmsnet.atomic import atomic_csv
    from tsmsnet.plots.common import save_png
    from tsmsnet.plots.curves import score_figure

    v = p.input
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    filled = f", {p.filled} missing frames filled from the frame before" if p.filled else ""
    log(f"{v.source}: {p.n_frames} frames at {p.fps:g} fps{filled}, {len(sets)} model set(s)")
    stage1, stage2 = preprocess_input(
        v.source,
        sets[0].preprocess,
        [s.spot.K for s in sets] + ([rec.K] if rec else []),
        work,
        args.device,
        args.threads,
        log,
        fill_gaps=args.fill_gaps,
    )
    results = [spot_with(s, stage1[s.spot.K], stage2, v.video, args.device, log) for s in sets]
    intervals, scores = spot_tables(sets, [spotted for spotted, _ in results])
    if rec is not None:
        intervals = name_micro(rec, intervals, v.video, stage1[rec.K], args.device, log)
    atomic_csv(intervals, out / "intervals.csv")
    atomic_csv(scores, out / "scores.csv")
    tracks = [track for _, track in results]
    save_png(score_figure(tracks, f"{v.video} ({p.fps:g} fps)"), out / "scores.png")
    return intervals


def spot_all(planned: list[PlannedVideo], sets, rec, out: Path, args, is_set: bool, log):
    """Every video on its own, in id order, with a progress line per video for a folder of
    them; a failing video's error names it (the videos before it keep their files)."""
    import pandas as pd

    from tsmsnet.runlog import Progress

    progress = Progress(len(planned), log, "videos", every=0.0) if is_set else None
    tables = []
    for p in planned:
        try:
            folder = out / p.input.video if is_set else out
            tables.append(spot_video(p, sets, rec, folder, args, log))
        except TsmsnetError as exc:
            if not is_set:
                raise
            raise InputError(
                f"video {p.input.video} ({p.input.source}): {one_line(exc)} (the videos "
                f"before it are spotted in {out}/)"
            ) from exc
        if progress is not None:
            progress.update()
    table = pd.concat(tables, ignore_index=True)
    return table.sort_values(["video", "onset", "type"], kind="stable", ignore_index=True)


def run(args: argparse.Namespace) -> int:
    from tsmsnet.atomic import atomic_csv
    from tsmsnet.evaluation.submission import spotting_submission, write_submission
    from tsmsnet.progressbar import bar_log
    from tsmsnet.training.device import pin_cpu_kernels

    sets = [load_model_set(folder) for folder in args.models]
    models_fps, _ = common_settings(sets)
    out = Path(args.out)
    videos, is_set = find_videos(args.input, out)
    planned = [plan_video(v, args.fps, models_fps, sets, args.fill_gaps) for v in videos]
    # The kernels training ran, before any operation: the same scores on any x86-64 CPU.
    pin_cpu_kernels(sets[0].cpu_kernels, lambda line: print(line, file=sys.stderr))
    rec = load_recognizer(args.recognizer, sets) if args.recognizer else None
    if is_set:
        print(f"{len(planned)} videos in {args.input}", file=sys.stderr)
    log = bar_log()
    try:
        intervals = spot_all(planned, sets, rec, out, args, is_set, log)
    finally:
        getattr(log, "close", lambda: None)()
    written = [out / name for name in ("intervals.csv", "scores.csv", "scores.png")]
    if is_set:
        written = [atomic_csv(intervals, out / "intervals.csv")]
    written.append(write_submission(spotting_submission(intervals), out / FOLDER / SPOTTING_FILE))
    if rec is not None:
        table = str_table(intervals, videos, rec)
        written.append(write_submission(table, out / FOLDER / STR_FILE))
    for path in written:
        print(path)
    print(f"{len(intervals)} intervals in {len(planned)} video(s)", file=sys.stderr)
    return 0
