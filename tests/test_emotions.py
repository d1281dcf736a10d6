"""Emotion labels in the annotation table: CAS(ME)^2 column G, the SAMM-LV clip-workbook join,
the config mapping and its errors; counts on the real annotation files equal str.md's."""

import csv
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.test_readers_casme2 import ROWS as CASME2_ROWS
from tests.test_readers_casme2 import make_dataset as make_casme2
from tests.test_readers_samm import ROWS as SAMM_ROWS
from tests.test_readers_samm import make_dataset as make_samm
from tsmsnet.datasets import annotation_files, read_dataset
from tsmsnet.datasets.samm import read_samm
from tsmsnet.datasets.table import (
    EMOTION_CLASSES,
    EMOTION_TABLE_COLUMNS,
    emotion_classes,
    read_annotations,
)
from tsmsnet.errors import AnnotationError, ConfigError

REAL = Path("conformance") / "real-annotations"
CLIP = "SAMM_Micro_FACS_Codes_v2.xlsx"
# str.md, "Emotion classes": micro-expressions per class.
CASME2_MICRO = {"negative": 21, "positive": 8, "surprise": 9, "others": 19}
SAMM_MICRO = {"negative": 92, "positive": 26, "surprise": 15, "others": 26}
# The conformance README: column G over all 357 rows of the CAS(ME)^2 workbook.
CASME2_ALL = {"negative": 126, "positive": 124, "others": 82, "surprise": 25}


class ManyFrames:
    """Stands in for FrameSource: the real videos are licensed, only their annotations are
    public, so every folder reads as long enough for any annotated frame."""

    first_frame = 1
    n_frames = 100_000
    missing: list[int] = []

    def __init__(self, source, fill_gaps=False):
        self.source = source


@pytest.fixture
def no_frames(monkeypatch):
    monkeypatch.setattr("tsmsnet.datasets.table.FrameSource", ManyFrames)


def cell(text: str):
    """A CSV cell as the workbook held it: numbers as numbers (ids like '006' stay text)."""
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"-?(0|[1-9]\d*)", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def csv_rows(path: Path) -> list[list]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return [[cell(c) for c in row] for row in csv.reader(f)]


def write_rows(path: Path, rows: list[list], title: str = "Sheet1") -> None:
    wb = openpyxl.Workbook()
    wb.active.title = title
    for row in rows:
        wb.active.append(row)
    wb.save(path)


def by_class(annotations: pd.DataFrame, kind: str) -> dict:
    counts = annotations.loc[annotations["type"] == kind, "emotion"].value_counts()
    return {name: int(n) for name, n in counts.items()}


def add_lock_files(root: Path, *names: str) -> None:
    """Excel's owner files, which match the globs but are no workbooks."""
    for name in names:
        (root / f"~${name}").write_bytes(b"\x00lock")


# ---- the real annotation files -----------------------------------------------------------


def real_casme2(shared: Path, root: Path, cfg: dict) -> None:
    """The published CAS(ME)^2 export back in its workbook: code sheet (the export's last,
    added column dropped), naming rules from that added `sNN/<video folder>` column, and one
    empty frames folder per video."""
    rows = csv_rows(shared / REAL / "CAS(ME)^2code_final(Updated).csv")
    subjects, codes = {}, {}
    for row in rows:
        subject, folder = row[-1].split("/")
        subjects[row[0]] = subject
        codes[row[1].rsplit("_", 1)[0]] = re.match(r"\d+_(\d{4})", folder).group(1)
        (root / "rawpic" / subject / folder).mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.active.title = "CASFEcode_final"
    for row in rows:
        wb.active.append(row[:-1])
    rule1 = wb.create_sheet("naming rule1")
    for index, subject in sorted(subjects.items()):
        rule1.append([index, subject])
    rule2 = wb.create_sheet("naming rule2")
    for name, code in codes.items():
        rule2.append([name, code])
    wb.save(root / cfg["datasets"]["casme2"]["workbook"])


def real_samm(shared: Path, root: Path) -> None:
    """The published SAMM-LV long-video and short-clip exports back in workbooks (preambles
    kept, so the headers sit on later rows), and one empty folder per long video."""
    long_rows = csv_rows(shared / REAL / "SAMM_LongVideos_V2_Release.csv")
    write_rows(root / "SAMM_LongVideos_V2_Release.xlsx", long_rows, "FACS_Movement_Only")
    write_rows(root / CLIP, csv_rows(shared / REAL / "SAMM_Micro_FACS_Codes_v2.csv"), "Sheet1")
    for row in long_rows:
        if isinstance(row[1], str) and re.fullmatch(r"\d+_\d+_\d+", row[1]):
            (root / row[1].rsplit("_", 1)[0]).mkdir(exist_ok=True)
    add_lock_files(root, CLIP, "SAMM_LongVideos_V2_Release.xlsx")


def test_casme2_real_column_g_counts(shared_dir, tmp_path, cfg, no_frames):
    real_casme2(shared_dir, tmp_path, cfg)
    messages = []
    _, annotations = read_dataset("casme2", tmp_path, cfg["datasets"]["casme2"], messages.append)
    assert list(annotations.columns) == EMOTION_TABLE_COLUMNS
    assert (annotations["type"].value_counts().to_dict()) == {"macro": 300, "micro": 57}
    assert by_class(annotations, "micro") == CASME2_MICRO
    assert annotations["emotion"].value_counts().to_dict() == CASME2_ALL
    # Column G already holds the classes: raw label and class agree on every row.
    assert (annotations["emotion_raw"] == annotations["emotion"]).all()
    assert "casme2: micro emotions: negative 21, positive 8, surprise 9, others 19" in messages


def test_samm_real_clip_join_counts(shared_dir, tmp_path, cfg, no_frames):
    real_samm(shared_dir, tmp_path)
    dcfg = cfg["datasets"]["samm_lv"]
    messages = []
    _, annotations = read_dataset("samm_lv", tmp_path, dcfg, messages.append)
    micro = annotations[annotations["type"] == "micro"]
    assert len(micro) == 159 and (micro["emotion_raw"] != "").all()
    assert by_class(annotations, "micro") == SAMM_MICRO
    # The clip workbook holds micro-expressions only: 037_4_1 is micro there, macro in the
    # long videos, so the type keeps it (and every macro row) out of the join.
    assert (annotations.loc[annotations["type"] == "macro", "emotion"] == "").all()
    assert any("joined on Filename and type: macro 0/343, micro 159/159" in m for m in messages)
    files = [p.name for p in annotation_files("samm_lv", tmp_path, dcfg)]
    assert files == ["SAMM_LongVideos_V2_Release.xlsx", CLIP]


# ---- small cases made in the test --------------------------------------------------------


def write_clip_workbook(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """A short-clip workbook in SAMM's layout: preamble, header on row 4."""
    header = ["Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame"]
    header += ["Offset Frame", "Duration", "Micro", "Action Units", "Estimated Emotion"]
    body = [[6, name, 1, 900, 905, 910, 11, kind, "4", emotion] for name, kind, emotion in rows]
    write_rows(path, [["SAMM Dataset - Master FACS Codes"], [], ["Symbol Key:"], header, *body])


CLIP_ROWS = [
    ("006_1_1", "Micro - 1/2", "Happiness"),  # macro in the long videos: no join
    ("006_1_2", "Micro - 1/2", "  ANGER "),
    ("007_3_1", "Micro - 1/2", "Other"),
]


def test_samm_clip_join_small(tmp_path, cfg):
    extra = pd.DataFrame([("011_1", 3, 5, 9, "micro")], columns=SAMM_ROWS.columns)
    rows = pd.concat([SAMM_ROWS, extra], ignore_index=True)
    root = make_samm(tmp_path, rows)
    write_clip_workbook(root / CLIP, CLIP_ROWS)
    add_lock_files(root, CLIP)
    messages = []
    _, annotations = read_samm(root, cfg["datasets"]["samm_lv"], messages.append)
    got = annotations[["video", "type", "emotion_raw", "emotion"]].values.tolist()
    assert got == [
        ["006_1", "macro", "", ""],
        ["006_1", "micro", "ANGER", "negative"],
        ["006_2", "macro", "", ""],
        ["007_3", "micro", "Other", "others"],
        ["011_1", "micro", "", ""],
    ]
    text = "\n".join(messages)
    assert "joined on Filename and type: macro 0/2, micro 2/3" in text
    unjoined = [m for m in messages if "of a type the clip workbook holds" in m]
    assert unjoined == [
        "samm_lv: 1 row(s) of a type the clip workbook holds without an emotion there "
        "(left empty): 011_1_1 (micro)"
    ]
    assert [p.name for p in annotation_files("samm_lv", root, cfg["datasets"]["samm_lv"])] == [
        "SAMM_LongVideos_V3_Release.xlsx",
        CLIP,
    ]


def test_samm_without_clip_workbook_spots_and_says_what_str_needs(tmp_path, cfg):
    root = make_samm(tmp_path)
    add_lock_files(root, CLIP)  # a lock file alone is no workbook
    messages = []
    _, annotations = read_samm(root, cfg["datasets"]["samm_lv"], messages.append)
    assert len(annotations) == 4
    assert (annotations["emotion_raw"] == "").all() and (annotations["emotion"] == "").all()
    text = "\n".join(messages)
    assert "no clip workbook matching 'SAMM_Micro_FACS_Codes*.xlsx'" in text
    assert "spot-then-recognise (STR) needs" in text
    files = annotation_files("samm_lv", root, cfg["datasets"]["samm_lv"])
    assert [p.name for p in files] == ["SAMM_LongVideos_V3_Release.xlsx"]


def test_samm_label_not_in_mapping_names_the_row(tmp_path, cfg):
    root = make_samm(tmp_path)
    write_clip_workbook(root / CLIP, [("006_1_2", "Micro - 1/2", "Joy")])
    with pytest.raises(
        AnnotationError, match=r"'Joy' at .*SAMM_Micro_FACS_Codes_v2.xlsx, sheet .*, row 5"
    ):
        read_samm(root, cfg["datasets"]["samm_lv"], print)


def test_samm_several_clip_workbooks(tmp_path, cfg):
    root = make_samm(tmp_path)
    write_clip_workbook(root / CLIP, CLIP_ROWS)
    write_clip_workbook(root / "SAMM_Micro_FACS_Codes_v3.xlsx", CLIP_ROWS)
    with pytest.raises(AnnotationError, match="datasets.samm_lv.clip_workbook"):
        read_samm(root, cfg["datasets"]["samm_lv"], print)


def test_casme2_column_g_and_unknown_label(tmp_path, cfg):
    rows = CASME2_ROWS.assign(emotion_class=["negative", "Surprise", "others", "positive"])
    root = make_casme2(tmp_path / "ok", rows)
    _, annotations = read_dataset("casme2", root, cfg["datasets"]["casme2"], print)
    got = dict(zip(annotations["emotion_raw"], annotations["emotion"], strict=True))
    assert got == {
        "negative": "negative",
        "Surprise": "surprise",
        "others": "others",
        "positive": "positive",
    }
    root = make_casme2(tmp_path / "bad", rows.assign(emotion_class=["negative", "angry", "", ""]))
    with pytest.raises(AnnotationError, match=r"'angry' at .*sheet 'CASFEcode_final', row 2"):
        read_dataset("casme2", root, cfg["datasets"]["casme2"], print)


def test_emotion_classes_mapping_checks():
    raw = pd.Series(["Anger", "", "happiness"])
    where = pd.Series(["row 1", "row 2", "row 3"])
    mapping = {" anger ": "negative", "HAPPINESS": "positive"}
    assert emotion_classes(raw, mapping, where, "d").tolist() == ["negative", "", "positive"]
    assert emotion_classes(pd.Series(["", ""]), None, where, "d").tolist() == ["", ""]
    with pytest.raises(ConfigError, match="datasets.d.emotions is empty"):
        emotion_classes(raw, {}, where, "d")
    with pytest.raises(ConfigError, match="'joy' maps to 'happy'"):
        emotion_classes(raw, {"joy": "happy"}, where, "d")
    with pytest.raises(ConfigError, match="mapped twice"):
        emotion_classes(raw, {"anger": "negative", "ANGER": "others"}, where, "d")
    assert set(EMOTION_CLASSES) == {"negative", "positive", "surprise", "others"}


def test_empty_emotions_survive_the_csv(tmp_path, cfg):
    root = make_samm(tmp_path / "data")
    write_clip_workbook(root / CLIP, CLIP_ROWS)
    _, annotations = read_samm(root, cfg["datasets"]["samm_lv"], print)
    annotations.to_csv(tmp_path / "annotations.csv", index=False)
    back = read_annotations(tmp_path / "annotations.csv")
    assert back["emotion"].tolist() == ["", "negative", "", "others"]
    assert back["emotion_raw"].tolist() == ["", "ANGER", "", "Other"]


def test_emotion_table_maps_the_raw_labels_of_annotations_csv(tmp_path, cfg):
    """annotations.csv keeps the raw labels; the emotions step adds the classes, and an
    unmapped label names its row of annotations.csv."""
    from tsmsnet.steps.data import emotion_table

    root = make_samm(tmp_path / "data")
    write_clip_workbook(root / CLIP, CLIP_ROWS)
    raw_cfg = {k: v for k, v in cfg["datasets"]["samm_lv"].items() if k != "emotions"}
    _, annotations = read_samm(root, raw_cfg, print)
    assert "emotion" not in annotations  # the annotations rule's table: raw labels only
    annotations.to_csv(tmp_path / "annotations.csv", index=False)
    mapping = cfg["datasets"]["samm_lv"]["emotions"]
    table = emotion_table(
        str(tmp_path / "annotations.csv"), "samm_lv", mapping, str(tmp_path / "emotions.csv"), print
    )
    back = read_annotations(tmp_path / "emotions.csv")
    assert list(back.columns) == EMOTION_TABLE_COLUMNS
    assert back["emotion"].tolist() == table["emotion"].tolist()
    assert back["emotion"].tolist() == ["", "negative", "", "others"]
    del mapping["anger"]
    with pytest.raises(AnnotationError, match=r"'ANGER' at .*annotations.csv, row 3"):
        emotion_table(
            str(tmp_path / "annotations.csv"), "samm_lv", mapping, str(tmp_path / "x.csv"), print
        )
