"""Write one synthetic subject's videos (frames in the real layout) and the ground truth.

Everything is drawn from (seed, subject_index, video_index) streams, so a subject's files are
byte-identical whatever the preset's subject count and however often they are regenerated.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from tsmsnet.atomic import atomic_csv, atomic_dir, atomic_write
from tsmsnet.errors import ConfigError
from tsmsnet.runlog import Log, quiet
from tsmsnet.synthetic import motion
from tsmsnet.synthetic.face import Face, make_face
from tsmsnet.synthetic.plan import (
    CASME2,
    CASME2_FIRST_SUBJECT,
    CASME3,
    VideoPlan,
    layout_name,
    subject_plan,
    video_plan,
)

JPEG_QUALITY = 95
# Apex position within an expression, as a fraction of its duration (rise shorter than fall).
APEX_FRACTION = (0.3, 0.6)
# Shortest expression or blink in frames: onset < apex < offset must hold.
MIN_EVENT_FRAMES = 3
# Draws of a video's expressions (durations, apex positions) tried until one packs into its
# frames with every gap kept, and random orders of the events tried per draw; if none does,
# one that breaks `min_apex_gap_s` is kept and the video logged.
DRAW_TRIES = 200
ORDER_TRIES = 50
VIDEO_STREAM = 1
TYPES = ("macro", "micro")
ROW_COLUMNS = [
    "subject",
    "video",
    "video_name",
    "expression_number",
    "type",
    "onset",
    "apex",
    "offset",
    "kinds",
]
LOG_EVERY_FRAMES = 1000


@dataclass(frozen=True)
class Expression:
    """One ground-truth expression: 0-based frame indices and how it moves the face."""

    type: str
    onset: int
    apex: int
    offset: int
    kinds: tuple[str, ...]
    amplitude_px: float  # peak displacement at face_size (128) scale


@dataclass(frozen=True)
class VideoScript:
    """Everything needed to render one video, decided before any frame is drawn."""

    plan: VideoPlan
    n_frames: int
    expressions: list[Expression]
    layers: list[motion.Layer]
    head: motion.HeadTrack
    noise_sigma: float
    flicker: float
    noise_seed: np.random.SeedSequence


def _uniform(rng: np.random.Generator, bounds) -> float:
    lo, hi = (float(b) for b in bounds)
    return float(rng.uniform(lo, hi))


def _frames(seconds: float, fps: float) -> int:
    return max(MIN_EVENT_FRAMES, int(round(seconds * fps)))


def _pick_kinds(rng: np.random.Generator) -> tuple[str, ...]:
    """Upper face, lower face, or both (as action units combine in real expressions)."""
    top = str(rng.choice(sorted(motion.TOP_KINDS)))
    bottom = str(rng.choice(sorted(motion.BOTTOM_KINDS)))
    return ((top,), (bottom,), (top, bottom))[int(rng.integers(0, 3))]


def _draw_events(rng: np.random.Generator, fps: float, expr_cfg: dict) -> list[dict]:
    """per_video macro then micro draws, in a fixed order so the stream stays reproducible."""
    events = []
    for etype in TYPES:
        c = expr_cfg[etype]
        for _ in range(int(c["per_video"])):
            events.append(
                {
                    "type": etype,
                    "length": _frames(_uniform(rng, c["duration_s"]), fps),
                    "amplitude": _uniform(rng, c["amplitude_px"]),
                    "apex_fraction": _uniform(rng, APEX_FRACTION),
                    "kinds": _pick_kinds(rng),
                }
            )
    return events


def _fit(events: list[dict], n_frames: int, gap: int, log: Log, video: str) -> list[dict]:
    """Drop the longest event of the most frequent type until all fit with their gaps."""
    events = list(events)
    dropped = 0
    while events and sum(e["length"] for e in events) + (len(events) + 1) * gap > n_frames:
        counts = {t: sum(e["type"] == t for e in events) for t in TYPES}
        most = max(TYPES, key=lambda t: counts[t])
        victim = max((e for e in events if e["type"] == most), key=lambda e: e["length"])
        events.remove(victim)
        dropped += 1
    if dropped:
        log(
            f"{video}: {n_frames} frames hold only {len(events)} of the configured expressions "
            f"({dropped} dropped); raise the preset's frames for more"
        )
    return events


def _apex_offset(event: dict) -> int:
    """Apex frame counted from the event's onset: inside it, never on its ends."""
    last = event["length"] - 1
    return min(max(int(round(event["apex_fraction"] * last)), 1), last - 1)


def _earliest_starts(
    events: list[dict], order, n_frames: int, gap: int, apex_gap: dict[str, int]
) -> list[int] | None:
    """Earliest onset of each event taken in `order`: `gap` frames after the one before (and
    after frame 0), its apex apex_gap[type] after every earlier apex of its type; None when the
    last would end within `gap` frames of the video's end."""
    starts, apexes, free = [], {}, gap
    for idx in order:
        e = events[idx]
        offset = _apex_offset(e)
        start = free
        for apex in apexes.get(e["type"], []):
            start = max(start, apex + apex_gap.get(e["type"], 0) - offset)
        starts.append(start)
        apexes.setdefault(e["type"], []).append(start + offset)
        free = start + e["length"] + gap
    return starts if free <= n_frames else None


def _place(
    rng: np.random.Generator, events: list[dict], n_frames: int, gap: int, apex_gap: dict
) -> list[Expression] | None:
    """A random order of the events that packs into n_frames with every gap kept, its spare
    frames spread at random before the events (moving an event later moves every later one
    with it, so no gap shrinks); None if ORDER_TRIES orders do not pack."""
    if not events:
        return []
    for _ in range(ORDER_TRIES):
        order = rng.permutation(len(events))
        starts = _earliest_starts(events, order, n_frames, gap, apex_gap)
        if starts is not None:
            break
    else:
        return None
    last = events[order[-1]]
    slack = n_frames - gap - (starts[-1] + last["length"])
    shifts = np.sort(rng.integers(0, slack + 1, size=len(events)))
    out = []
    for idx, start, shift in zip(order, starts, shifts, strict=True):
        e = events[idx]
        onset = start + int(shift)
        out.append(
            Expression(
                e["type"],
                onset,
                onset + _apex_offset(e),
                onset + e["length"] - 1,
                e["kinds"],
                e["amplitude"],
            )
        )
    return out


def place_expressions(
    rng: np.random.Generator, n_frames: int, fps: float, expr_cfg: dict, log: Log, video: str
) -> list[Expression]:
    """Expressions in random order, min_gap_s apart and from both ends, durations from config,
    same-type apexes at least the type's min_apex_gap_s apart. Draws that cannot be packed so
    are redrawn (up to DRAW_TRIES); if none can, the video keeps what fits with its apexes
    closer, logged."""
    gap = int(math.ceil(float(expr_cfg["min_gap_s"]) * fps))
    apex_gap = {t: int(math.ceil(float(expr_cfg[t]["min_apex_gap_s"]) * fps)) for t in TYPES}
    for _ in range(DRAW_TRIES):
        placed = _place(rng, _draw_events(rng, fps, expr_cfg), n_frames, gap, apex_gap)
        if placed is not None:
            return placed
    log(
        f"{video}: no draw of its expressions packs into {n_frames} frames with same-type "
        f"apexes {apex_gap} frames apart; kept one closer (raise the preset's frames)"
    )
    events = _fit(_draw_events(rng, fps, expr_cfg), n_frames, gap, log, video)
    return _place(rng, events, n_frames, gap, {})


def _blink_layers(
    rng: np.random.Generator, face: Face, n_frames: int, fps: float, cfg: dict
) -> list[motion.Layer]:
    """Blinks at a Poisson rate, each a raised cosine closing and reopening both eyes."""
    length = _frames(float(cfg["blink_duration_s"]), fps)
    count = int(rng.poisson(float(cfg["blinks_per_s"]) * n_frames / fps))
    if count == 0 or length > n_frames:
        return []
    field = motion.blink_field(face.points, face.image.shape)
    starts = np.sort(rng.integers(0, n_frames - length + 1, size=count))
    weights = np.zeros(n_frames)
    for s in starts:
        w = motion.raised_cosine(n_frames, int(s), int(s) + length // 2, int(s) + length - 1)
        weights = np.maximum(weights, w)
    return [motion.Layer(field, weights)]


def tilt_angles(rng: np.random.Generator, n_frames: int, fps: float, cfg: dict) -> np.ndarray:
    """(n_frames,) extra head angle in degrees: quick tilts at a Poisson rate
    (`head_tilts_per_s`), each a raised cosine to a random +-amplitude in `head_tilt_deg` and
    back, lasting a random `head_tilt_duration_s`.

    A tilt is rigid: it moves the ROIs like an expression of similar size and speed, but it
    does not deform the face, so it leaves no optical strain.
    """
    angles = np.zeros(n_frames, np.float64)
    count = int(rng.poisson(float(cfg["head_tilts_per_s"]) * n_frames / float(fps)))
    for _ in range(count):
        length = _frames(_uniform(rng, cfg["head_tilt_duration_s"]), fps)
        if length > n_frames:
            continue
        start = int(rng.integers(0, n_frames - length + 1))
        sign = 1.0 if rng.random() < 0.5 else -1.0
        amplitude = sign * _uniform(rng, cfg["head_tilt_deg"])
        end = start + length - 1
        angles += amplitude * motion.raised_cosine(n_frames, start, (start + end) // 2, end)
    return angles


def _video_seeds(seed: int, subject_index: int, video_index: int) -> list[np.random.SeedSequence]:
    """The streams of one video: expressions, blinks, head, noise, tilts."""
    root = np.random.SeedSequence([int(seed), int(subject_index), VIDEO_STREAM, int(video_index)])
    return root.spawn(5)


def planned_types(synthetic_cfg: dict, preset: dict, seed: int, fps: float) -> dict[str, set]:
    """subject -> the expression types of its ground truth, as generation will draw them
    (the expressions' stream only, no pixels: milliseconds per video)."""
    types: dict[str, set] = {}
    for i in range(int(preset["subjects"])):
        for j in range(int(preset["videos_per_subject"])):
            vplan = video_plan(i, j, preset["layout"])
            rng = np.random.default_rng(_video_seeds(seed, i, j)[0])
            placed = place_expressions(
                rng, int(preset["frames"]), fps, synthetic_cfg["expressions"], quiet, vplan.video
            )
            types.setdefault(vplan.subject, set()).update(e.type for e in placed)
    return types


def plan_video(
    face: Face,
    subject_index: int,
    video_index: int,
    synthetic_cfg: dict,
    preset: dict,
    seed: int,
    fps: float,
    face_size: int,
    log: Log = quiet,
) -> VideoScript:
    """Decide one video's expressions and distractors (no pixels yet)."""
    vplan = video_plan(subject_index, video_index, preset["layout"])
    n_frames = int(preset["frames"])
    ev_seed, blink_seed, head_seed, noise_seed, tilt_seed = _video_seeds(
        seed, subject_index, video_index
    )
    ev_rng = np.random.default_rng(ev_seed)
    expressions = place_expressions(
        ev_rng, n_frames, fps, synthetic_cfg["expressions"], log, vplan.video
    )
    to_image = face.box_width / float(face_size)
    shape = face.image.shape
    layers = []
    for e in expressions:
        amp = e.amplitude_px * to_image
        field = sum(
            motion.expression_field(face.points, face.box_width, shape, k, amp) for k in e.kinds
        )
        peak = float(np.sqrt((field**2).sum(-1)).max())
        field = field * np.float32(amp / peak)
        layers.append(
            motion.Layer(field, motion.raised_cosine(n_frames, e.onset, e.apex, e.offset))
        )
    dis = synthetic_cfg["distractors"]
    layers += _blink_layers(np.random.default_rng(blink_seed), face, n_frames, fps, dis)
    head = motion.head_track(
        np.random.default_rng(head_seed),
        n_frames,
        float(dis["head_drift_px"]) * to_image,
        float(dis["head_rotation_deg"]),
        face.points[motion.NOSE_TIP],
    )
    tilts = tilt_angles(np.random.default_rng(tilt_seed), n_frames, fps, dis)
    head = dataclasses.replace(head, angle_deg=head.angle_deg + tilts)
    return VideoScript(
        vplan,
        n_frames,
        expressions,
        layers,
        head,
        float(dis["noise_sigma"]),
        float(dis["flicker"]),
        noise_seed,
    )


def write_video(script: VideoScript, face: Face, data_root: Path, log: Log) -> Path:
    """Render and write the frames aside, then rename the folder into place."""
    final = data_root / script.plan.folder
    rng = np.random.default_rng(script.noise_seed)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
    frames = motion.render_frames(
        face.image, script.layers, script.head, script.noise_sigma, script.flicker, rng
    )
    dropped = script.plan.dropped(script.n_frames)
    with atomic_dir(final) as temp:
        for index, frame in enumerate(frames):
            number = script.plan.first_frame + index
            if index in dropped:  # rendered all the same: the other frames stay as they are
                continue
            ok, buf = cv2.imencode(".jpg", frame, params)
            if not ok:
                raise OSError(f"JPEG encoding failed for frame {number} of {script.plan.video}")
            (temp / script.plan.frame_file(number)).write_bytes(buf.tobytes())
            if (index + 1) % LOG_EVERY_FRAMES == 0:
                log(f"{script.plan.video}: {index + 1}/{script.n_frames} frames rendered")
    dropped_text = f", frames {sorted(dropped)} (0-based) dropped" if dropped else ""
    log(f"{script.plan.video}: {script.n_frames} frames written to {final}{dropped_text}")
    return final


def _rows(plan: VideoPlan, expressions: list[Expression]) -> list[dict]:
    """Ground-truth rows in the layout's frame numbers (the trailing integer of the file
    names: first_frame + the 0-based index), with the kinds each expression moves (its
    emotion label derives from them: synthetic.emotions)."""
    from tsmsnet.synthetic.emotions import KIND_SEPARATOR

    first = plan.first_frame
    ordered = sorted(expressions, key=lambda e: e.onset)
    return [
        {
            "subject": plan.subject,
            "video": plan.video,
            "video_name": plan.video_name,
            "expression_number": k,
            "type": e.type,
            "onset": e.onset + first,
            "apex": e.apex + first,
            "offset": e.offset + first,
            "kinds": KIND_SEPARATOR.join(e.kinds),
        }
        for k, e in enumerate(ordered, start=1)
    ]


def planned_rows(synthetic_cfg: dict, preset: dict, seed: int, fps: float) -> pd.DataFrame:
    """Every video's ground-truth rows (kinds included) as generation will write them, from the
    expressions' stream only (no pixels)."""
    rows = []
    for i in range(int(preset["subjects"])):
        for j in range(int(preset["videos_per_subject"])):
            vplan = video_plan(i, j, preset["layout"])
            rng = np.random.default_rng(_video_seeds(seed, i, j)[0])
            placed = place_expressions(
                rng, int(preset["frames"]), fps, synthetic_cfg["expressions"], quiet, vplan.video
            )
            rows += _rows(vplan, placed)
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def generate_subject(
    data_root: str | Path,
    subject_index: int,
    synthetic_cfg: dict,
    preset_name: str,
    seed: int,
    fps: float,
    face_size: int = 128,
    log: Log = quiet,
) -> pd.DataFrame:
    """Write subject i's videos under data_root in the preset's layout; return its ground truth.

    face_size is the aligned-face side the amplitudes are quoted at (preprocess.face_size).
    """
    presets = synthetic_cfg["presets"]
    if preset_name not in presets:
        raise ConfigError(f"unknown synthetic preset '{preset_name}'; known: {', '.join(presets)}")
    preset = presets[preset_name]
    root = Path(data_root)
    face = make_face(seed, subject_index, int(preset["image_size"]), synthetic_cfg["face"])
    rows = []
    for j in range(int(preset["videos_per_subject"])):
        script = plan_video(
            face, subject_index, j, synthetic_cfg, preset, seed, fps, face_size, log
        )
        write_video(script, face, root, log)
        rows += _rows(script.plan, script.expressions)
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def write_ground_truth(
    rows_df: pd.DataFrame,
    layout: str,
    workbook_outs: list,
    csv_out: str | Path,
    emotions_cfg: dict | None = None,
) -> list[Path]:
    """The annotation workbook(s) in the real layout, plus a plain ground-truth CSV.

    `workbook_outs` are where the layout's reader looks (tsmsnet.datasets.annotation_files):
    one workbook, or for CAS(ME)^3 the expressions and the label workbook. `emotions_cfg`
    (config synthetic.emotions) labels each row from its kinds, written where the real dataset
    has its label: CAS(ME)^2 column G, the CAS(ME)^3 label workbook. The SAMM-LV layout writes
    no short-clip workbook, so its rows stay unlabelled.
    """
    from tsmsnet.datasets.workbooks import (
        write_casme2_workbook,
        write_casme3_expressions,
        write_casme3_labels,
        write_samm_workbook,
    )
    from tsmsnet.synthetic.emotions import with_labels

    rows = rows_df.sort_values(["video", "onset"], kind="stable").reset_index(drop=True)
    name = layout_name(layout)
    if emotions_cfg is not None:
        rows = with_labels(rows, emotions_cfg, name)
    if name == CASME2:
        rows = rows.rename(columns={"emotion": "emotion_class"})
        last = max((int(s[1:]) - CASME2_FIRST_SUBJECT for s in rows["subject"]), default=-1)
        folders = [subject_plan(i, CASME2).subject for i in range(last + 1)]
        (out,) = workbook_outs
        atomic_write(out, lambda tmp: write_casme2_workbook(tmp, rows, folders))
    elif name == CASME3:
        letters = rows.assign(video=rows["video_name"])
        expressions, labels = workbook_outs
        atomic_write(expressions, lambda tmp: write_casme3_expressions(tmp, letters))
        atomic_write(labels, lambda tmp: write_casme3_labels(tmp, letters))
    else:
        (out,) = workbook_outs
        atomic_write(out, lambda tmp: write_samm_workbook(tmp, rows))
    atomic_csv(rows[["video", "type", "onset", "apex", "offset"]], csv_out)
    return [Path(p) for p in workbook_outs]
