"""Annotation workbooks in the real CAS(ME)^2 and SAMM-LV layouts: writers and cell helpers.

The synthetic generator and the tests write workbooks exactly as the datasets ship them, so
the real readers run end to end on them; the small read helpers live here next to the layout.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd

from tsmsnet.errors import AnnotationError

# CAS(ME)^2 `naming rule2`: video name -> 4-digit code used in the frame folder names, in the
# order of the real workbook.
CASME2_VIDEO_CODES = {
    "disgust1": "0101",
    "disgust2": "0102",
    "anger1": "0401",
    "anger2": "0402",
    "happy1": "0502",
    "happy2": "0503",
    "happy3": "0505",
    "happy4": "0507",
    "happy5": "0508",
}
CASME2_SHEETS = {"code": "CASFEcode_final", "rule1": "naming rule1", "rule2": "naming rule2"}
CASME2_TYPE_TEXT = {"macro": "macro-expression", "micro": "micro-expression"}
SAMM_HEADER = [
    "Subject",
    "Filename",
    "Inducement Code",
    "Onset",
    "Apex Frame",
    "Offset",
    "Duration",
    "Type",
    "Action Units",
    "Notes",
]
SAMM_TYPE_TEXT = {"macro": "Macro", "micro": "Micro - 1/2"}
SAMM_TITLE = "SAMM Long Videos: macro- and micro-expression annotations"
# Document and zip-entry times of the workbooks we write (openpyxl would stamp "now"), so the
# same rows always give the same bytes.
FIXED_TIME = datetime.datetime(2021, 1, 1)


# ---- writers ------------------------------------------------------------------------------


def save_reproducible(wb: openpyxl.Workbook, path: str | Path) -> None:
    """`wb.save(path)` with fixed times inside, so that equal content gives equal bytes."""
    from openpyxl.xml.constants import ARC_CORE
    from openpyxl.xml.functions import tostring

    buffer = io.BytesIO()
    wb.save(buffer)
    wb.properties.created = wb.properties.modified = FIXED_TIME
    core = tostring(wb.properties.to_tree())
    stamp = FIXED_TIME.timetuple()[:6]
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, core if info.filename == ARC_CORE else src.read(info))


def _cell(value):
    """Plain Python value for openpyxl (numpy scalars become int/float)."""
    return value.item() if hasattr(value, "item") else value


def _duration(row):
    return _cell(row.offset) - _cell(row.onset) + 1


def write_casme2_workbook(path: str | Path, rows: pd.DataFrame, subject_folders: list[str]) -> None:
    """CAS(ME)^2code_final.xlsx as distributed: headerless code sheet, a totals footer, and
    the two naming-rule sheets (subject index -> folder, video name -> code stored as text).

    rows: subject (folder, e.g. 's15'), video_name ('disgust1'), expression_number, onset,
    apex, offset, type ('macro'|'micro'). Subject index i is subject_folders[i - 1].
    """
    index_of = {folder: i for i, folder in enumerate(subject_folders, start=1)}
    wb = openpyxl.Workbook()
    code = wb.active
    code.title = CASME2_SHEETS["code"]
    for row in rows.itertuples(index=False):
        if row.subject not in index_of:
            raise ValueError(f"subject {row.subject!r} is not in subject_folders")
        if row.video_name not in CASME2_VIDEO_CODES:
            raise ValueError(f"video name {row.video_name!r} is not in CASME2_VIDEO_CODES")
        code.append(
            [
                index_of[row.subject],
                f"{row.video_name}_{row.expression_number}",
                _cell(row.onset),
                _cell(row.apex),
                _cell(row.offset),
                getattr(row, "action_units", ""),
                getattr(row, "emotion_class", "others"),
                CASME2_TYPE_TEXT[row.type],
                getattr(row, "emotion", ""),
                _duration(row),
            ]
        )
    code.append(["total", len(rows)])
    rule1 = wb.create_sheet(CASME2_SHEETS["rule1"])
    for i, folder in enumerate(subject_folders, start=1):
        rule1.append([i, folder])
    rule2 = wb.create_sheet(CASME2_SHEETS["rule2"])
    for name, number in CASME2_VIDEO_CODES.items():
        rule2.append([name, number])
        rule2.cell(rule2.max_row, 2).number_format = "@"
    save_reproducible(wb, path)


def write_samm_workbook(path: str | Path, rows: pd.DataFrame) -> None:
    """SAMM_LongVideos_V3_Release.xlsx as distributed: title, blank row, header on row 3.

    rows: video ('006_1'), onset, apex, offset, type ('macro'|'micro'); optional
    expression_number (else numbered 1, 2, ... per video in row order).
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "FACS_Movement_Only"
    ws.append([SAMM_TITLE])
    ws.append([])
    ws.append(SAMM_HEADER)
    seen: dict[str, int] = {}
    for row in rows.itertuples(index=False):
        seen[row.video] = seen.get(row.video, 0) + 1
        number = getattr(row, "expression_number", seen[row.video])
        ws.append(
            [
                int(str(row.video).split("_")[0]),
                f"{row.video}_{number}",
                getattr(row, "inducement_code", None),
                _cell(row.onset),
                _cell(row.apex),
                _cell(row.offset),
                _duration(row),
                SAMM_TYPE_TEXT[row.type],
                getattr(row, "action_units", ""),
                getattr(row, "notes", ""),
            ]
        )
    save_reproducible(wb, path)


# ---- read helpers -------------------------------------------------------------------------


def norm(text) -> str:
    """Cell or sheet name compared case-, space- and punctuation-insensitively."""
    return re.sub(r"[\s_\-]+", "", str(text)).lower()


def open_workbook(path: Path) -> openpyxl.Workbook:
    """Open with cached values (formulas as the user last saw them)."""
    try:
        return openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise AnnotationError(
            f"annotation workbook {path} cannot be opened ({exc}): save it again as .xlsx"
        ) from exc


def find_sheet(wb: openpyxl.Workbook, name: str, path: Path):
    """The sheet called `name`, matched loosely ('Naming Rule1' finds 'naming rule1')."""
    for ws in wb.worksheets:
        if norm(ws.title) == norm(name):
            return ws
    raise AnnotationError(
        f"annotation workbook {path} has no sheet {name!r} (sheets: "
        f"{', '.join(ws.title for ws in wb.worksheets)}): use the workbook as distributed"
    )


def sheet_rows(ws) -> Iterator[tuple[int, tuple]]:
    """(1-based spreadsheet row, cell values) of every non-empty row."""
    for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
        if any(not is_blank(v) for v in values):
            yield number, values


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_number(value) -> float | None:
    """A numeric cell (also '12' or '12.5' stored as text); None when not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) else float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def frame_number(value, where: str, what: str) -> tuple[int, bool]:
    """(frame number rounded down, whether it was fractional); error naming the cell."""
    number = as_number(value)
    if number is None:
        raise AnnotationError(
            f"{where}: {what} {value!r} is not a frame number: enter a number in that cell"
        )
    floored = math.floor(number)
    return floored, floored != number


def find_one(root: Path, pattern: str, what: str, key: str) -> Path | None:
    """The one file matching the glob `pattern` in `root` (Excel's ~$ lock files ignored);
    None when none does; AnnotationError naming `key` (the config key) when several do."""
    found = sorted(p for p in root.glob(pattern) if p.is_file() and not p.name.startswith("~$"))
    if len(found) > 1:
        raise AnnotationError(
            f"several {what}s match {pattern!r} in {root}: "
            f"{', '.join(p.name for p in found)}; set {key} to one"
        )
    return found[0] if found else None


def read_sheet(path: Path, name: str) -> tuple[str, list[tuple[int, tuple]]]:
    """(sheet title, (1-based row, cell values) of every non-empty row) of the sheet called
    `name` (matched loosely) in an .xls (xlrd) or .xlsx (openpyxl) workbook."""
    if path.suffix.lower() != ".xls":
        ws = find_sheet(open_workbook(path), name, path)
        return ws.title, list(sheet_rows(ws))
    import xlrd

    try:
        book = xlrd.open_workbook(str(path))
    except Exception as exc:  # xlrd raises many types for a broken file
        raise AnnotationError(
            f"annotation workbook {path} cannot be opened ({exc}): use the .xls as distributed"
        ) from exc
    titles = book.sheet_names()
    for title in titles:
        if norm(title) == norm(name):
            sheet = book.sheet_by_name(title)
            rows = ((r + 1, tuple(sheet.row_values(r))) for r in range(sheet.nrows))
            return title, [(r, v) for r, v in rows if any(not is_blank(c) for c in v)]
    raise AnnotationError(
        f"annotation workbook {path} has no sheet {name!r} (sheets: {', '.join(titles)}): "
        "use the workbook as distributed"
    )


# ---- CAS(ME)^3 Part A -----------------------------------------------------------------------

CASME3_SHEETS = {"expressions": "AU+Emotion", "emotions": "label"}
CASME3_HEADER = [
    "Subject",
    "Filename",
    "Onset",
    "Apex",
    "Offset",
    "AU",
    "Expression type",
    "Objective class",
]
CASME3_LABEL_HEADER = [
    "Subject",
    "Filename",
    "Onset",
    "Apex",
    "Offset",
    "AU",
    "Objective class",
    "emotion",
]
CASME3_TYPE_TEXT = {"macro": "Macro-expression", "micro": "Micro-expression"}


def _text(value) -> str:
    """A cell as the CAS(ME)^3 workbooks store it: text ('355', not 355)."""
    return str(_cell(value))


def write_casme3_expressions(path: str | Path, rows: pd.DataFrame) -> None:
    """CAS(ME)^3 Part A's expressions workbook (sheet AU+Emotion), every cell text as
    distributed; written as .xlsx (.xls cannot be written with the project's libraries, and the
    reader reads either).

    rows: subject ('spNO.1'), video ('a'), onset, apex, offset, type ('macro'|'micro').
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = CASME3_SHEETS["expressions"]
    ws.append(CASME3_HEADER)
    for row in rows.itertuples(index=False):
        frames = [_text(row.onset), _text(row.apex), _text(row.offset)]
        units = getattr(row, "action_units", "4")
        ws.append([row.subject, row.video, *frames, units, CASME3_TYPE_TEXT[row.type], "II"])
    save_reproducible(wb, path)


def write_casme3_labels(path: str | Path, rows: pd.DataFrame) -> None:
    """CAS(ME)^3 Part A's micro-expression label workbook (JpgIndex, sheet label): the micro
    rows of `rows` (as write_casme3_expressions) with their `emotion` ("" when absent)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = CASME3_SHEETS["emotions"]
    ws.append(CASME3_LABEL_HEADER)
    for row in rows.itertuples(index=False):
        if row.type == "micro":
            frames = [_text(row.onset), _text(row.apex), _text(row.offset)]
            units = getattr(row, "action_units", "4")
            emotion = getattr(row, "emotion", "")
            ws.append([row.subject, row.video, *frames, units, "II", emotion])
    save_reproducible(wb, path)


def write_casme3_workbooks(expressions: str | Path, labels: str | Path, rows: pd.DataFrame) -> None:
    """Both CAS(ME)^3 Part A annotation workbooks from the same rows."""
    write_casme3_expressions(expressions, rows)
    write_casme3_labels(labels, rows)


def header_columns(values, markers: set[str], fields: dict, where: str) -> dict[str, int] | None:
    """field -> column of `values` if it is the header row (it holds every marker, compared
    case-, space- and punctuation-insensitively), else None. `fields` maps each field to its
    accepted spellings; a header without one is an AnnotationError naming `where` (file, sheet,
    row)."""
    cells = [norm(v) if not is_blank(v) else "" for v in values]
    if not markers <= set(cells):
        return None
    columns, missing = {}, []
    for field, spellings in fields.items():
        hits = [cells.index(s) for s in spellings if s in cells]
        if hits:
            columns[field] = hits[0]
        else:
            missing.append(spellings[0])
    if missing:
        raise AnnotationError(f"{where} lacks column(s) {missing}: use the workbook as distributed")
    return columns


def expression_type(value, where: str, spelled: str) -> str:
    """'macro' or 'micro' from a type cell that starts with either (any case or punctuation);
    otherwise an AnnotationError naming `where` and how the dataset spells the two."""
    text = norm(value) if value is not None else ""
    for kind in ("macro", "micro"):
        if text.startswith(kind):
            return kind
    raise AnnotationError(f"{where}: type {value!r} is neither {spelled}: fix the cell")
