"""CAS(ME)^3 Part A long videos as distributed: `<root>/<prefix...>/spNO.1/a/color/8.jpg` and
two annotation workbooks.

Video id `spNO.1_a` = subject folder + '_' + the video letter (case-folded: the workbooks
write `J` for `j`), subject `spNO.1`. This release drops frames: with frame_gaps=fill a missing
frame number reads the nearest earlier frame, so the store index is the frame number minus the
first frame everywhere, and the filled frames are logged per video. The expressions workbook
(.xls, sheet `AU+Emotion`, every type, no emotion) gives the intervals; the micro-expression
label workbook (JpgIndex, sheet `label`) gives each micro-expression's emotion, joined onto
the expressions workbook's micro rows, whose frame numbers are kept (the label file has typos).
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd

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
    CASME3_SHEETS,
    expression_type,
    find_one,
    frame_number,
    header_columns,
    is_blank,
    read_sheet,
)
from tsmsnet.errors import AnnotationError, ConfigError, InputError

# How the type column spells the two types (for errors).
TYPE_SPELLING = "Macro-expression nor Micro-expression"
NAME = "casme3"
SUBJECT_DIR = re.compile(r"^spNO\.\d+$", re.IGNORECASE)
VIDEO_DIR = re.compile(r"^[A-Za-z]$")
COLOR_DIR = "color"
# Folder levels below data_root searched for the one holding the spNO.* subject folders
# (releases put data/part_A_split/part_A/ or another prefix above them).
MAX_PREFIX_DEPTH = 4
FRAME_GAPS_CHOICES = ("fill", "error")
TRAIN_ONSET_ZERO_CHOICES = ("apex", "keep")
# The choices that shape the training intervals (recorded in every checkpoint).
TARGET_KEYS = ("train_onset_zero",)
UNKNOWN_ONSET = 0
# The files as released (what the globs must match for a generator to write them).
RELEASE_EXPRESSIONS = "CAS(ME)3_part_A_v2.xlsx"
RELEASE_LABELS = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
# Header cells (normalised) -> our field, per workbook.
EXPRESSION_FIELDS = {
    "subject": ("subject",),
    "filename": ("filename",),
    "onset": ("onset",),
    "apex": ("apex",),
    "offset": ("offset",),
    "type": ("expressiontype", "type"),
}
LABEL_FIELDS = {
    "subject": ("subject",),
    "filename": ("filename",),
    "onset": ("onset",),
    "apex": ("apex",),
    "offset": ("offset",),
    "emotion": ("emotion",),
}
# Emotion join of a label row onto a micro row of the same subject and video: all three frame
# numbers equal, else two of them, each pairing taken only where it is the one candidate on
# both sides (a typo in one number of the label file is resolved from the expressions file).
JOIN_KEYS = (
    ("onset", "apex", "offset"),
    ("onset", "offset"),
    ("onset", "apex"),
    ("apex", "offset"),
)
FRAME_FIELDS = ("onset", "apex", "offset")


def _check_choices(cfg: dict) -> None:
    if cfg["frame_gaps"] not in FRAME_GAPS_CHOICES:
        raise ConfigError(f"datasets.casme3.frame_gaps must be one of {FRAME_GAPS_CHOICES}")
    if cfg["train_onset_zero"] not in TRAIN_ONSET_ZERO_CHOICES:
        raise ConfigError(
            f"datasets.casme3.train_onset_zero must be one of {TRAIN_ONSET_ZERO_CHOICES}"
        )


# ---- frames -------------------------------------------------------------------------------


def _holds_subjects(folder: Path) -> bool:
    return any(d.is_dir() and SUBJECT_DIR.match(d.name) for d in folder.iterdir())


def subjects_root(root: Path) -> Path:
    """The folder holding the spNO.* subject folders: `root` or the one below it, at most
    MAX_PREFIX_DEPTH levels down, that does (the shallowest; two at one level are an error)."""
    level = [root]
    for _ in range(MAX_PREFIX_DEPTH + 1):
        holding = [folder for folder in level if _holds_subjects(folder)]
        if len(holding) > 1:
            raise InputError(
                f"CAS(ME)^3 data root {root}: several folders hold spNO.* subject folders "
                f"({', '.join(str(f) for f in holding)}): point data_root at one of them"
            )
        if holding:
            return holding[0]
        level = [
            child
            for folder in level
            for child in sorted(folder.iterdir())
            if child.is_dir() and not child.name.startswith(".")
        ]
    raise InputError(
        f"CAS(ME)^3 data root {root}: no folder within {MAX_PREFIX_DEPTH} levels holds spNO.* "
        "subject folders (spNO.1/a/color/8.jpg): point data_root at the Part A folder"
    )


def _scan(base: Path) -> tuple[list[dict], list[str]]:
    """Video rows (source: the video's color/ folder) from folder names only, and the entries
    that are not videos (hidden ones left out)."""
    rows, skipped = [], []
    for subject_dir in sorted(base.iterdir()):
        if subject_dir.name.startswith("."):
            continue
        if not (subject_dir.is_dir() and SUBJECT_DIR.match(subject_dir.name)):
            skipped.append(subject_dir.name)
            continue
        for entry in sorted(subject_dir.iterdir()):
            if entry.name.startswith("."):
                continue
            color = entry / COLOR_DIR
            if not (entry.is_dir() and VIDEO_DIR.match(entry.name) and color.is_dir()):
                skipped.append(f"{subject_dir.name}/{entry.name}")
                continue
            video = f"{subject_dir.name}_{entry.name.lower()}"
            rows.append({"subject": subject_dir.name, "video": video, "source": str(color)})
    return rows, skipped


def discover_casme3(data_root, cfg: dict) -> pd.DataFrame:
    """DataFrame[subject, video, source] from folder names only (no frames, no workbook)."""
    rows, _ = _scan(subjects_root(data_root_path(data_root, NAME)))
    return discovered_frame(rows)


# ---- annotation files -----------------------------------------------------------------------


def _files(root: Path, cfg: dict) -> tuple[Path, Path | None]:
    """(expressions workbook, label workbook or None) found by their globs in `root`."""
    expressions = find_one(
        root, cfg["annotation_glob"], "expressions workbook", "datasets.casme3.annotation_glob"
    )
    if expressions is None:
        raise AnnotationError(
            f"no CAS(ME)^3 expressions workbook matching {cfg['annotation_glob']!r} in {root}: "
            "copy CAS(ME)3_part_A_v2.xls there or set datasets.casme3.annotation_glob"
        )
    labels = find_one(root, cfg["emotion_glob"], "label workbook", "datasets.casme3.emotion_glob")
    return expressions, labels


def annotation_files(data_root, cfg: dict, present: bool = True) -> list[Path]:
    """The workbooks this reader reads: expressions, then the labels where present
    (`present=False`: where a generator must write both)."""
    root = Path(data_root)
    if present:
        expressions, labels = _files(root, cfg)
        return [expressions] + ([labels] if labels is not None else [])
    for name, key in ((RELEASE_EXPRESSIONS, "annotation_glob"), (RELEASE_LABELS, "emotion_glob")):
        if not fnmatch.fnmatch(name, cfg[key]):
            raise ConfigError(
                f"datasets.casme3.{key} {cfg[key]!r} does not match {name}, the name the "
                "synthetic CAS(ME)^3 layout writes: widen the glob"
            )
    return [root / RELEASE_EXPRESSIONS, root / RELEASE_LABELS]


# ---- workbook rows --------------------------------------------------------------------------


def _header(path: Path, title: str, rows: list, fields: dict) -> tuple[int, dict[str, int]]:
    """(header row, field -> column) found by its cells, not assumed on row 1."""
    for number, values in rows:
        where = f"{path}, sheet {title!r}, header row {number}"
        columns = header_columns(values, {"subject", "filename", "onset"}, fields, where)
        if columns is None:
            continue
        return number, columns
    raise AnnotationError(
        f"{path}, sheet {title!r}: no header row with Subject, Filename, Onset: "
        "use the workbook as distributed"
    )


def _rows(path: Path, sheet: str, fields: dict, log) -> list[dict]:
    """Rows of `sheet` as {field: text or frame number, 'where': file, sheet, row}; cells cast
    from text, names case-folded; rows without a Filename skipped and logged."""
    title, rows = read_sheet(path, sheet)
    header_row, col = _header(path, title, rows, fields)
    width = max(col.values()) + 1
    parsed, blank, fractional = [], [], []
    for number, values in rows:
        if number <= header_row:
            continue
        values = tuple(values) + (None,) * (width - len(values))
        where = f"{path}, sheet {title!r}, row {number}"
        if is_blank(values[col["filename"]]) or is_blank(values[col["subject"]]):
            blank.append(number)
            continue
        row = {"where": where, "subject": str(values[col["subject"]]).strip()}
        row["letter"] = str(values[col["filename"]]).strip().lower()
        if not VIDEO_DIR.match(row["letter"]):
            raise AnnotationError(
                f"{where}: Filename {values[col['filename']]!r} is not a video letter "
                "(a..m): fix the cell"
            )
        rounded = False
        for field in FRAME_FIELDS:
            row[field], was = frame_number(values[col[field]], where, field)
            rounded |= was
        if rounded:
            fractional.append(number)
        if "type" in col:
            row["type"] = expression_type(values[col["type"]], where, TYPE_SPELLING)
        if "emotion" in col:
            emotion = values[col["emotion"]]
            row["emotion_raw"] = "" if is_blank(emotion) else str(emotion).strip()
        parsed.append(row)
    if blank:
        log(
            f"{NAME}: {path.name}: skipped {len(blank)} row(s) without Subject or Filename: {blank}"
        )
    if fractional:
        log(
            f"{NAME}: {path.name}: {len(fractional)} row(s) with fractional frames rounded "
            f"down: {fractional}"
        )
    return parsed


def join_emotions(micro: list[dict], labels: list[dict], log) -> None:
    """Set `emotion_raw` (and `label_where`) of each micro row from its label row (JOIN_KEYS
    in order); log each pairing that resolved a differing frame number and the rows of either
    side left unjoined."""
    left = list(range(len(micro)))
    free = set(range(len(labels)))
    joined: dict[int, int] = {}
    for n, key in enumerate(JOIN_KEYS):
        by_key: dict[tuple, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i in left:
            by_key[_join_key(micro[i], key)][0].append(i)
        for j in sorted(free):
            if _join_key(labels[j], key) in by_key:
                by_key[_join_key(labels[j], key)][1].append(j)
        for rows, label_rows in by_key.values():
            if n and not len(rows) == len(label_rows) == 1:
                continue  # a partial key must name one row on each side
            for i, j in zip(rows, label_rows, strict=False):
                joined[i] = j
                free.discard(j)
                _log_resolved(micro[i], labels[j], key, log)
        left = [i for i in left if i not in joined]
    for i, j in joined.items():
        micro[i]["emotion_raw"] = labels[j]["emotion_raw"]
        micro[i]["label_where"] = labels[j]["where"]
    if left:
        log(
            f"{NAME}: {len(left)} micro-expression row(s) join no label row (emotion left "
            "empty): " + "; ".join(micro[i]["where"] for i in left)
        )
    if free:
        log(
            f"{NAME}: {len(free)} label row(s) join no micro-expression row (ignored): "
            + "; ".join(labels[j]["where"] for j in sorted(free))
        )


def _join_key(row: dict, key: tuple[str, ...]) -> tuple:
    return (row["subject"].lower(), row["letter"], *(row[field] for field in key))


def _log_resolved(row: dict, label: dict, key: tuple[str, ...], log) -> None:
    differ = [f for f in FRAME_FIELDS if row[f] != label[f]]
    if differ:
        changes = ", ".join(f"{f} {label[f]} (expressions workbook: {row[f]})" for f in differ)
        log(
            f"{NAME}: {label['where']} joined on {'+'.join(key)} to {row['where']}: its "
            f"{changes}; the expressions workbook's frame numbers are kept"
        )


def _annotation_rows(root: Path, cfg: dict, on_disk: dict[str, str], log) -> pd.DataFrame:
    """Parsed expression rows with training interval and emotion, quirks logged."""
    expressions_path, labels_path = _files(root, cfg)
    rows = _rows(expressions_path, CASME3_SHEETS["expressions"], EXPRESSION_FIELDS, log)
    micro = [row for row in rows if row["type"] == "micro"]
    for row in rows:
        row["emotion_raw"] = ""
    if labels_path is None:
        log(
            f"{NAME}: no label workbook matching {cfg['emotion_glob']!r} in {root}: the "
            f"{len(micro)} micro-expressions have no emotion (spot-then-recognise needs it: copy "
            f"{RELEASE_LABELS} there or set datasets.casme3.emotion_glob)"
        )
    else:
        labels = _rows(labels_path, CASME3_SHEETS["emotions"], LABEL_FIELDS, log)
        join_emotions(micro, labels, log)
    zero_onsets, table = [], []
    for row in rows:
        train_onset = row["onset"]
        if row["onset"] == UNKNOWN_ONSET:
            zero_onsets.append(
                f"{row['subject']} {row['letter']} ({row['where'].rsplit(', ', 1)[-1]})"
            )
            if cfg["train_onset_zero"] == "apex":
                train_onset = row["apex"]
        subject = on_disk.get(row["subject"].lower(), row["subject"])
        video = f"{subject}_{row['letter']}"
        table.append(
            [video, row["type"], row["onset"], row["apex"], row["offset"], row["where"]]
            + [train_onset, row["offset"], row["emotion_raw"], row.get("label_where", "")]
        )
    if zero_onsets:
        log(
            f"{NAME}: {len(zero_onsets)} row(s) with onset 0, scored as written, training "
            f"onset train_onset_zero={cfg['train_onset_zero']}: {zero_onsets}"
        )
    return pd.DataFrame(
        table, columns=[*RAW_ANNOTATION_COLUMNS, *TRAIN_COLUMNS, EMOTION_RAW, EMOTION_ORIGIN]
    )


# ---- the reader -----------------------------------------------------------------------------


def _log_frames(annotations: pd.DataFrame, videos: pd.DataFrame, missing: dict, log) -> None:
    """Filled frames per video, and the expressions that cross them or start before the
    video's first frame (all kept)."""
    filled = {video: len(numbers) for video, numbers in missing.items() if numbers}
    if filled:
        log(
            f"{NAME}: filled {sum(filled.values())} missing frame(s) from the frame before in "
            f"{len(filled)} of {len(videos)} videos: "
            + ", ".join(f"{video} {n}" for video, n in filled.items())
        )
    crossing = early = 0
    for video, onset, offset, first in annotations[
        ["video", "onset", "offset", "first_frame"]
    ].itertuples(index=False):
        numbers = missing.get(video, [])  # ascending
        at = bisect.bisect_left(numbers, onset)
        crossing += at < len(numbers) and numbers[at] <= offset
        early += onset < first
    if crossing:
        log(f"{NAME}: {crossing} expression(s) span filled frames (kept)")
    if early:
        log(f"{NAME}: {early} expression(s) start before their video's first frame (kept)")


def read_casme3(data_root, cfg: dict, log=print) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(videos, annotations) tables (datasets.table) from the frames and both workbooks."""
    log = as_log(log)
    _check_choices(cfg)
    root = data_root_path(data_root, NAME)
    base = subjects_root(root)
    log(f"{NAME}: subject folders in {base}")
    found, skipped = _scan(base)
    if skipped:
        log(f"{NAME}: ignored {len(skipped)} entries that are not video folders: {skipped}")
    discovered = discovered_frame(found)
    # The workbooks may write 'SPNO.1' for the folder 'spNO.1': ids follow the folder on disk.
    on_disk = {s.lower(): s for s in discovered["subject"]}
    raw = _annotation_rows(root, cfg, on_disk, log)
    missing: dict[str, list[int]] = {}
    fill = cfg["frame_gaps"] == "fill"
    videos = build_videos(discovered, cfg["fps"], fill_gaps=fill, missing=missing)
    videos, annotations = build_tables(videos, raw, log, NAME, cfg.get("emotions"))
    _log_frames(annotations, videos, missing, log)
    return videos, annotations
