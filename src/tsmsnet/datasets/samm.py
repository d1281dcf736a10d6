"""SAMM Long Videos as distributed: `<root>/006_1/006_1_0001.jpg` + the release workbook.

Video id = the folder name (`006_1`), subject = the part before the first '_' (`006`), as the
MEGC ground truth names them. Unknown onsets (0) and missing apexes (-1) follow documented
config choices; fractional onsets are rounded down; each is logged with counts. An unknown
onset has two choices: `onset_zero` for the interval scored (the challenge kept 0) and
`train_onset_zero` for the training targets (upstream trained on apex..offset; 0..offset
would mark thousands of frames before the expression positive).

The long-video workbook has no emotion: `Estimated Emotion` comes from SAMM's short-clip
workbook (datasets.samm_lv.clip_workbook), joined on Filename (006_1_2) and type; only the
emotion is taken (its frames are the short clips'). Without that workbook spotting runs and
the emotions stay empty (spot-then-recognise needs them).
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pandas as pd

from tsmsnet.datasets.frames import VIDEO_SUFFIXES
from tsmsnet.datasets.table import (
    EMOTION_ORIGIN,
    EMOTION_RAW,
    RAW_ANNOTATION_COLUMNS,
    TRAIN_COLUMNS,
    as_log,
    build_tables,
    build_videos,
    data_root_path,
    discovered_frame,
)
from tsmsnet.datasets.workbooks import (
    expression_type,
    frame_number,
    header_columns,
    is_blank,
    open_workbook,
    sheet_rows,
)
from tsmsnet.errors import AnnotationError, ConfigError

# How the type column spells the two types (for errors).
TYPE_SPELLING = "Macro nor Micro"
NAME = "samm_lv"
VIDEO_NAME = re.compile(r"^\d+_\d+$")
ONSET_ZERO_CHOICES = ("keep", "apex")
TRAIN_ONSET_ZERO_CHOICES = ("apex", "keep")
# The choices that shape the training intervals (recorded in every checkpoint).
TARGET_KEYS = ("train_onset_zero", "apex_missing")
APEX_MISSING_CHOICES = ("midpoint", "keep")
# Header cells (normalised) -> our field; the first matching spelling wins.
HEADER_FIELDS = {
    "filename": ("filename",),
    "onset": ("onset", "onsetframe"),
    "apex": ("apexframe", "apex"),
    "offset": ("offset", "offsetframe"),
    "type": ("type",),
}
HEADER_MARKERS = {"subject", "filename", "onset", "offset"}
# The short-clip workbook's header (normalised cells), found by these names on whatever row
# (a preamble comes first); its type column is headed `Micro`.
CLIP_FIELDS = {
    "filename": ("filename",),
    "type": ("micro", "type"),
    "emotion": ("estimatedemotion",),
}
CLIP_MARKERS = {"filename", "estimatedemotion"}
UNKNOWN_ONSET, MISSING_APEX = 0, -1
# The workbook's name in the release (any name matching datasets.samm_lv.workbook_glob works).
RELEASE_WORKBOOK = "SAMM_LongVideos_V3_Release.xlsx"
# The short-clip workbook's name as SAMM distributes it (datasets.samm_lv.clip_workbook).
CLIP_RELEASE_WORKBOOK = "SAMM_Micro_FACS_Codes_v2.xlsx"


def _scan(root: Path) -> tuple[list[dict], list[str]]:
    """Video rows from folder (or video file) names only, and folders that are not videos."""
    rows, skipped = [], []
    for entry in sorted(root.iterdir()):
        is_file_video = entry.is_file() and entry.suffix.lower() in VIDEO_SUFFIXES
        name = entry.stem if is_file_video else entry.name
        if (entry.is_dir() or is_file_video) and VIDEO_NAME.match(name):
            rows.append({"subject": name.split("_")[0], "video": name, "source": str(entry)})
        elif entry.is_dir():
            skipped.append(entry.name)
    return rows, skipped


def discover_samm(data_root, cfg: dict) -> pd.DataFrame:
    """DataFrame[subject, video, source] from folder names only (no frames, no workbook)."""
    rows, _ = _scan(data_root_path(data_root, NAME))
    return discovered_frame(rows)


def _matching(root: Path, pattern: str, exclude: str | None = None) -> list[Path]:
    """Files matching the glob, Excel's ~$ lock files and `exclude` matches left out."""
    return sorted(
        p
        for p in root.glob(pattern)
        if p.is_file()
        and not p.name.startswith("~$")
        and not (exclude and fnmatch.fnmatch(p.name, exclude))
    )


def _one(found: list[Path], root: Path, pattern: str, key: str) -> Path:
    if len(found) > 1:
        raise AnnotationError(
            f"several workbooks match {pattern!r} in {root}: "
            f"{', '.join(p.name for p in found)}; set datasets.samm_lv.{key} to one"
        )
    return found[0]


def find_workbook(root: Path, pattern: str, exclude: str | None = None) -> Path:
    """The one long-video workbook matching the glob (Excel's ~$ lock files and files matching
    `exclude`, the clip workbook's glob, ignored: both sit in the data root)."""
    found = _matching(root, pattern, exclude)
    if not found:
        raise AnnotationError(
            f"no SAMM workbook matching {pattern!r} in {root}: copy "
            f"{RELEASE_WORKBOOK} there or set datasets.samm_lv.workbook_glob"
        )
    return _one(found, root, pattern, "workbook_glob")


def find_clip_workbook(root: Path, cfg: dict) -> Path | None:
    """SAMM's short-clip workbook (the emotions) matching datasets.samm_lv.clip_workbook, or
    None when the data root has none (spotting does not need it)."""
    pattern = cfg["clip_workbook"]
    found = _matching(root, pattern)
    return _one(found, root, pattern, "clip_workbook") if found else None


def annotation_files(data_root, cfg: dict, present: bool = True) -> list[Path]:
    """The workbooks this reader reads: the long-video one, then the short-clip one when
    present (`present=False`: where a generator must write the long-video workbook)."""
    root = Path(data_root)
    if present:
        clip = find_clip_workbook(root, cfg)
        return [find_workbook(root, cfg["workbook_glob"], cfg["clip_workbook"])] + (
            [clip] if clip else []
        )
    if not fnmatch.fnmatch(RELEASE_WORKBOOK, cfg["workbook_glob"]):
        raise ConfigError(
            f"datasets.samm_lv.workbook_glob {cfg['workbook_glob']!r} does not match "
            f"{RELEASE_WORKBOOK}, the name the synthetic SAMM layout writes: widen the glob"
        )
    return [root / RELEASE_WORKBOOK]


def _header(wb, path: Path, markers=HEADER_MARKERS, fields=HEADER_FIELDS):
    """(sheet, header row number, field -> column) found by its cells, not assumed on row 1."""
    for ws in wb.worksheets:
        for number, values in sheet_rows(ws):
            where = f"{path}, sheet {ws.title!r}, header row {number}"
            columns = header_columns(values, markers, fields, where)
            if columns is None:
                continue
            return ws, number, columns
    raise AnnotationError(
        f"{path}: no sheet has a header row with {', '.join(sorted(markers))} (compared "
        "case-, space- and punctuation-insensitively): use the SAMM workbook as distributed"
    )


def _check_choices(cfg: dict) -> None:
    if cfg["onset_zero"] not in ONSET_ZERO_CHOICES:
        raise ConfigError(f"datasets.samm_lv.onset_zero must be one of {ONSET_ZERO_CHOICES}")
    if cfg["train_onset_zero"] not in TRAIN_ONSET_ZERO_CHOICES:
        raise ConfigError(
            f"datasets.samm_lv.train_onset_zero must be one of {TRAIN_ONSET_ZERO_CHOICES}"
        )
    if cfg["apex_missing"] not in APEX_MISSING_CHOICES:
        raise ConfigError(f"datasets.samm_lv.apex_missing must be one of {APEX_MISSING_CHOICES}")


def _rows(wb, path: Path, cfg: dict, log) -> pd.DataFrame:
    """Parsed expression rows with their training interval; apex_missing is applied before
    onset_zero and train_onset_zero (which may use the apex)."""
    _check_choices(cfg)
    ws, header_row, col = _header(wb, path)
    log(f"{NAME}: {path.name}: header found on sheet {ws.title!r}, row {header_row}")
    rows, blank, fractional, zero_onsets, no_apex = [], [], [], [], []
    width = max(col.values()) + 1
    for number, values in sheet_rows(ws):
        if number <= header_row:
            continue
        values = tuple(values) + (None,) * (width - len(values))
        where = f"{path}, sheet {ws.title!r}, row {number}"
        filename = values[col["filename"]]
        if is_blank(filename):
            blank.append(number)
            continue
        filename = str(filename).strip()
        if "_" not in filename:
            raise AnnotationError(
                f"{where}: Filename {filename!r} is not <video>_<n> (e.g. 006_1_1): fix the cell"
            )
        onset, f1 = frame_number(values[col["onset"]], where, "onset")
        apex, f2 = frame_number(values[col["apex"]], where, "apex")
        offset, f3 = frame_number(values[col["offset"]], where, "offset")
        if f1 or f2 or f3:
            fractional.append(number)
        kind = expression_type(values[col["type"]], where, TYPE_SPELLING)
        if apex == MISSING_APEX:
            no_apex.append(number)
            if cfg["apex_missing"] == "midpoint":
                apex = (onset + offset) // 2
        train_onset = onset
        if onset == UNKNOWN_ONSET:
            zero_onsets.append(number)
            if cfg["onset_zero"] == "apex":
                onset = apex
            if cfg["train_onset_zero"] == "apex":
                train_onset = apex
        video = filename.rsplit("_", 1)[0]
        rows.append([video, kind, onset, apex, offset, where, train_onset, offset, filename])
    if blank:
        log(f"{NAME}: skipped {len(blank)} row(s) without a Filename: {blank}")
    if fractional:
        log(f"{NAME}: {len(fractional)} row(s) with fractional frames rounded down: {fractional}")
    if no_apex:
        log(
            f"{NAME}: {len(no_apex)} row(s) with apex -1 (no apex), "
            f"apex_missing={cfg['apex_missing']}: {no_apex}"
        )
    if zero_onsets:
        log(
            f"{NAME}: {len(zero_onsets)} row(s) with onset 0 (unknown), "
            f"onset_zero={cfg['onset_zero']}, train_onset_zero={cfg['train_onset_zero']}: "
            f"{zero_onsets}"
        )
    return pd.DataFrame(rows, columns=[*RAW_ANNOTATION_COLUMNS, *TRAIN_COLUMNS, "filename"])


def clip_emotions(path: Path, log) -> dict[tuple[str, str], tuple[str, str]]:
    """(Filename, type) -> (`Estimated Emotion`, where) of the short-clip workbook; its frame
    numbers are the short clips', not the long videos': not read."""
    ws, header_row, col = _header(open_workbook(path), path, CLIP_MARKERS, CLIP_FIELDS)
    log(f"{NAME}: {path.name}: clip header found on sheet {ws.title!r}, row {header_row}")
    emotions: dict[tuple[str, str], tuple[str, str]] = {}
    width = max(col.values()) + 1
    for number, values in sheet_rows(ws):
        if number <= header_row:
            continue
        values = tuple(values) + (None,) * (width - len(values))
        if is_blank(values[col["filename"]]):
            continue
        where = f"{path}, sheet {ws.title!r}, row {number}"
        key = (
            str(values[col["filename"]]).strip(),
            expression_type(values[col["type"]], where, TYPE_SPELLING),
        )
        cell = values[col["emotion"]]
        emotion = "" if is_blank(cell) else str(cell).strip()
        if key in emotions and emotions[key][0] != emotion:
            raise AnnotationError(
                f"{where}: {key[0]} ({key[1]}) has emotion {emotion!r} here and "
                f"{emotions[key][0]!r} at {emotions[key][1]}: keep one row"
            )
        emotions[key] = (emotion, where)
    return emotions


def join_emotions(raw: pd.DataFrame, clip: Path | None, cfg: dict, root: Path, log) -> pd.DataFrame:
    """`raw` with EMOTION_RAW (and EMOTION_ORIGIN, the clip row) from the clip workbook, ""
    where a row does not join (logged)."""
    raw = raw.copy()
    if clip is None:
        raw[EMOTION_RAW] = ""
        log(
            f"{NAME}: no clip workbook matching {cfg['clip_workbook']!r} in {root}: emotions "
            f"left empty. Spotting runs; spot-then-recognise (STR) needs SAMM's short-clip "
            f"workbook ({CLIP_RELEASE_WORKBOOK}, its Estimated Emotion column) there"
        )
        return raw.drop(columns=["filename"])
    emotions = clip_emotions(clip, log)
    found = [emotions.get(key, ("", "")) for key in zip(raw["filename"], raw["type"], strict=True)]
    raw[EMOTION_RAW] = [emotion for emotion, _ in found]
    raw[EMOTION_ORIGIN] = [where for _, where in found]
    joined = raw[EMOTION_RAW].ne("")
    summary = ", ".join(
        f"{kind} {int(joined[raw['type'] == kind].sum())}/{int((raw['type'] == kind).sum())}"
        for kind in sorted(set(raw["type"]))
    )
    log(f"{NAME}: Estimated Emotion from {clip.name} joined on Filename and type: {summary}")
    # Rows of a type the clip workbook holds (its micro-expressions) should all join: list
    # those that do not; the other types only count in the summary above.
    clip_types = {kind for _, kind in emotions}
    missing = raw.loc[~joined & raw["type"].isin(clip_types), ["filename", "type"]]
    if len(missing):
        shown = ", ".join(f"{f} ({t})" for f, t in missing.head(10).itertuples(index=False))
        log(
            f"{NAME}: {len(missing)} row(s) of a type the clip workbook holds without an "
            f"emotion there (left empty): {shown}" + (" ..." if len(missing) > 10 else "")
        )
    return raw.drop(columns=["filename"])


def read_samm(data_root, cfg: dict, log=print) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(videos, annotations) tables (datasets.table) from the frames and the workbook."""
    log = as_log(log)
    root = data_root_path(data_root, NAME)
    found, skipped = _scan(root)
    if skipped:
        log(f"{NAME}: ignored {len(skipped)} folder(s) not named like 006_1: {skipped}")
    discovered = discovered_frame(found)
    path = find_workbook(root, cfg["workbook_glob"], cfg["clip_workbook"])
    raw = _rows(open_workbook(path), path, cfg, log)
    raw = join_emotions(raw, find_clip_workbook(root, cfg), cfg, root, log)
    videos = build_videos(discovered, cfg["fps"])
    return build_tables(videos, raw, log, NAME, cfg.get("emotions"))
