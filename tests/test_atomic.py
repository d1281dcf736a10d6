"""Crash-safe writes (tsmsnet.atomic): a writer killed at any point leaves no output that looks
complete, and the next write of the same output removes what the dead one left.

Each writer below is the step function a rule runs. It runs in a child process whose renames
stall (the last moment before an output would appear, when every byte is already written);
the child is SIGKILLed there. Then no output of the job may exist, only hidden temps, and
rerunning the writer in this process gives every output and leaves no temp.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsmsnet.atomic import TEMP_MARK, atomic_text, remove_stale_temps, temp_path, written_aside
from tsmsnet.runlog import quiet

REPO = Path(__file__).resolve().parents[1]
SEED = 7


def evaluation_logs(root: Path) -> list[Path]:
    """The evaluate rule's step: six logs from fold predictions."""
    from dataclasses import astuple, fields

    from tsmsnet.evaluation.logs import LogPaths
    from tsmsnet.steps.evaluate import evaluate_dataset

    truth = pd.DataFrame(
        {
            "subject": ["A", "B"],
            "video": ["a1", "b1"],
            "type": ["micro", "micro"],
            "onset": [10, 30],
            "apex": [12, 33],
            "offset": [15, 40],
        }
    )
    truth.to_csv(root / "annotations.csv", index=False)
    truth[["subject", "video"]].to_csv(root / "videos.csv", index=False)
    preds = []
    for subject, video in (("A", "a1"), ("B", "b1")):
        path = root / f"{subject}.csv"
        pd.DataFrame(
            {"video": [video], "type": ["micro"], "onset": [10], "offset": [15], "score": [1.0]}
        ).to_csv(path, index=False)
        preds.append(str(path))
    out = LogPaths.in_folder(root / "evaluation")
    evaluate_dataset(
        annotations_csv=str(root / "annotations.csv"),
        videos_csv=str(root / "videos.csv"),
        predictions={"step2": preds, "step1": preds, "classical": preds},
        labels=[("c_micro", "A"), ("c_micro", "B")],
        config_types={"c_micro": "micro"},
        outputs={f.name: str(getattr(out, f.name)) for f in fields(LogPaths)},
        log=quiet,
    )
    return list(astuple(out))


def landmarks_json(root: Path) -> list[Path]:
    """The landmarks rule's output."""
    from tsmsnet.preprocess.landmarks import Landmarks

    points = np.random.default_rng(SEED).uniform(10, 90, size=(68, 2))
    Landmarks(3, (5, 5, 95, 95), points, (100, 100)).to_json(root / "v.json")
    return [root / "v.json"]


def synthetic_workbook(root: Path) -> list[Path]:
    """The synthetic_workbook rule's step: the CAS(ME)^2 workbook and the plain CSV."""
    from tsmsnet.config import load_config
    from tsmsnet.steps.data import synthetic_workbook as step

    rows = pd.DataFrame(
        {
            "subject": ["s15"],
            "video": ["s15_0101"],
            "video_name": ["disgust1"],
            "expression_number": [1],
            "type": ["macro"],
            "onset": [10],
            "apex": [20],
            "offset": [40],
            "kinds": ["smile"],
        }
    )
    rows.to_csv(root / "s15.csv", index=False)
    book, csv = root / "data" / "book.xlsx", root / "data" / "ground_truth.csv"
    emotions = load_config()["synthetic"]["emotions"]
    step([str(root / "s15.csv")], "casme2", emotions, [str(book)], str(csv), log=quiet)
    return [book, csv]


def synthetic_frames(root: Path) -> list[Path]:
    """The synthetic_subject rule's step: one subject's frames folders and its truth rows."""
    from tsmsnet.config import load_config
    from tsmsnet.steps.data import synthetic_subject

    cfg = load_config()
    preset = {"layout": "casme2", "videos_per_subject": 1, "frames": 150, "image_size": 128}
    synthetic_subject(
        data_root=str(root / "data"),
        subject_index=0,
        preset=preset,
        synthetic={k: v for k, v in cfg["synthetic"].items() if k != "presets"},
        fps=30.0,
        seed=SEED,
        face_size=128,
        truth_out=str(root / "s15.csv"),
        log=quiet,
    )
    return [*sorted((root / "data" / "rawpic" / "s15").iterdir()), root / "s15.csv"]


def figure(root: Path) -> list[Path]:
    """Every report figure goes through save_png."""
    from matplotlib.figure import Figure

    from tsmsnet.plots.common import save_png

    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    save_png(fig, root / "f.png")
    return [root / "f.png"]


WRITERS = {
    f.__name__: f
    for f in (evaluation_logs, landmarks_json, synthetic_workbook, synthetic_frames, figure)
}

# Run in the child: renames announce themselves and stall until the parent kills the child.
CHILD = """
import os, sys, time
sys.path[:0] = [{repo!r}, {src!r}]
def stall(src, dst):
    print("renaming", dst, flush=True)
    time.sleep(600)
os.replace = stall
from tests.test_atomic import WRITERS
WRITERS[sys.argv[1]](__import__("pathlib").Path(sys.argv[2]))
print("finished", flush=True)
"""


def _visible(root: Path) -> set[str]:
    paths = (str(p.relative_to(root)) for p in root.rglob("*"))
    return {p for p in paths if TEMP_MARK not in p}


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob(f"*{TEMP_MARK}*") if TEMP_MARK not in p.parent.name]


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_killed_writer_leaves_nothing_complete_looking(name, tmp_path):
    # What the job writes, learnt from a clean run elsewhere.
    reference = tmp_path / "reference"
    reference.mkdir()
    outputs = {str(p.relative_to(reference)) for p in WRITERS[name](reference)}
    assert outputs and not _temps(reference)

    root = tmp_path / "killed"
    root.mkdir()
    code = CHILD.format(repo=str(REPO), src=str(REPO / "src"))
    child = subprocess.Popen(
        [sys.executable, "-c", code, name, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("renaming"), line
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    left = _visible(root)
    assert not outputs & left, f"{name} left {sorted(outputs & left)} looking complete"
    temps = _temps(root)
    assert temps, "the kill was meant to land while the outputs were still temps"
    assert all(p.name.startswith(".") for p in temps)  # hidden: no reader lists them

    WRITERS[name](root)  # the rerun
    assert outputs <= _visible(root)
    assert not _temps(root), f"the rerun left {_temps(root)}"
    for rel in outputs:
        if (reference / rel).is_file() and rel.endswith((".csv", ".json", ".txt", ".xlsx")):
            assert (root / rel).read_bytes() == (reference / rel).read_bytes(), rel


def test_all_or_nothing_when_the_body_fails(tmp_path):
    finals = [tmp_path / "a.txt", tmp_path / "b.txt"]
    with pytest.raises(RuntimeError), written_aside(finals) as temps:
        temps[0].write_text("a")
        raise RuntimeError("simulated crash")
    assert list(tmp_path.iterdir()) == []


def test_a_live_writers_temp_is_kept_a_dead_ones_removed(tmp_path):
    out = tmp_path / "t.txt"
    dead = out.with_name(f".t.txt{TEMP_MARK}999999999")
    dead.write_text("left by a killed job")
    live = out.with_name(f".t.txt{TEMP_MARK}1")  # pid 1 lives, but holds no lock on it
    live.write_text("stale too: nobody holds its lock")
    holder = tmp_path / f".t.txt{TEMP_MARK}{os.getppid()}"
    holder.write_text("held")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(holder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        remove_stale_temps(out)
        assert sorted(p.name for p in tmp_path.iterdir()) == [holder.name]
        atomic_text("done", out)
        assert out.read_text() == "done" and holder.exists()
    finally:
        proc.kill()
        proc.wait()
    remove_stale_temps(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]
    assert temp_path(out).name == f".t.txt{TEMP_MARK}{os.getpid()}"


HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""
