"""CAS(ME)^3 Part A reader: the real workbooks (../shared) on a frames layout built from the
published frame ranges, frame gaps filled, the emotion join and every error on small cases."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.conftest import SHARED
from tests.test_validation import SCHEMA
from tsmsnet.datasets import (
    discover_videos,
    fills_frame_gaps,
    read_dataset,
    target_settings,
)
from tsmsnet.datasets.casme3 import RELEASE_EXPRESSIONS, RELEASE_LABELS, read_casme3
from tsmsnet.datasets.frames import FrameSource
from tsmsnet.datasets.table import EMOTION_TABLE_COLUMNS, VIDEO_COLUMNS
from tsmsnet.datasets.workbooks import write_casme3_workbooks
from tsmsnet.errors import AnnotationError, ConfigError, FramesError, InputError
from tsmsnet.preprocess.landmarks import N_POINTS, Landmarks
from tsmsnet.preprocess.stores import open_store
from tsmsnet.steps.preprocess import faces
from tsmsnet.validate import check_config, check_workflow

REAL = Path("conformance") / "real-annotations"
REAL_XLS = "CAS(ME)3_part_A_v2.xls"
REAL_LABELS = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
PREFIX = Path("data") / "part_A_split" / "part_A"


def touch_frames(color: Path, numbers) -> None:
    """Empty `<n>.jpg` files: the reader lists names, it decodes nothing."""
    color.mkdir(parents=True, exist_ok=True)
    (color.parent / "depth").mkdir(exist_ok=True)
    (color.parent / "depth" / "1.png").touch()
    for n in numbers:
        (color / f"{n}.jpg").touch()


def read(root, dcfg):
    messages: list[str] = []
    videos, annotations = read_casme3(root, dcfg, messages.append)
    return videos, annotations, "\n".join(messages)


def filled_per_video(log: str) -> dict[str, int]:
    """{video: frames filled} from the reader's log line."""
    line = re.search(r"filled \d+ missing frame\(s\) .*?: (.*)", log).group(1)
    return {video: int(n) for video, n in (item.split(" ") for item in line.split(", "))}


@pytest.fixture
def dcfg(cfg):
    return cfg["datasets"]["casme3"]


# ---- the real annotation files --------------------------------------------------------------

# Videos given every frame of their range but these (the others: only the first and the last
# frame, so every number between is filled).
DROPS = {
    ("spNO.1", "a"): [9, 10, 400],
    ("spNO.216", "e"): [3],
    ("spNO.40", "e"): [],
}


@pytest.fixture(scope="module")
def real_root(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """Frames of the 1,300 Part A videos under a prefix, the real workbooks linked in place
    (../shared as the shared_dir fixture finds it; built once for this file's tests)."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    folder = SHARED / REAL
    ranges = pd.read_csv(folder / "casme3_partA_frame_ranges.csv", dtype={"video": str})
    root = tmp_path_factory.mktemp("real") / "casme3"
    for subject, video, start, end in ranges.itertuples(index=False):
        color = root / PREFIX / subject / video / "color"
        if (subject, video) in DROPS:
            drops = set(DROPS[subject, video])
            touch_frames(color, [n for n in range(start, end + 1) if n not in drops])
        else:
            touch_frames(color, [start, end])
    (root / REAL_XLS).symlink_to(folder / REAL_XLS)
    (root / REAL_LABELS).symlink_to(folder / REAL_LABELS)
    return root, ranges


def test_real_workbooks_counts(real_root, dcfg):
    root, _ = real_root
    _, annotations, log = read(root, dcfg)
    assert list(annotations.columns) == EMOTION_TABLE_COLUMNS
    assert len(annotations) == 4206
    assert annotations["type"].value_counts().to_dict() == {"macro": 3346, "micro": 860}
    assert annotations["subject"].nunique() == 98
    assert annotations["video"].nunique() == 956
    micro = annotations[annotations["type"] == "micro"]
    assert micro["subject"].nunique() == 94
    assert micro["emotion"].value_counts().to_dict() == {
        "negative": 457,
        "surprise": 187,
        "others": 161,
        "positive": 55,
    }
    assert (annotations.loc[annotations["type"] == "macro", "emotion"] == "").all()
    assert set(micro["emotion_raw"].str.lower()) == {
        "anger",
        "disgust",
        "fear",
        "sad",
        "happy",
        "surprise",
        "others",
    }
    # The upper-case `J` rows are video j of their subject.
    assert all(re.fullmatch(r"spNO\.\d+_[a-m]", v) for v in annotations["video"])
    assert "join no" not in log  # every micro row found its label row


def test_real_workbooks_typos_resolved_from_the_xls(real_root, dcfg):
    root, _ = real_root
    _, annotations, log = read(root, dcfg)

    def row(video, onset):
        found = annotations[(annotations["video"] == video) & (annotations["onset"] == onset)]
        assert len(found) == 1
        return found.iloc[0]

    def where(video, column, value):
        found = annotations[(annotations["video"] == video) & (annotations[column] == value)]
        return found[["type", "emotion"]].values.tolist()

    # The .xls boundaries are kept, the emotion joined; the label file's typos are logged.
    assert where("spNO.149_d", "apex", 160)[0][0] == "micro"
    assert where("spNO.149_d", "apex", 83) == []
    assert [
        w[0] for w in where("spNO.40_e", "offset", 1845) + where("spNO.40_e", "offset", 2403)
    ] == ["micro", "micro"]
    assert all(w[1] for w in where("spNO.40_e", "type", "micro"))
    assert re.search(r"apex 83 \(expressions workbook: 160\)", log)
    assert re.search(r"onset 3647 \(expressions workbook: 2647\)", log)
    assert re.search(r"offset 0 \(expressions workbook: 1845\)", log)
    assert re.search(r"offset 0 \(expressions workbook: 2403\)", log)
    assert len(re.findall("frame numbers are kept", log)) == 4
    assert row("spNO.216_d", 2647)[["apex", "offset", "type"]].tolist() == [2668, 2694, "micro"]
    assert row("spNO.216_d", 2647)["emotion_raw"] != ""
    assert not (annotations["offset"] == 0).any()
    # Onset 0 rows: scored as written, trained from the apex.
    zero = annotations[annotations["onset"] == 0]
    assert zero[["video", "type", "apex", "train_onset", "offset"]].values.tolist() == [
        ["spNO.215_l", "macro", 357, 357, 750],
        ["spNO.216_e", "micro", 0, 0, 25],
    ]
    assert "2 row(s) with onset 0" in log


def test_real_frames_layout_reads_first_frames_counts_and_fills(real_root, dcfg):
    root, ranges = real_root
    videos, _, log = read(root, dcfg)
    assert list(videos.columns) == VIDEO_COLUMNS
    assert len(videos) == 1300
    assert (videos["fps"] == 30).all()
    expected = ranges.assign(video=ranges["subject"] + "_" + ranges["video"]).set_index("video")
    got = videos.set_index("video").loc[expected.index]
    assert got["first_frame"].tolist() == expected["start"].tolist()
    assert got["n_frames"].tolist() == (expected["end"] - expected["start"] + 1).tolist()
    assert all(Path(s).name == "color" for s in videos["source"])
    filled = filled_per_video(log)
    for (subject, video), drops in DROPS.items():
        assert filled.get(f"{subject}_{video}", 0) == len(drops)
    sparse = expected.drop(index=[f"{s}_{v}" for s, v in DROPS])
    assert [filled[v] for v in sparse.index] == (sparse["end"] - sparse["start"] - 1).tolist()
    assert f"in {len(sparse) + 2} of 1300 videos" in log


# ---- small made-in-test datasets ------------------------------------------------------------

ROWS = pd.DataFrame(
    [
        ("spNO.1", "a", 10, 12, 15, "micro", "happy"),
        ("spNO.1", "a", 20, 25, 38, "macro", ""),
        ("spNO.1", "b", 5, 8, 12, "micro", "Others"),
        ("spNO.2", "a", 0, 4, 9, "micro", "disgust"),
        ("spNO.2", "c", 3, 6, 40, "macro", ""),
    ],
    columns=["subject", "video", "onset", "apex", "offset", "type", "emotion"],
)
# (subject, video) -> (first, last frame, missing numbers); spNO.2 d has no annotation.
FRAMES = {
    ("spNO.1", "a"): (2, 40, [11, 30, 31]),
    ("spNO.1", "b"): (3, 40, []),
    ("spNO.2", "a"): (1, 40, []),
    ("spNO.2", "c"): (2, 45, [44]),
    ("spNO.2", "d"): (1, 40, []),
}


def make_dataset(root: Path, rows: pd.DataFrame = ROWS, prefix: Path = PREFIX) -> Path:
    for (subject, video), (first, last, missing) in FRAMES.items():
        numbers = [n for n in range(first, last + 1) if n not in missing]
        touch_frames(root / prefix / subject / video / "color", numbers)
    write_casme3_workbooks(root / RELEASE_EXPRESSIONS, root / RELEASE_LABELS, rows)
    return root


def test_small_dataset_tables_and_log(tmp_path, dcfg):
    root = make_dataset(tmp_path, prefix=Path("."))  # subject folders right in data_root
    (root / f"~${RELEASE_EXPRESSIONS}").write_bytes(b"Excel lock file")
    videos, annotations, log = read(root, dcfg)
    assert videos[["video", "first_frame", "n_frames"]].values.tolist() == [
        ["spNO.1_a", 2, 39],
        ["spNO.1_b", 3, 38],
        ["spNO.2_a", 1, 40],
        ["spNO.2_c", 2, 44],
        ["spNO.2_d", 1, 40],
    ]
    assert annotations[
        ["video", "type", "onset", "offset", "emotion_raw", "emotion"]
    ].values.tolist() == [
        ["spNO.1_a", "micro", 10, 15, "happy", "positive"],
        ["spNO.1_a", "macro", 20, 38, "", ""],
        ["spNO.1_b", "micro", 5, 12, "Others", "others"],
        ["spNO.2_a", "micro", 0, 9, "disgust", "negative"],
        ["spNO.2_c", "macro", 3, 40, "", ""],
    ]
    assert annotations["train_onset"].tolist() == [10, 20, 5, 4, 3]
    assert filled_per_video(log) == {"spNO.1_a": 3, "spNO.2_c": 1}
    assert "filled 4 missing frame(s) from the frame before in 2 of 5 videos" in log
    assert "2 expression(s) span filled frames (kept)" in log  # 10..15 (11), 20..38 (30, 31)
    assert "1 video(s) without annotations (kept): spNO.2_d" in log
    assert "frame numbers are kept" not in log and "join no" not in log


def test_discover_matches_the_reader_and_finds_the_prefix(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    (root / PREFIX / "spNO.1" / "x").mkdir()  # not a video letter
    (root / PREFIX / "spNO.2" / "e" / "depth").mkdir(parents=True)  # no color/
    (root / "data" / "README").mkdir()
    found = discover_videos("casme3", root, dcfg)
    videos, _, log = read(root, dcfg)
    assert found.values.tolist() == videos[["subject", "video", "source"]].values.tolist()
    assert videos["source"][0] == str(root / PREFIX / "spNO.1" / "a" / "color")
    assert "ignored 2 entries that are not video folders: ['spNO.1/x', 'spNO.2/e']" in log


def test_names_are_case_folded(tmp_path, dcfg):
    rows = ROWS.copy()
    rows.loc[0, "video"] = "A"
    rows.loc[2, "subject"] = "SPNO.1"
    _, annotations, _ = read(make_dataset(tmp_path, rows), dcfg)
    assert annotations["video"].tolist()[:3] == ["spNO.1_a", "spNO.1_a", "spNO.1_b"]
    assert annotations["subject"].tolist()[:3] == ["spNO.1"] * 3
    assert annotations["emotion"].tolist()[:3] == ["positive", "", "others"]


def rewrite_labels(root: Path, edit) -> None:
    """Write the label workbook from ROWS changed by `edit` (the expressions one as is)."""
    rows = edit(ROWS.copy())
    write_casme3_workbooks(root / "unused.xlsx", root / RELEASE_LABELS, rows)
    (root / "unused.xlsx").unlink()


def test_label_typos_join_on_two_numbers_and_leftovers_are_logged(tmp_path, dcfg):
    root = make_dataset(tmp_path)

    def edit(rows):
        rows.loc[0, "onset"] = 100  # typo: joins on apex + offset
        rows.loc[2, "apex"] = 9  # typo: joins on onset + offset
        rows.loc[3, ["onset", "apex"]] = [1, 2]  # two numbers off: joins nothing
        return rows

    rewrite_labels(root, edit)
    _, annotations, log = read(root, dcfg)
    assert annotations["emotion"].tolist() == ["positive", "", "others", "", ""]
    assert annotations["onset"].tolist() == [10, 20, 5, 0, 3]  # the expressions workbook's
    assert "joined on apex+offset" in log and "its onset 100 (expressions workbook: 10)" in log
    assert "joined on onset+offset" in log and "its apex 9 (expressions workbook: 8)" in log
    assert re.search(r"1 micro-expression row\(s\) join no label row .*'AU\+Emotion', row 5", log)
    assert re.search(r"1 label row\(s\) join no micro-expression row .*'label', row 4", log)


def test_without_the_label_workbook_spotting_still_reads(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    (root / RELEASE_LABELS).unlink()
    _, annotations, log = read(root, dcfg)
    assert len(annotations) == 5 and (annotations["emotion"] == "").all()
    assert "no label workbook matching '*JpgIndex*.xlsx'" in log
    assert "the 3 micro-expressions have no emotion" in log


def test_onset_zero_kept_for_training_when_chosen(tmp_path, dcfg):
    dcfg["train_onset_zero"] = "keep"
    _, annotations, log = read(make_dataset(tmp_path), dcfg)
    assert annotations["train_onset"].tolist() == [10, 20, 5, 0, 3]
    assert "1 row(s) with onset 0, scored as written, training onset train_onset_zero=keep" in log
    assert target_settings("casme3", dcfg) == {"reader": "casme3", "train_onset_zero": "keep"}


def test_frame_gaps_error_keeps_the_strict_check(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    assert fills_frame_gaps("casme3", dcfg)
    dcfg["frame_gaps"] = "error"
    assert not fills_frame_gaps("casme3", dcfg)
    with pytest.raises(FramesError, match=r"spNO.1/a/color: frame numbers 2..40 have gaps"):
        read(root, dcfg)


def test_other_datasets_never_fill(cfg):
    for name in ("casme2", "samm_lv", "sheet"):
        assert not fills_frame_gaps(name, cfg["datasets"][name])


def test_fill_gaps_reads_the_frame_before(tmp_path):
    color = tmp_path / "color"
    color.mkdir()
    for n in (3, 4, 6, 9):
        ok, data = cv2.imencode(".png", np.full((4, 4), n * 10, np.uint8))
        data.tofile(color / f"{n}.png")
    with pytest.raises(FramesError, match="missing 5, 7, 8"):
        FrameSource(color)
    frames = FrameSource(color, fill_gaps=True)
    assert (frames.first_frame, frames.n_frames, frames.missing) == (3, 7, [5, 7, 8])
    values = [int(image[0, 0]) for image in frames.iter_grey()]
    assert values == [30, 40, 40, 60, 60, 60, 90]  # frame numbers 3..9
    assert int(frames.read(4)[0, 0]) == 60  # store index 4 = frame 7 = frame 6's image


def test_faces_step_stores_filled_frames_at_their_numbers(tmp_path):
    color = tmp_path / "color"
    color.mkdir()
    for n in (2, 3, 5):
        ok, data = cv2.imencode(".png", np.full((32, 32), n * 20, np.uint8))
        data.tofile(color / f"{n}.png")
    found = Landmarks(0, (0, 0, 32, 32), np.full((N_POINTS, 2), 16.0), (32, 32))
    found.to_json(tmp_path / "landmarks.json")
    args = dict(size=8, chunk=2, interpolation="linear", log=lambda _: None)
    with pytest.raises(FramesError, match="missing 4"):
        faces(str(color), str(tmp_path / "landmarks.json"), str(tmp_path / "f.zarr"), **args)
    out = tmp_path / "filled.zarr"
    faces(str(color), str(tmp_path / "landmarks.json"), str(out), fill_gaps=True, **args)
    store = open_store(out)
    assert store.attrs["first_frame"] == 2 and store.shape[0] == 4
    assert [int(store[i][0, 0]) for i in range(4)] == [40, 60, 60, 100]


# ---- errors name the place and the fix ------------------------------------------------------


def _set(rows: pd.DataFrame, index: int, column: str, value) -> pd.DataFrame:
    rows = rows.copy().astype({column: object})
    rows.loc[index, column] = value
    return rows


@pytest.mark.parametrize(
    "index, column, value, message",
    [
        (1, "onset", "?", r"onset '\?' is not a frame number: enter a number in that cell"),
        (1, "video", "ab", "Filename 'ab' is not a video letter"),
        (1, "subject", "spNO.9", "names video spNO.9_a, which has no frames under the data root"),
        (1, "offset", 45, "offset 45 is beyond the last frame 40 of"),
        (1, "onset", 39, "onset is after offset"),
    ],
)
def test_bad_expression_rows_are_named(tmp_path, dcfg, index, column, value, message):
    root = make_dataset(tmp_path, _set(ROWS, index, column, value))
    with pytest.raises(AnnotationError, match=message) as err:
        read_dataset("casme3", root, dcfg, log=lambda _: None)
    assert f"{RELEASE_EXPRESSIONS}, sheet 'AU+Emotion', row 3" in str(err.value)


def test_bad_type_and_unknown_emotion_are_named(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    rewrite_labels(root, lambda rows: _set(rows, 0, "emotion", "joy"))
    with pytest.raises(AnnotationError) as err:
        read(root, dcfg)
    message = str(err.value)
    assert "emotion label(s) not in datasets.casme3.emotions: 'joy' at " in message
    assert f"{RELEASE_LABELS}, sheet 'label', row 2: add each to that mapping" in message
    import openpyxl

    wb = openpyxl.load_workbook(root / RELEASE_EXPRESSIONS)
    wb.active["G4"] = "Blink"
    wb.save(root / RELEASE_EXPRESSIONS)
    with pytest.raises(AnnotationError, match="row 4: type 'Blink' is neither Macro-expression"):
        read(root, dcfg)


def test_workbook_errors(tmp_path, dcfg):
    import openpyxl

    root = make_dataset(tmp_path)
    wb = openpyxl.load_workbook(root / RELEASE_EXPRESSIONS)
    wb.active["G1"] = "Kind"
    wb.save(root / RELEASE_EXPRESSIONS)
    with pytest.raises(
        AnnotationError, match=r"header row 1 lacks column\(s\) \['expressiontype'\]"
    ):
        read(root, dcfg)
    wb.active.title = "Sheet1"
    wb.save(root / RELEASE_EXPRESSIONS)
    with pytest.raises(AnnotationError, match="has no sheet 'AU\\+Emotion' \\(sheets: Sheet1\\)"):
        read(root, dcfg)
    (root / "CAS(ME)3_part_A_v2.xls").write_bytes(b"not an xls")
    with pytest.raises(AnnotationError, match="several expressions workbooks match"):
        read(root, dcfg)
    (root / RELEASE_EXPRESSIONS).unlink()
    with pytest.raises(AnnotationError, match=r"CAS\(ME\)3_part_A_v2.xls cannot be opened"):
        read(root, dcfg)
    (root / "CAS(ME)3_part_A_v2.xls").unlink()
    with pytest.raises(AnnotationError, match="no CAS\\(ME\\)\\^3 expressions workbook matching"):
        read(root, dcfg)


def test_subject_folders_not_found_or_ambiguous(tmp_path, dcfg):
    (tmp_path / "empty" / "a" / "b").mkdir(parents=True)
    with pytest.raises(InputError, match="no folder within 4 levels holds spNO.\\* subject"):
        read(tmp_path / "empty", dcfg)
    root = make_dataset(tmp_path / "two")
    (root / "data" / "part_A_split" / "copy" / "spNO.1").mkdir(parents=True)
    with pytest.raises(InputError, match="several folders hold spNO.\\* subject folders"):
        read(root, dcfg)
    with pytest.raises(InputError, match="does not exist"):
        read(tmp_path / "nope", dcfg)


def test_bad_choices(tmp_path, dcfg):
    root = make_dataset(tmp_path)
    with pytest.raises(ConfigError, match="frame_gaps must be one of"):
        read(root, {**dcfg, "frame_gaps": "skip"})
    with pytest.raises(ConfigError, match="train_onset_zero must be one of"):
        read(root, {**dcfg, "train_onset_zero": "midpoint"})


# ---- the DAG-time checks --------------------------------------------------------------------


@pytest.fixture
def c3_cfg(cfg, tmp_path):
    cfg.update(dataset="casme3", data_root=str(make_dataset(tmp_path / "c3")))
    return cfg


def test_dataset_check_passes_and_names_short_videos(c3_cfg):
    checked = check_workflow(c3_cfg, SCHEMA)
    assert checked.videos["video"].tolist() == [
        "spNO.1_a",
        "spNO.1_b",
        "spNO.2_a",
        "spNO.2_c",
        "spNO.2_d",
    ]
    assert checked.types == {"spNO.1": {"macro", "micro"}, "spNO.2": {"macro", "micro"}}
    touch_frames(Path(c3_cfg["data_root"]) / PREFIX / "spNO.3" / "a" / "color", range(1, 21))
    with pytest.raises(InputError, match=r"video spNO.3_a .* has 20 frames but config cas_macro"):
        check_workflow(c3_cfg, SCHEMA)


def test_config_errors(c3_cfg, tmp_path):
    c3_cfg["datasets"]["casme3"]["emotions"]["happy"] = "joy"
    with pytest.raises(ConfigError, match="config datasets.casme3.emotions.happy: 'joy' is not"):
        check_config(c3_cfg, SCHEMA)
    c3_cfg["datasets"]["casme3"]["emotions"]["happy"] = "positive"
    c3_cfg["datasets"]["casme3"]["frame_gaps"] = "skip"
    with pytest.raises(ConfigError, match="config datasets.casme3.frame_gaps: 'skip' is not"):
        check_config(c3_cfg, SCHEMA)
    c3_cfg["datasets"]["casme3"]["frame_gaps"] = "fill"
    c3_cfg.update(models="upstream", upstream_weights=str(tmp_path))
    with pytest.raises(ConfigError, match="no weights of config cas_micro for casme3 data"):
        check_workflow(c3_cfg, SCHEMA)
    c3_cfg.update(models="trained", data_root="")
    with pytest.raises(ConfigError, match="dataset=casme3 needs data_root"):
        check_workflow(c3_cfg, SCHEMA)
