"""Synthetic emotion labels: derived from each expression's motion kinds without a random
draw, written where each real layout keeps its labels, and read back by the real readers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tsmsnet.datasets import annotation_files, read_dataset
from tsmsnet.errors import ConfigError
from tsmsnet.synthetic import generate
from tsmsnet.synthetic.emotions import emotion_label
from tsmsnet.synthetic.generate import planned_rows, write_ground_truth
from tsmsnet.synthetic.plan import video_plan


def facs_class(kinds: str) -> str:
    """The classes config.yaml's table encodes, restated: a smile is positive whatever the
    brows do; raised brows alone are surprise; every other motion is negative."""
    moved = set(kinds.split("+"))
    if "smile" in moved:
        return "positive"
    return "surprise" if moved == {"brow_raise"} else "negative"


def preset(layout: str, subjects: int = 6, videos: int = 2) -> dict:
    return {
        "layout": layout,
        "subjects": subjects,
        "videos_per_subject": videos,
        "frames": 216,
        "image_size": 200,
    }


def test_labels_follow_the_kinds_and_cover_every_class(cfg):
    rows = planned_rows(cfg["synthetic"], preset("casme2"), 2021, 30.0)
    emotions = cfg["synthetic"]["emotions"]
    labels = [emotion_label(k, emotions, "casme2") for k in rows["kinds"]]
    assert labels == [facs_class(k) for k in rows["kinds"]]
    counts = Counter(labels)
    assert set(counts) == {"negative", "positive", "surprise"}, counts
    assert counts["negative"] > counts["positive"]  # 2/3 of the draws, as the config says
    # CAS(ME)^3 spells them as its label workbook does; the casme3 mapping gives the same classes.
    mapping = cfg["datasets"]["casme3"]["emotions"]
    c3 = [mapping[emotion_label(k, emotions, "casme3")] for k in rows["kinds"]]
    assert c3 == labels


def test_generation_never_reads_the_label_table(cfg, tmp_path):
    """Frames and rows come out byte for byte the same with any label table, or none: the
    labels are derived afterwards from the kinds the stream drew anyway."""
    small = {
        "layout": "casme2",
        "subjects": 1,
        "videos_per_subject": 1,
        "frames": 64,
        "image_size": 96,
    }
    flipped = {**cfg["synthetic"]["emotions"]}
    flipped["decides"] = list(reversed(flipped["decides"]))
    variants = {
        "as_configured": cfg["synthetic"],
        "flipped": {**cfg["synthetic"], "emotions": flipped},
        "none": {k: v for k, v in cfg["synthetic"].items() if k != "emotions"},
    }
    frames, rows = {}, {}
    for name, synthetic in variants.items():
        synthetic = {**synthetic, "presets": {"p": small}}
        rows[name] = generate.generate_subject(tmp_path / name, 0, synthetic, "p", 7, 30.0)
        frames[name] = {
            p.relative_to(tmp_path / name): p.read_bytes()
            for p in sorted((tmp_path / name).rglob("*.jpg"))
        }
    assert len(frames["none"]) == 64
    assert frames["as_configured"] == frames["flipped"] == frames["none"]
    assert rows["as_configured"].equals(rows["none"]) and rows["flipped"].equals(rows["none"])


def test_unknown_or_missing_kinds_are_config_errors(cfg):
    emotions = cfg["synthetic"]["emotions"]
    with pytest.raises(ConfigError, match="decides lists none of the kinds"):
        emotion_label("smile", {**emotions, "decides": ["brow_raise"]}, "casme2")
    labels = {**emotions["labels"], "casme2": {"smile": "positive"}}
    with pytest.raises(ConfigError, match="lacks"):
        emotion_label("smile", {**emotions, "labels": labels}, "casme2")


def _frames(root: Path, plan, n_frames: int) -> None:
    """Empty frame files as generation names them (the readers list names, decode nothing)."""
    folder = root / plan.folder
    folder.mkdir(parents=True, exist_ok=True)
    if plan.folder.name == "color":
        (folder.parent / "depth").mkdir(exist_ok=True)
    dropped = plan.dropped(n_frames)
    for i in range(n_frames):
        if i not in dropped:
            (folder / plan.frame_file(plan.first_frame + i)).touch()


@pytest.mark.parametrize("layout", ["casme2", "casme3"])
def test_workbook_round_trip_through_the_real_reader(cfg, tmp_path, layout):
    p = preset(layout, subjects=3, videos=2)
    rows = planned_rows(cfg["synthetic"], p, 2021, 30.0)
    for i in range(p["subjects"]):
        for j in range(p["videos_per_subject"]):
            _frames(tmp_path, video_plan(i, j, layout), p["frames"])
    dcfg = cfg["datasets"][layout]
    outs = annotation_files(layout, tmp_path, dcfg, present=False)
    write_ground_truth(rows, layout, outs, tmp_path / "gt.csv", cfg["synthetic"]["emotions"])
    _, annotations = read_dataset(layout, tmp_path, dcfg, log=lambda _: None)
    key = ["video", "type", "onset", "offset"]
    got = annotations.sort_values(key).reset_index(drop=True)
    want = rows.sort_values(key).reset_index(drop=True)
    assert got[key].values.tolist() == want[key].values.tolist()
    classes = [facs_class(k) for k in want["kinds"]]
    if layout == "casme3":  # its label workbook holds the micro-expressions only
        classes = [c if t == "micro" else "" for c, t in zip(classes, want["type"], strict=True)]
    assert got["emotion"].tolist() == classes
    micro = got[got["type"] == "micro"]
    assert Counter(micro["emotion"]) == Counter(
        facs_class(k) for k, t in zip(want["kinds"], want["type"], strict=True) if t == "micro"
    )


def test_rows_carry_the_kinds_the_frames_were_drawn_with(cfg):
    """The rows generation writes and the planned rows agree, kinds included."""
    synthetic = {**cfg["synthetic"], "presets": {"p": preset("casme2", 1, 1)}}
    face = generate.make_face(3, 0, 200, synthetic["face"])
    script = generate.plan_video(face, 0, 0, synthetic, synthetic["presets"]["p"], 3, 30.0, 128)
    planned = planned_rows(synthetic, synthetic["presets"]["p"], 3, 30.0)
    assert sorted("+".join(e.kinds) for e in script.expressions) == sorted(planned["kinds"])
