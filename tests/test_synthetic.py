"""Synthetic dataset: real layout and names, determinism, a findable face, honest ground truth."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tsmsnet.atomic import TEMP_MARK
from tsmsnet.datasets import annotation_files, discover_videos, read_dataset
from tsmsnet.errors import ConfigError
from tsmsnet.preprocess.features import strain
from tsmsnet.synthetic import motion
from tsmsnet.synthetic.face import make_face
from tsmsnet.synthetic.generate import (
    generate_subject,
    place_expressions,
    plan_video,
    planned_types,
    tilt_angles,
    write_ground_truth,
)
from tsmsnet.synthetic.plan import planned_videos, subject_plan, video_plan

FACE_SIZE = 128
TINY = {
    "layout": "casme2",
    "subjects": 2,
    "videos_per_subject": 2,
    "frames": 150,
    "image_size": 128,
}
SEED = 7


def _synthetic(cfg: dict, preset: dict, quiet: bool = False) -> dict:
    """The config's synthetic section with `preset` as preset 't' (and distractors off)."""
    syn = copy.deepcopy(cfg["synthetic"])
    syn["presets"]["t"] = preset
    if quiet:
        dis = cfg["synthetic"]["distractors"]
        syn["distractors"] = {k: 0.0 for k in dis}
        for k in ("blink_duration_s", "head_tilt_deg", "head_tilt_duration_s"):
            syn["distractors"][k] = dis[k]
    return syn


def _generate(root: Path, cfg: dict, preset: dict, seed: int, subjects, quiet=False):
    syn = _synthetic(cfg, preset, quiet)
    fps = cfg["datasets"][preset["layout"]]["fps"]
    rows = [generate_subject(root, i, syn, "t", seed, fps, FACE_SIZE) for i in subjects]
    return pd.concat(rows, ignore_index=True)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write_truth(root: Path, cfg: dict, rows: pd.DataFrame, layout: str) -> list[Path]:
    """The workbook(s) where the layout's reader looks, as the synthetic_workbook rule writes
    them."""
    books = annotation_files(layout, root, cfg["datasets"][layout], present=False)
    return write_ground_truth(rows, layout, books, root / "ground_truth.csv")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny CAS(ME)^2-layout run (2 subjects x 2 videos) with its workbook."""
    from tsmsnet.config import load_config

    cfg = load_config()
    root = tmp_path_factory.mktemp("casme2")
    rows = _generate(root, cfg, TINY, SEED, range(TINY["subjects"]))
    _write_truth(root, cfg, rows, TINY["layout"])
    return cfg, root, rows


def test_names_follow_the_real_layouts():
    assert subject_plan(0, "casme2").subject == "s15"
    v = video_plan(1, 0, "casme2")
    assert (v.subject, v.video, v.video_name) == ("s16", "s16_0101", "disgust1")
    assert v.folder.as_posix() == "rawpic/s16/16_0101disgustingteeth"
    assert v.frame_file(1) == "img1.jpg"
    assert video_plan(0, 8, "casme2").video == "s15_0508"
    s = video_plan(1, 1, "samm_lv")
    assert (s.subject, s.video, s.folder.as_posix()) == ("007", "007_2", "007_2")
    assert s.frame_file(12) == "007_2_0012.jpg"
    with pytest.raises(ConfigError):
        video_plan(0, 9, "casme2")
    c = video_plan(1, 2, "casme3")
    assert (c.subject, c.video, c.video_name) == ("spNO.2", "spNO.2_c", "c")
    assert c.folder.as_posix() == "part_A/spNO.2/c/color"
    assert c.frame_file(12) == "12.jpg"
    with pytest.raises(ConfigError):
        video_plan(0, 13, "casme3")
    with pytest.raises(ConfigError):
        subject_plan(0, "casme4")


def test_casme3_layout_numbers_from_a_small_integer_with_drops(tmp_path, cfg):
    """Frames <n>.jpg from 3, two rendered frames unwritten; the reader fills them, finds the
    prefix and reads both workbooks back."""
    preset = {
        "layout": "casme3",
        "subjects": 2,
        "videos_per_subject": 1,
        "frames": 40,
        "image_size": 128,
    }
    rows = _generate(tmp_path, cfg, preset, SEED, [0, 1])
    color = tmp_path / "part_A" / "spNO.1" / "a" / "color"
    numbers = sorted(int(p.stem) for p in color.iterdir())
    assert numbers[0] == 3 and numbers[-1] == 42  # 40 frames numbered from 3
    dropped = sorted(set(range(3, 43)) - set(numbers))
    assert len(dropped) == 2 and all(3 < n < 42 for n in dropped)
    assert rows["onset"].min() >= 3 and rows["offset"].max() <= 42
    books = _write_truth(tmp_path, cfg, rows, "casme3")
    assert [p.name for p in books] == [
        "CAS(ME)3_part_A_v2.xlsx",
        "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx",
    ]
    planned = planned_videos(preset, tmp_path)
    found = discover_videos("casme3", tmp_path, cfg["datasets"]["casme3"])
    assert found[["subject", "video"]].values.tolist() == [
        ["spNO.1", "spNO.1_a"],
        ["spNO.2", "spNO.2_a"],
    ]
    assert sorted(planned["source"]) == sorted(found["source"])
    messages: list[str] = []
    videos, ann = read_dataset("casme3", tmp_path, cfg["datasets"]["casme3"], messages.append)
    assert videos[["first_frame", "n_frames"]].values.tolist() == [[3, 40], [3, 40]]
    assert "filled 4 missing frame(s) from the frame before in 2 of 2 videos" in "\n".join(messages)
    cols = ["video", "type", "onset", "apex", "offset"]
    got = ann[cols].sort_values(cols).reset_index(drop=True)
    want = rows[cols].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_planned_videos_are_what_was_written_and_what_the_reader_finds(tiny):
    cfg, root, _ = tiny
    planned = planned_videos(TINY, root)
    written = sorted(str(p) for p in (root / "rawpic").glob("s*/*") if p.is_dir())
    assert sorted(planned["source"]) == written
    found = discover_videos("casme2", root, cfg["datasets"]["casme2"])
    key = ["subject", "video"]
    pd.testing.assert_frame_equal(
        planned.sort_values(key).reset_index(drop=True)[key],
        found.sort_values(key).reset_index(drop=True)[key],
    )
    assert sorted(Path(s).resolve() for s in planned["source"]) == sorted(
        Path(s).resolve() for s in found["source"]
    )


def test_reader_reads_back_the_ground_truth(tiny):
    cfg, root, rows = tiny
    videos, ann = read_dataset("casme2", root, cfg["datasets"]["casme2"], log=lambda m: None)
    assert (videos["n_frames"] == TINY["frames"]).all() and (videos["first_frame"] == 1).all()
    cols = ["video", "type", "onset", "apex", "offset"]
    got = ann[cols].sort_values(cols).reset_index(drop=True)
    want = rows[cols].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    csv = pd.read_csv(root / "ground_truth.csv")
    assert list(csv.columns) == cols and len(csv) == len(rows)


def test_same_subject_same_bytes_whatever_the_count_and_seed_matters(tiny, tmp_path):
    cfg, root, _ = tiny
    s15 = root / "rawpic" / "s15"
    before = _digest(s15)
    three = dict(TINY, subjects=3)
    _generate(tmp_path / "a", cfg, three, SEED, [0])
    assert _digest(tmp_path / "a" / "rawpic" / "s15") == before
    _generate(root, cfg, TINY, SEED, [0])  # regenerate in place
    assert _digest(s15) == before
    assert not any(TEMP_MARK in p.name for p in s15.iterdir())
    _generate(tmp_path / "b", cfg, TINY, SEED + 1, [0])
    other = _digest(tmp_path / "b" / "rawpic" / "s15")
    assert other.keys() == before.keys() and other != before


def test_dlib_finds_the_face_in_frame_one_of_every_video(tiny):
    import dlib

    _, root, _ = tiny
    detector = dlib.get_frontal_face_detector()
    for folder in sorted((root / "rawpic").glob("s*/*")):
        frame = cv2.imread(str(folder / "img1.jpg"), cv2.IMREAD_GRAYSCALE)
        assert len(detector(frame, 1)) >= 1, folder


@pytest.mark.parametrize("subject", range(6))
def test_face_found_at_every_preset_image_size(cfg, subject):
    for size in sorted({p["image_size"] for p in cfg["synthetic"]["presets"].values()}):
        face = make_face(cfg["seed"], subject, size, cfg["synthetic"]["face"])
        assert face.points.shape == (68, 2)
        assert 0.3 * size < face.box_width < 0.9 * size


def test_ground_truth_inside_the_video_apart_and_in_range(tiny):
    cfg, _, rows = tiny
    fps = cfg["datasets"]["casme2"]["fps"]
    ex = cfg["synthetic"]["expressions"]
    gap = ex["min_gap_s"] * fps
    assert set(rows["type"]) == {"macro", "micro"}
    for _, g in rows.groupby("video"):
        g = g.sort_values("onset")
        assert list(g["expression_number"]) == list(range(1, len(g) + 1))
        assert (g["onset"] < g["apex"]).all() and (g["apex"] < g["offset"]).all()
        assert g["onset"].iloc[0] - 1 >= gap and TINY["frames"] - g["offset"].iloc[-1] >= gap
        assert (g["onset"].to_numpy()[1:] - g["offset"].to_numpy()[:-1] - 1 >= gap).all()
        for row in g.itertuples():
            lo, hi = ex[row.type]["duration_s"]
            length = row.offset - row.onset + 1
            assert round(lo * fps) <= length <= round(hi * fps)


def test_default_preset_keeps_same_type_apexes_beyond_the_fusion_reach(cfg):
    """Step 2 fuses two positive proposals whose peaks are within 4K frames; the default
    preset's expressions of one type are further apart, so fusion never joins two of them."""
    ex = cfg["synthetic"]["expressions"]
    preset = cfg["synthetic"]["presets"]["default"]
    fps = cfg["datasets"]["casme2"]["fps"]
    for name in cfg["datasets"]["casme2"]["configs"]:
        spot = cfg["configs"][name]
        assert ex[spot["type"]]["min_apex_gap_s"] * fps > 4 * spot["K"], name
    logged: list[str] = []
    for v in range(40):
        rng = np.random.default_rng([SEED, v])
        placed = place_expressions(rng, preset["frames"], fps, ex, logged.append, f"v{v}")
        assert len(placed) == ex["macro"]["per_video"] + ex["micro"]["per_video"]
        for etype in ("macro", "micro"):
            apexes = sorted(e.apex for e in placed if e.type == etype)
            assert np.diff(apexes).min() >= ex[etype]["min_apex_gap_s"] * fps, (v, etype)
    assert logged == []


def test_apex_gap_that_cannot_fit_is_logged_not_fatal(cfg):
    ex = copy.deepcopy(cfg["synthetic"]["expressions"])
    ex["macro"]["min_apex_gap_s"] = 100.0
    logged: list[str] = []
    placed = place_expressions(np.random.default_rng(0), 240, 30.0, ex, logged.append, "v")
    assert len(placed) == ex["macro"]["per_video"] + ex["micro"]["per_video"]
    assert len(logged) == 1 and "v:" in logged[0] and "raise the preset's frames" in logged[0]


def test_too_few_frames_keep_what_fits_and_say_so(cfg):
    ex = cfg["synthetic"]["expressions"]
    logged: list[str] = []
    placed = place_expressions(np.random.default_rng(0), 75, 30.0, ex, logged.append, "v")
    gap = int(np.ceil(ex["min_gap_s"] * 30))
    assert 1 <= len(placed) < ex["macro"]["per_video"] + ex["micro"]["per_video"]
    assert placed[0].onset >= gap and placed[-1].offset <= 75 - 1 - gap
    assert all(b.onset - a.offset - 1 >= gap for a, b in zip(placed[:-1], placed[1:], strict=True))
    assert any("dropped" in line for line in logged), logged


def test_placement_packs_tight_videos_and_still_varies(cfg):
    """Tighter than random spreads manage (they failed 146 of 300 videos at 216 frames):
    every draw is packed with its gaps, and layouts still differ between videos."""
    ex = cfg["synthetic"]["expressions"]
    logged: list[str] = []
    layouts, first_onsets = set(), set()
    for v in range(100):
        placed = place_expressions(np.random.default_rng([7, v]), 210, 30.0, ex, logged.append, "v")
        layouts.add(tuple((e.type, e.onset) for e in placed))
        first_onsets.add(placed[0].onset)
        for etype in ("macro", "micro"):
            apexes = sorted(e.apex for e in placed if e.type == etype)
            assert np.diff(apexes).min() >= ex[etype]["min_apex_gap_s"] * 30
    assert logged == [] and len(layouts) >= 90 and len(first_onsets) >= 5


def test_planned_types_are_the_generated_ground_truths_types(cfg, tmp_path):
    """What the DAG-time check knows of each subject (no pixels) is what generation writes,
    also where short videos drop expressions."""
    synthetic = copy.deepcopy(cfg["synthetic"])
    synthetic["expressions"]["micro"]["per_video"] = 1
    preset = {"layout": "casme2", "subjects": 3, "videos_per_subject": 1, "frames": 75}
    synthetic["presets"] = {"short": {**preset, "image_size": 64}}
    truth = pd.concat(
        [generate_subject(tmp_path, i, synthetic, "short", 7, fps=30) for i in range(3)]
    )
    generated = {s: set(g["type"]) for s, g in truth.groupby("subject")}
    planned = planned_types(synthetic, synthetic["presets"]["short"], 7, 30.0)
    assert planned == generated and set(planned) == {"s15", "s16", "s17"}
    assert any(len(kinds) == 1 for kinds in planned.values()), planned  # one type dropped
    synthetic["expressions"]["micro"]["per_video"] = 0
    planned = planned_types(synthetic, {**preset, "frames": 216}, 7, 30.0)
    assert planned == {"s15": {"macro"}, "s16": {"macro"}, "s17": {"macro"}}


def test_tilts_follow_the_config_and_vanish_at_rate_zero(cfg):
    dis = {**cfg["synthetic"]["distractors"], "head_tilts_per_s": 0.05}
    lo, hi = dis["head_tilt_deg"]
    a = tilt_angles(np.random.default_rng(3), 3000, 30.0, dis)
    assert np.array_equal(a, tilt_angles(np.random.default_rng(3), 3000, 30.0, dis))
    moving = np.abs(a) > 1e-9
    starts = np.flatnonzero(moving[1:] & ~moving[:-1]) + 1
    assert 1 <= len(starts) <= 15  # Poisson mean 5 tilts in 100 s
    assert lo <= np.abs(a).max() <= 2 * hi  # two tilts may overlap and add
    longest = max(len(r) for r in np.split(moving, np.flatnonzero(np.diff(moving)) + 1) if r[0])
    assert longest <= 2 * dis["head_tilt_duration_s"][1] * 30
    none = tilt_angles(np.random.default_rng(3), 300, 30.0, {**dis, "head_tilts_per_s": 0.0})
    assert not none.any()


def test_a_tilt_moves_the_face_like_an_expression_but_leaves_no_strain(cfg):
    """What tilts test: a rigid turn moves the face as much as an expression does (a
    flow-magnitude detector fires), yet its optical strain is near zero (a network that reads
    the strain channel can learn to tell them apart)."""
    face = make_face(SEED, 0, 200, cfg["synthetic"]["face"])
    left, top, right, bottom = face.box
    shape = face.image.shape
    expr = motion.expression_field(face.points, face.box_width, shape, "smile", 2.0)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    cx, cy = face.points[motion.NOSE_TIP]
    a = np.deg2rad(cfg["synthetic"]["distractors"]["head_tilt_deg"][1])
    tilt = np.stack(
        [
            np.cos(a) * (xx - cx) - np.sin(a) * (yy - cy) + cx - xx,
            np.sin(a) * (xx - cx) + np.cos(a) * (yy - cy) + cy - yy,
        ],
        axis=-1,
    )
    box = (slice(top, bottom), slice(left, right))
    moved = {k: np.hypot(f[..., 0], f[..., 1])[box] for k, f in (("e", expr), ("t", tilt))}
    strains = {k: strain(f[None].astype(np.float64))[0][box] for k, f in (("e", expr), ("t", tilt))}
    assert moved["t"].mean() > moved["e"].mean()
    assert strains["t"].max() < 0.1 * strains["e"].max()


def test_amplitudes_at_face_scale(cfg):
    syn = cfg["synthetic"]
    preset = dict(syn["presets"]["default"])
    face = make_face(SEED, 0, preset["image_size"], syn["face"])
    fps = cfg["datasets"]["casme2"]["fps"]
    peaks = {"macro": [], "micro": []}
    for j in range(preset["videos_per_subject"]):
        script = plan_video(face, 0, j, syn, preset, SEED, fps, FACE_SIZE)
        for e, layer in zip(script.expressions, script.layers, strict=False):
            assert layer.weights[e.apex] == 1.0 and layer.weights[e.onset] == 0.0
            peak = np.sqrt((layer.field**2).sum(-1)).max() * FACE_SIZE / face.box_width
            lo, hi = syn["expressions"][e.type]["amplitude_px"]
            assert lo - 1e-3 <= peak <= hi + 1e-3
            peaks[e.type].append(peak)
    assert peaks["micro"] and peaks["macro"]
    assert min(peaks["macro"]) > max(peaks["micro"])


def test_measured_flow_matches_the_amplitude(cfg, tmp_path):
    """Farneback flow on the 128x128 face crop (distractors off) sees the drawn displacement
    (flow smooths small bumps, so it may read somewhat low)."""
    preset = dict(TINY, subjects=1, videos_per_subject=1, image_size=200)
    rows = _generate(tmp_path, cfg, preset, SEED, [0], quiet=True)
    folder = tmp_path / video_plan(0, 0, "casme2").folder
    face = make_face(SEED, 0, preset["image_size"], cfg["synthetic"]["face"])
    left, top, right, bottom = face.box

    def crop(n):
        img = cv2.imread(str(folder / f"img{n}.jpg"), cv2.IMREAD_GRAYSCALE)
        return cv2.resize(img[top:bottom, left:right], (FACE_SIZE, FACE_SIZE))

    syn = _synthetic(cfg, preset, quiet=True)
    script = plan_video(face, 0, 0, syn, preset, SEED, cfg["datasets"]["casme2"]["fps"], FACE_SIZE)
    assert len(script.expressions) == len(rows) >= 2
    for e in script.expressions:
        flow = cv2.calcOpticalFlowFarneback(
            crop(e.onset + 1), crop(e.apex + 1), None, 0.5, 3, 15, 3, 5, 1.2, 0
        )
        peak = np.percentile(np.hypot(flow[..., 0], flow[..., 1]), 99.9)
        assert 0.6 * e.amplitude_px <= peak <= 1.3 * e.amplitude_px, (e, peak)


def test_samm_layout_names(cfg, tmp_path):
    preset = {
        "layout": "samm_lv",
        "subjects": 1,
        "videos_per_subject": 2,
        "frames": 40,
        "image_size": 128,
    }
    rows = _generate(tmp_path, cfg, preset, SEED, [0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["006_1", "006_2"]
    assert sorted(p.name for p in (tmp_path / "006_1").iterdir())[:2] == [
        "006_1_0001.jpg",
        "006_1_0002.jpg",
    ]
    assert len(list((tmp_path / "006_2").iterdir())) == 40
    planned = planned_videos(preset, tmp_path)
    assert list(planned["video"]) == ["006_1", "006_2"] and set(planned["subject"]) == {"006"}
    assert [p.is_file() for p in _write_truth(tmp_path, cfg, rows, "samm_lv")] == [True]
    found = discover_videos("samm_lv", tmp_path, cfg["datasets"]["samm_lv"])
    assert sorted(found["video"]) == ["006_1", "006_2"]
