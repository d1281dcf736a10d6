"""SAMM-LV reader on a tiny dataset in the real layout: header search, quirks, counts, errors."""

from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pandas as pd
import pytest
import zarr

from tsmsnet.datasets import discover_videos, read_dataset, target_settings
from tsmsnet.datasets.samm import discover_samm, read_samm
from tsmsnet.datasets.table import read_annotations
from tsmsnet.datasets.workbooks import SAMM_HEADER, write_samm_workbook
from tsmsnet.errors import AnnotationError, ConfigError
from tsmsnet.evaluation.megc import evaluate
from tsmsnet.runlog import quiet
from tsmsnet.steps.data import annotation_tables
from tsmsnet.steps.train import fold_items
from tsmsnet.training.samples import apex_labels

N_FRAMES = 30
VIDEOS = ["006_1", "006_2", "007_3", "011_1"]
ROWS = pd.DataFrame(
    [
        ("006_1", 2, 5, 10, "macro"),
        ("006_1", 12.5, 14, 20, "micro"),  # fractional onset
        ("006_2", 0, 4, 8, "macro"),  # unknown onset
        ("007_3", 3, -1, 9, "micro"),  # no apex
    ],
    columns=["video", "onset", "apex", "offset", "type"],
)
WORKBOOK = "SAMM_LongVideos_V3_Release.xlsx"
COLUMNS = ["video", "type", "onset", "offset"]


def make_dataset(root: Path, rows=ROWS) -> Path:
    """`<root>/006_1/006_1_0001.jpg` frames (8x8) + the release workbook."""
    ok, jpg = cv2.imencode(".jpg", np.zeros((8, 8), np.uint8))
    for video in VIDEOS:
        (root / video).mkdir(parents=True)
        for i in range(1, N_FRAMES + 1):
            jpg.tofile(root / video / f"{video}_{i:04d}.jpg")
    write_samm_workbook(root / WORKBOOK, rows)
    return root


@pytest.fixture
def dcfg(cfg):
    return cfg["datasets"]["samm_lv"]


def read(root, dcfg):
    messages = []
    videos, annotations = read_samm(root, dcfg, messages.append)
    return videos, annotations, "\n".join(messages)


def intervals(annotations) -> list:
    return annotations[["video", "type", "onset", "apex", "offset"]].values.tolist()


def training_intervals(annotations) -> list:
    return annotations[["video", "train_onset", "train_offset"]].values.tolist()


def test_writer_real_layout(tmp_path):
    make_dataset(tmp_path)
    rows = list(openpyxl.load_workbook(tmp_path / WORKBOOK).active.iter_rows(values_only=True))
    assert rows[0][0] and all(v is None for v in rows[1])
    assert list(rows[2]) == SAMM_HEADER
    assert rows[3][:2] == (6, "006_1_1") and rows[4][1] == "006_1_2"
    assert rows[3][7] == "Macro" and rows[4][7] == "Micro - 1/2"


def test_header_on_row_3_and_default_quirks(tmp_path, dcfg):
    videos, annotations, log = read(make_dataset(tmp_path), dcfg)
    assert "header found on sheet 'FACS_Movement_Only', row 3" in log
    assert list(videos["video"]) == VIDEOS
    assert list(videos["subject"]) == ["006", "006", "007", "011"]
    assert set(videos["fps"]) == {dcfg["fps"]} and set(videos["n_frames"]) == {N_FRAMES}
    assert set(videos["first_frame"]) == {1}
    assert intervals(annotations) == [
        ["006_1", "macro", 2, 5, 10],
        ["006_1", "micro", 12, 14, 20],
        ["006_2", "macro", 0, 4, 8],  # onset 0 kept (as the challenge scored it)
        ["007_3", "micro", 3, 6, 9],  # apex -1 -> midpoint
    ]
    assert "1 row(s) with fractional frames rounded down: [5]" in log
    # ... but trained from its apex (as upstream); every other row trains as it is scored.
    assert training_intervals(annotations) == [
        ["006_1", 2, 10],
        ["006_1", 12, 20],
        ["006_2", 4, 8],
        ["007_3", 3, 9],
    ]
    assert "1 row(s) with onset 0 (unknown), onset_zero=keep, train_onset_zero=apex: [6]" in log
    assert "1 row(s) with apex -1 (no apex), apex_missing=midpoint: [7]" in log
    assert "1 video(s) without annotations (kept): 011_1" in log
    assert "4 videos, 4 expressions (2 macro, 2 micro)" in log


def test_other_quirk_choices(tmp_path, dcfg):
    dcfg.update(onset_zero="apex", train_onset_zero="keep", apex_missing="keep")
    _, annotations, log = read(make_dataset(tmp_path), dcfg)
    got = intervals(annotations)
    assert got[2] == ["006_2", "macro", 4, 4, 8] and got[3] == ["007_3", "micro", 3, -1, 9]
    assert training_intervals(annotations)[2] == ["006_2", 0, 8]
    assert "onset_zero=apex, train_onset_zero=keep" in log and "apex_missing=keep" in log
    dcfg["apex_missing"] = "zero"
    with pytest.raises(ConfigError, match="apex_missing"):
        read(tmp_path, dcfg)
    dcfg.update(apex_missing="keep", train_onset_zero="offset")
    with pytest.raises(ConfigError, match="train_onset_zero"):
        read(tmp_path, dcfg)


def first_frame_store(first_frame: int) -> zarr.Array:
    """A feature store stand-in: fold_items reads only its first_frame attribute."""
    store = zarr.create_array(store={}, shape=(1,), dtype="float16")
    store.attrs["first_frame"] = first_frame
    return store


@pytest.mark.parametrize("choice, onset", [("apex", 20), ("keep", 0)])
def test_unknown_onset_trains_as_chosen_and_is_scored_as_written(tmp_path, dcfg, choice, onset):
    """A workbook row with onset 0: the fold's stage-1 targets (the functions the training step
    calls) cover train_onset_zero's interval, the table the evaluation reads keeps onset 0."""
    dcfg["train_onset_zero"] = choice
    rows = pd.DataFrame(
        [("006_2", 0, 20, 25, "macro"), ("007_3", 3, 5, 9, "micro")],
        columns=["video", "onset", "apex", "offset", "type"],
    )
    root, out = make_dataset(tmp_path / "data", rows), tmp_path / "results"
    annotation_tables(
        "samm_lv", str(root), dcfg, str(out / "videos.csv"), str(out / "annotations.csv"), quiet
    )
    truth = read_annotations(out / "annotations.csv")  # as steps.evaluate reads it
    assert intervals(truth[truth["video"] == "006_2"]) == [["006_2", "macro", 0, 20, 25]]
    scored = evaluate(truth, pd.DataFrame([("006_2", "macro", 0, 25)], columns=COLUMNS))
    assert scored["macro"]["TP"] == 1  # 0..25 matches: the evaluation scored onset 0
    store = first_frame_store(1)
    items = fold_items(truth, [store, store], ["006_1", "006_2"], "007", "macro")
    assert [iv for _, iv in items] == [[], [(onset - 1, 24)]]  # store index = frame - 1
    k = 2
    labels = apex_labels(N_FRAMES - k, k, items[1][1])
    # Sample t (window t..t+2) is positive when it meets the training interval's store indices.
    first = max(0, onset - 1 - k)
    assert np.flatnonzero(labels).tolist() == list(range(first, 25))
    assert target_settings("samm_lv", dcfg) == {
        "reader": "samm_lv",
        "train_onset_zero": choice,
        "apex_missing": "midpoint",
    }


def test_substitute_onset_after_the_offset_names_the_row(tmp_path, dcfg):
    rows = pd.DataFrame([("006_2", 0, 12, 8, "macro")], columns=ROWS.columns)
    with pytest.raises(AnnotationError, match=r"row 4 .*training interval 12..8 is empty"):
        read(make_dataset(tmp_path, rows), dcfg)


def test_header_on_row_1_and_footer(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    wb = openpyxl.load_workbook(root / WORKBOOK)
    ws = wb.active
    ws.delete_rows(1, 2)
    ws.append([])
    ws.append([None, None, None, "mean", None, None, 123.4])
    wb.save(root / WORKBOOK)
    _, annotations, log = read(root, dcfg)
    assert "row 1" in log and len(annotations) == 4
    assert "skipped 1 row(s) without a Filename: [7]" in log


def test_discover_folders_only(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    (root / "__MACOSX").mkdir()
    (root / WORKBOOK).unlink()
    found = discover_videos("samm_lv", root, dcfg)
    assert list(found["video"]) == VIDEOS and list(found["subject"])[:1] == ["006"]
    assert Path(found["source"][0]) == root / "006_1"
    assert found.equals(discover_samm(root, dcfg))


def test_workbook_glob_none_or_several(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    (root / "~$SAMM_LongVideos_V3_Release.xlsx").write_bytes(b"lock")  # Excel lock: ignored
    assert len(read(root, dcfg)[1]) == 4
    (root / "copy.xlsx").write_bytes((root / WORKBOOK).read_bytes())
    with pytest.raises(AnnotationError, match=f"{WORKBOOK}, copy.xlsx; set datasets.samm_lv"):
        read(root, dcfg)
    dcfg["workbook_glob"] = "*.xls"
    with pytest.raises(AnnotationError, match=r"no SAMM workbook matching '\*.xls'"):
        read(root, dcfg)


def edit_cell(root: Path, cell: str, value) -> None:
    wb = openpyxl.load_workbook(root / WORKBOOK)
    wb.active[cell] = value
    wb.save(root / WORKBOOK)


def test_missing_column_names_header_row(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    edit_cell(root, "H3", "Kind")
    with pytest.raises(AnnotationError, match=r"header row 3 lacks column\(s\) \['type'\]"):
        read(root, dcfg)
    edit_cell(root, "D3", "Start")
    with pytest.raises(AnnotationError, match="no sheet has a header row"):
        read(root, dcfg)


@pytest.mark.parametrize(
    "cell, value, message",
    [
        ("D5", "?", "onset '\\?' is not a frame number"),
        ("B5", "008_1_1", "names video 008_1, which has no frames"),
        ("B5", "0061", "Filename '0061' is not <video>_<n>"),
        ("F5", N_FRAMES + 5, "offset 35 is beyond the last frame 30"),
        ("H5", "Blink", "type 'Blink' is neither Macro nor Micro"),
    ],
)
def test_bad_rows_are_named(tmp_path, dcfg, cell, value, message):
    root = make_dataset(tmp_path)
    edit_cell(root, cell, value)
    with pytest.raises(AnnotationError, match=message) as err:
        read_dataset("samm_lv", root, dcfg, log=lambda _: None)
    assert f"{WORKBOOK}, sheet 'FACS_Movement_Only', row 5" in str(err.value)
