"""CAS(ME)^2 long videos as distributed: `<frames dir>/sNN/NN_CODEdescription/` + the workbook.

Video id `s15_0101` = subject folder + '_' + the 4-digit code of the video folder, as the MEGC
ground truth names them. Column G of the code sheet is the emotion (negative, positive,
surprise, others), mapped through datasets.casme2.emotions. The workbook's quirks (offset 0,
fractional frames, totals rows, codes saved as numbers) are handled here and logged with
counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from tsmsnet.datasets.frames import VIDEO_SUFFIXES
from tsmsnet.datasets.table import (
    EMOTION_RAW,
    RAW_ANNOTATION_COLUMNS,
    as_log,
    build_tables,
    build_videos,
    data_root_path,
    discovered_frame,
)
from tsmsnet.datasets.workbooks import (
    CASME2_SHEETS,
    as_number,
    find_sheet,
    frame_number,
    is_blank,
    norm,
    open_workbook,
    sheet_rows,
)
from tsmsnet.errors import AnnotationError, ConfigError, InputError

NAME = "casme2"
SUBJECT_DIR = re.compile(r"^s\d+$", re.IGNORECASE)
VIDEO_DIR = re.compile(r"^\d+_(\d{4})")
OFFSET_ZERO_CHOICES = ("apex", "drop")
# The choices that shape the training intervals (recorded in every checkpoint).
TARGET_KEYS = ("offset_zero",)
# Code sheet columns (0-based): subject index, video_expression, onset, apex, offset, emotion
# (column G), type.
COL_SUBJECT, COL_VIDEO, COL_ONSET, COL_APEX, COL_OFFSET = 0, 1, 2, 3, 4
COL_EMOTION, COL_TYPE = 6, 7


def annotation_files(data_root, cfg: dict, present: bool = True) -> list[Path]:
    """The workbook this reader reads (`present=False`: where a generator must write it)."""
    path = Path(data_root) / cfg["workbook"]
    if present and not path.is_file():
        raise AnnotationError(
            f"CAS(ME)^2 workbook {path} not found: copy {cfg['workbook']!r} as distributed "
            "into the data root, or set datasets.casme2.workbook to its name"
        )
    return [path]


def frames_root(root: Path, cfg: dict) -> Path:
    """The first of cfg['frames_dirs'] present in the data root (releases name it differently;
    a copy may hold both the cropped and the raw release)."""
    for name in cfg["frames_dirs"]:
        if (root / name).is_dir():
            return root / name
    raise InputError(
        f"CAS(ME)^2 data root {root} holds none of the frames folders "
        f"{', '.join(cfg['frames_dirs'])}: point data_root at the folder that contains one"
    )


def _scan(base: Path) -> tuple[list[dict], list[str]]:
    """Video rows of the frames folder `base` from folder names only, and the entries that are
    not videos."""
    rows, skipped = [], []
    for subject_dir in sorted(base.iterdir()):
        if not (subject_dir.is_dir() and SUBJECT_DIR.match(subject_dir.name)):
            skipped.append(subject_dir.name)
            continue
        for entry in sorted(subject_dir.iterdir()):
            match = VIDEO_DIR.match(entry.name)
            is_source = entry.is_dir() or entry.suffix.lower() in VIDEO_SUFFIXES
            if match is None or not is_source:
                skipped.append(f"{subject_dir.name}/{entry.name}")
                continue
            video = f"{subject_dir.name}_{match.group(1)}"
            rows.append({"subject": subject_dir.name, "video": video, "source": str(entry)})
    return rows, skipped


def discover_casme2(data_root, cfg: dict) -> pd.DataFrame:
    """DataFrame[subject, video, source] from folder names only (no frames, no workbook)."""
    rows, _ = _scan(frames_root(data_root_path(data_root, NAME), cfg))
    return discovered_frame(rows)


def _origin(path: Path, ws, row: int) -> str:
    return f"{path}, sheet {ws.title!r}, row {row}"


def _subject_folders(ws, path: Path) -> dict[int, str]:
    """`naming rule1`: subject index -> folder, whatever the column order or 15 vs 's15'."""
    pairs: list[tuple[int, object, object]] = []
    for number, values in sheet_rows(ws):
        cells = [v for v in values if not is_blank(v)]
        if len(cells) >= 2 and all(_subject_like(v) for v in cells[:2]):
            pairs.append((number, cells[0], cells[1]))
    if not pairs:
        raise AnnotationError(
            f"{path}, sheet {ws.title!r}: no 'subject index, subject folder' rows found: "
            "use the sheet as distributed (e.g. 1 | s15)"
        )
    # A folder written as 's15' marks its column; for two numbers the folder (15..40) is the
    # column with larger values than the index (1..22).
    if any(_is_folder_text(a) for _, a, _ in pairs):
        first_is_folder = True
    elif any(_is_folder_text(b) for _, _, b in pairs):
        first_is_folder = False
    else:
        first_is_folder = max(_int(a) for _, a, _ in pairs) > max(_int(b) for _, _, b in pairs)
    mapping: dict[int, str] = {}
    for number, a, b in pairs:
        index, folder = (b, a) if first_is_folder else (a, b)
        index = _int(index)
        if index in mapping:
            raise AnnotationError(
                f"{_origin(path, ws, number)}: subject index {index} appears twice: keep one"
            )
        mapping[index] = f"s{_int(folder)}"
    return mapping


def _is_folder_text(value) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"\s*[sS]\d+\s*", value))


def _subject_like(value) -> bool:
    return as_number(value) is not None or _is_folder_text(value)


def _int(value) -> int:
    number = as_number(value)
    return int(number) if number is not None else int(str(value).strip()[1:])


def _video_codes(ws, path: Path) -> dict[str, str]:
    """`naming rule2`: video name -> 4-digit code; a code saved as the number 101 is '0101'."""
    codes: dict[str, str] = {}
    for _, values in sheet_rows(ws):
        names = [v for v in values if isinstance(v, str) and re.search(r"[A-Za-z]", v)]
        numbers = [v for v in values if not isinstance(v, str) or v.strip().isdigit()]
        numbers = [v for v in numbers if as_number(v) is not None]
        if names and numbers:
            codes[norm(names[0])] = str(int(as_number(numbers[0]))).zfill(4)
    if not codes:
        raise AnnotationError(
            f"{path}, sheet {ws.title!r}: no 'video name, code' rows found: "
            "use the sheet as distributed (e.g. disgust1 | 0101)"
        )
    return codes


def _expression_type(value, where: str) -> str:
    text = norm(value) if value is not None else ""
    for kind in ("macro", "micro"):
        if text.startswith(kind):
            return kind
    raise AnnotationError(
        f"{where}: type {value!r} is neither macro-expression nor micro-expression: fix the cell"
    )


def _code_rows(ws, path: Path, subjects: dict, codes: dict, cfg: dict, log) -> pd.DataFrame:
    """Parsed rows of `CASFEcode_final`, quirks applied and logged with counts."""
    offset_zero = cfg["offset_zero"]
    if offset_zero not in OFFSET_ZERO_CHOICES:
        raise ConfigError(f"datasets.casme2.offset_zero must be one of {OFFSET_ZERO_CHOICES}")
    rows, footer, fractional, zero_offsets, texts = [], [], [], [], {}
    for number, values in sheet_rows(ws):
        values = tuple(values) + (None,) * (COL_TYPE + 1 - len(values))
        where = _origin(path, ws, number)
        if as_number(values[COL_SUBJECT]) is None:
            footer.append(number)
            continue
        index = int(as_number(values[COL_SUBJECT]))
        if index not in subjects:
            raise AnnotationError(
                f"{where}: subject index {index} is not in sheet {CASME2_SHEETS['rule1']!r}: "
                "add it there or fix the row"
            )
        name = str(values[COL_VIDEO]).strip().rsplit("_", 1)[0]
        if norm(name) not in codes:
            raise AnnotationError(
                f"{where}: video {values[COL_VIDEO]!r} has no code in sheet "
                f"{CASME2_SHEETS['rule2']!r}: add '{name}' there or fix the row"
            )
        onset, f1 = frame_number(values[COL_ONSET], where, "onset")
        apex, f2 = frame_number(values[COL_APEX], where, "apex")
        offset, f3 = frame_number(values[COL_OFFSET], where, "offset")
        if f1 or f2 or f3:
            fractional.append(number)
        kind = _expression_type(values[COL_TYPE], where)
        texts[str(values[COL_TYPE])] = texts.get(str(values[COL_TYPE]), 0) + 1
        if offset == 0:
            zero_offsets.append(number)
            if offset_zero == "drop":
                continue
            offset = apex
        video = f"{subjects[index]}_{codes[norm(name)]}"
        emotion = "" if is_blank(values[COL_EMOTION]) else str(values[COL_EMOTION]).strip()
        rows.append([video, kind, onset, apex, offset, where, emotion])
    if footer:
        log(f"{NAME}: skipped {len(footer)} row(s) without a subject index (totals): {footer}")
    if fractional:
        log(f"{NAME}: {len(fractional)} row(s) with fractional frames rounded down: {fractional}")
    if zero_offsets:
        what = "dropped" if offset_zero == "drop" else "offset set to the apex"
        log(
            f"{NAME}: {len(zero_offsets)} row(s) with offset 0 (unknown), {what} "
            f"(offset_zero={offset_zero}): {zero_offsets}"
        )
    log(f"{NAME}: type texts read: " + ", ".join(f"{t!r} x{n}" for t, n in texts.items()))
    return pd.DataFrame(rows, columns=[*RAW_ANNOTATION_COLUMNS, EMOTION_RAW])


def read_casme2(data_root, cfg: dict, log=print) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(videos, annotations) tables (datasets.table) from the frames and the workbook."""
    log = as_log(log)
    root = data_root_path(data_root, NAME)
    base = frames_root(root, cfg)
    unused = [n for n in cfg["frames_dirs"] if n != base.name and (root / n).is_dir()]
    log(
        f"{NAME}: frames from {base}"
        + (f" (also present, not used: {', '.join(unused)})" if unused else "")
    )
    found, skipped = _scan(base)
    if skipped:
        log(f"{NAME}: ignored {len(skipped)} entries that are not video folders: {skipped}")
    discovered = discovered_frame(found)
    (path,) = annotation_files(root, cfg)
    wb = open_workbook(path)
    subjects = _subject_folders(find_sheet(wb, CASME2_SHEETS["rule1"], path), path)
    # The workbook may write 'S15' for the folder 's15': ids follow the folder on disk.
    on_disk = {s.lower(): s for s in discovered["subject"]}
    subjects = {i: on_disk.get(f.lower(), f) for i, f in subjects.items()}
    codes = _video_codes(find_sheet(wb, CASME2_SHEETS["rule2"], path), path)
    raw = _code_rows(find_sheet(wb, CASME2_SHEETS["code"], path), path, subjects, codes, cfg, log)
    videos = build_videos(discovered, cfg["fps"])
    return build_tables(videos, raw, log, NAME, cfg.get("emotions"))
