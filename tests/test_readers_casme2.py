"""CAS(ME)^2 reader on a tiny dataset in the real layout: ids, quirks, counts logged, errors."""

import logging
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pandas as pd
import pytest

from tsmsnet.datasets import discover_videos, read_dataset
from tsmsnet.datasets.casme2 import discover_casme2, read_casme2
from tsmsnet.datasets.table import EMOTION_TABLE_COLUMNS, VIDEO_COLUMNS
from tsmsnet.datasets.workbooks import CASME2_VIDEO_CODES, write_casme2_workbook
from tsmsnet.errors import AnnotationError, ConfigError, InputError

N_FRAMES = 20
# (subject folder, video folder, frame name pattern)
VIDEOS = [
    ("s15", "15_0101disgustingteeth", "img{}.jpg"),
    ("s15", "15_0401angerwhirlwind", "img_{}.jpg"),
    ("s16", "16_0101disgustingteeth", "img{}.jpg"),
    ("s16", "16_0502happy", "img{}.jpg"),
]
ROWS = pd.DataFrame(
    [
        ("s15", "disgust1", 1, 2, 4, 6, "macro"),
        ("s15", "anger1", 1, 3.5, 5, 0, "micro"),  # fractional onset, offset 0
        ("s16", "happy1", 1, 1, 2, 3, "micro"),
        ("s15", "disgust1", 2, 10, 12, 15, "macro"),
    ],
    columns=["subject", "video_name", "expression_number", "onset", "apex", "offset", "type"],
)
WORKBOOK = "CAS(ME)^2code_final.xlsx"


def make_dataset(root: Path, rows=ROWS, frames_dir="rawpic") -> Path:
    """Frames (8x8 jpgs) + workbook exactly as CAS(ME)^2 ships them."""
    ok, jpg = cv2.imencode(".jpg", np.zeros((8, 8), np.uint8))
    for subject, video, pattern in VIDEOS:
        folder = root / frames_dir / subject / video
        folder.mkdir(parents=True)
        for i in range(1, N_FRAMES + 1):
            jpg.tofile(folder / pattern.format(i))
    write_casme2_workbook(root / WORKBOOK, rows, ["s15", "s16"])
    return root


@pytest.fixture
def dcfg(cfg):
    return cfg["datasets"]["casme2"]


def read(root, dcfg):
    messages = []
    videos, annotations = read_casme2(root, dcfg, messages.append)
    return videos, annotations, "\n".join(messages)


def edit_workbook(root: Path, edit) -> None:
    wb = openpyxl.load_workbook(root / WORKBOOK)
    edit(wb)
    wb.save(root / WORKBOOK)


def test_writer_real_layout(tmp_path):
    make_dataset(tmp_path)
    wb = openpyxl.load_workbook(tmp_path / WORKBOOK)
    assert wb.sheetnames == ["CASFEcode_final", "naming rule1", "naming rule2"]
    code = list(wb["CASFEcode_final"].iter_rows(values_only=True))
    assert code[0][:5] == (1, "disgust1_1", 2, 4, 6)
    assert code[0][7] == "macro-expression" and code[2][0] == 2
    assert code[-1][0] == "total"
    assert list(wb["naming rule1"].iter_rows(values_only=True)) == [(1, "s15"), (2, "s16")]
    rule2 = list(wb["naming rule2"].iter_rows(values_only=True))
    assert rule2 == list(CASME2_VIDEO_CODES.items()) and rule2[0] == ("disgust1", "0101")


def test_reads_ids_frames_and_quirks(tmp_path, dcfg):
    videos, annotations, log = read(make_dataset(tmp_path), dcfg)
    assert list(videos.columns) == VIDEO_COLUMNS
    assert list(annotations.columns) == EMOTION_TABLE_COLUMNS
    assert list(videos["video"]) == ["s15_0101", "s15_0401", "s16_0101", "s16_0502"]
    assert list(videos["subject"]) == ["s15", "s15", "s16", "s16"]
    assert set(videos["fps"]) == {dcfg["fps"]}
    assert set(videos["first_frame"]) == {1} and set(videos["n_frames"]) == {N_FRAMES}
    assert Path(videos["source"][1]).is_absolute()
    assert Path(videos["source"][1]).name == "15_0401angerwhirlwind"
    got = annotations[["video", "type", "onset", "apex", "offset"]].values.tolist()
    assert got == [
        ["s15_0101", "macro", 2, 4, 6],
        ["s15_0101", "macro", 10, 12, 15],
        ["s15_0401", "micro", 3, 5, 5],  # onset floored, offset 0 -> apex
        ["s16_0502", "micro", 1, 2, 3],
    ]
    assert annotations["onset"].dtype == "int64"
    # No training substitution in CAS(ME)^2: rows train on the interval they are scored on.
    assert annotations["train_onset"].equals(annotations["onset"])
    assert annotations["train_offset"].equals(annotations["offset"])
    assert "skipped 1 row(s) without a subject index" in log
    assert "1 row(s) with fractional frames rounded down: [2]" in log
    assert "1 row(s) with offset 0 (unknown), offset set to the apex" in log
    assert "'macro-expression' x2, 'micro-expression' x2" in log
    assert "1 video(s) without annotations (kept): s16_0101" in log


def test_offset_zero_drop(tmp_path, dcfg):
    dcfg["offset_zero"] = "drop"
    _, annotations, log = read(make_dataset(tmp_path), dcfg)
    assert len(annotations) == 3 and "s15_0401" not in set(annotations["video"])
    assert "1 row(s) with offset 0 (unknown), dropped" in log
    dcfg["offset_zero"] = "guess"
    with pytest.raises(ConfigError, match="offset_zero"):
        read(tmp_path, dcfg)


def test_code_saved_as_number_still_maps(tmp_path, dcfg):
    root = make_dataset(tmp_path)

    def codes_as_numbers(wb):
        for row in wb["naming rule2"].iter_rows():
            row[1].value = int(row[1].value)

    edit_workbook(root, codes_as_numbers)
    assert openpyxl.load_workbook(root / WORKBOOK)["naming rule2"]["B1"].value == 101
    _, annotations, _ = read(root, dcfg)
    assert annotations["video"].iloc[0] == "s15_0101"


@pytest.mark.parametrize(
    "rule1",
    [
        [("folder", "index"), ("s15", 1), ("s16", 2)],  # swapped, with a header row
        [(1, 15), (2, 16)],  # folder as a number
        [(16, 2), (15, 1)],  # swapped numbers
        [("Subject", "Folder"), (1, "S15"), (2, "S16")],  # upper-case folder text
    ],
)
def test_naming_rule1_variants(tmp_path, dcfg, rule1):
    root = make_dataset(tmp_path)

    def rewrite(wb):
        del wb["naming rule1"]
        ws = wb.create_sheet("Naming Rule1")
        for row in rule1:
            ws.append(row)

    edit_workbook(root, rewrite)
    _, annotations, _ = read(root, dcfg)
    assert sorted(set(annotations["video"])) == ["s15_0101", "s15_0401", "s16_0502"]
    assert sorted(set(annotations["subject"])) == ["s15", "s16"]


def test_other_frames_dir_and_video_files(tmp_path, dcfg):
    root = make_dataset(tmp_path, frames_dir="longVideoFaceCropped")
    (root / "longVideoFaceCropped" / "Thumbs.db").write_bytes(b"x")
    found = discover_casme2(root, dcfg)
    assert list(found.columns) == ["subject", "video", "source"]
    assert list(found["video"]) == ["s15_0101", "s15_0401", "s16_0101", "s16_0502"]
    _, _, log = read(root, dcfg)
    assert "ignored 1 entries that are not video folders: ['Thumbs.db']" in log


def test_cropped_release_preferred_and_logged(tmp_path, dcfg):
    """A copy with both releases: the cropped one (upstream's frames) is read, and the log says
    so; the raw one alone is still found."""
    root = make_dataset(tmp_path / "both", frames_dir="rawpic")
    make_dataset(root, frames_dir="longVideoFaceCropped")
    videos, _, log = read(root, dcfg)
    assert {Path(s).parts[-3] for s in videos["source"]} == {"longVideoFaceCropped"}
    cropped = root.resolve() / "longVideoFaceCropped"
    assert f"frames from {cropped} (also present, not used: rawpic)" in log
    assert list(discover_casme2(root, dcfg)["source"]) == list(videos["source"])
    videos, _, log = read(make_dataset(tmp_path / "raw"), dcfg)
    assert {Path(s).parts[-3] for s in videos["source"]} == {"rawpic"}
    assert "not used" not in log


def test_discover_needs_no_workbook(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    (root / WORKBOOK).unlink()
    assert len(discover_videos("casme2", root, dcfg)) == 4
    with pytest.raises(AnnotationError, match=r"CAS\(ME\)\^2code_final.xlsx not found"):
        read(root, dcfg)


def test_dispatch_and_logger(tmp_path, dcfg, caplog):
    root = make_dataset(tmp_path)
    with caplog.at_level(logging.INFO):
        videos, annotations = read_dataset("casme2", root, dcfg, logging.getLogger("t"))
    assert len(videos) == 4 and len(annotations) == 4
    assert "offset 0" in caplog.text
    with pytest.raises(ConfigError, match="casme2, casme3, samm_lv, sheet"):
        read_dataset("casme4", root, dcfg)
    with pytest.raises(ConfigError, match="casme2, casme3, samm_lv, sheet"):
        discover_videos("casme4", root, dcfg)


def test_missing_data_root_and_frames_dir(tmp_path, dcfg):
    with pytest.raises(InputError, match="does not exist"):
        read_dataset("casme2", tmp_path / "nope", dcfg)
    with pytest.raises(InputError, match="data_root is empty"):
        discover_videos("casme2", "", dcfg)
    with pytest.raises(InputError, match="longVideoFaceCropped, rawpic, rawvideo"):
        discover_videos("casme2", tmp_path, dcfg)


def test_missing_sheet_names_it(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    edit_workbook(root, lambda wb: wb.remove(wb["naming rule2"]))
    with pytest.raises(AnnotationError, match="no sheet 'naming rule2'"):
        read(root, dcfg)


def set_cell(root: Path, cell: str, value) -> None:
    def edit(wb):
        wb["CASFEcode_final"][cell] = value

    edit_workbook(root, edit)


def test_non_numeric_onset_names_file_sheet_row(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    set_cell(root, "C3", "n/a")
    with pytest.raises(AnnotationError) as err:
        read(root, dcfg)
    assert WORKBOOK in str(err.value)
    assert "sheet 'CASFEcode_final', row 3" in str(err.value) and "'n/a'" in str(err.value)


@pytest.mark.parametrize(
    "cell, value, message",
    [
        ("B1", "happy2_1", "names video s15_0503, which has no frames"),
        ("B1", "sad1_1", "video 'sad1_1' has no code"),
        ("A1", 7, "subject index 7 is not in sheet 'naming rule1'"),
        ("E1", N_FRAMES + 1, "offset 21 is beyond the last frame 20"),
        ("C1", 7, "onset is after offset"),
        ("H1", "other", "neither macro-expression nor micro-expression"),
    ],
)
def test_bad_rows_are_named(tmp_path, dcfg, cell, value, message):
    root = make_dataset(tmp_path)
    set_cell(root, cell, value)
    with pytest.raises(AnnotationError, match=message) as err:
        read(root, dcfg)
    assert "sheet 'CASFEcode_final', row 1" in str(err.value)


def test_duplicate_video_ids(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    (root / "rawpic" / "s15" / "15_0101copy").mkdir()
    with pytest.raises(InputError, match="same video id.*s15_0101"):
        discover_casme2(root, dcfg)
