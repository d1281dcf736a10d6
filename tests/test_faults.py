"""Faults: a killed job never leaves an output a later run trusts; a full disk or a damaged
store ends a job with one line saying what to do.

The kill tests run the real snakemake CLI on a copy of the tiny run: start one job in its own
process group, SIGKILL the whole group at a seeded random moment while the job runs, several
times (each restart reruns the job: nothing the kill left was trusted), then rerun to the end
(the default profile has rerun-incomplete). The rerun must finish with outputs identical to
the uninterrupted run (`tiny_run`): the same zarr chunk bytes, the same checkpoint tensors.
"""

from __future__ import annotations

import errno
import filecmp
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from tests.workflow_helpers import TINY, clone_run, snakemake
from tsmsnet.atomic import atomic_csv
from tsmsnet.preprocess.landmarks import Landmarks
from tsmsnet.steps.preprocess import faces, flow_features
from tsmsnet.steps.runner import run_step

SEED = 2021
KILLS = 3
# A kill lands uniformly in this fraction of the job's expected time from when it began.
KILL_WINDOW = (0.05, 0.7)
RES = "results/synthetic"
FLOW_JOB = {
    "outputs": [f"{RES}/features/stage1/K12/s15_0101.zarr"],
    "log": f"{RES}/logs/stage1_features/K12/s15_0101.log",
    "benchmark": f"{RES}/benchmarks/stage1_features/K12/s15_0101.tsv",
    "begun": "temp",
    # Keep killing until one kill has hit the store half written (a temp store left behind).
    "mid_write": True,
    # First guess of the writing time as a share of the whole job (imports come first).
    "share": 0.4,
}
TRAIN_JOB = {
    "outputs": [
        f"{RES}/models/cas_micro/s15/apex.pt",
        f"{RES}/models/cas_micro/s15/apex_losses.csv",
        f"{RES}/models/cas_micro/s15/apex_config.yaml",
    ],
    "log": f"{RES}/logs/train_apex/cas_micro/s15.log",
    "benchmark": f"{RES}/benchmarks/train_apex/cas_micro/s15.tsv",
    "begun": "log",
    "mid_write": False,
    "share": 0.8,
}


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _running_in_group(pgid: int) -> list[int]:
    """Pids of the group that still run (zombies waiting to be reaped do not count)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            pids.append(int(stat.parent.name))
    return pids


def _group_gone(pgid: int, timeout: float = 30.0) -> None:
    """Wait until no process of the group runs (the job must not write on as an orphan)."""
    deadline = time.monotonic() + timeout
    while _running_in_group(pgid):
        assert time.monotonic() < deadline, f"process group {pgid} still runs after SIGKILL"
        time.sleep(0.05)


def _leftovers(project: Path, outputs: list[str]) -> list[str]:
    """Temp stores/files a killed job left beside its outputs."""
    found = []
    for out in outputs:
        path = project / out
        found += [p.name for p in path.parent.glob(f"{path.name}.tmp*")]
        found += [p.name for p in path.parent.glob(f".{path.name}.tmp*")]
    return found


def _temps(project: Path, job: dict) -> set[str]:
    return set(_leftovers(project, job["outputs"]))


def kill_during_job(project: Path, job: dict, delay: float, label: str) -> dict:
    """Start the job's snakemake; SIGKILL its process group `delay` s after the job has begun
    (flow: a new temp store appeared, so chunks are being written; training: its log opened).

    outcome: killed; finished (the job beat the kill); up_to_date (snakemake ran nothing: it
    trusted the outputs the previous kill left, which must then be complete).
    """
    target = job["outputs"][0]
    _remove(project / job["log"])
    stale = _temps(project, job)
    if job["begun"] == "temp":
        begun = lambda: bool(_temps(project, job) - stale)  # noqa: E731
    else:
        begun = (project / job["log"]).exists
    with open(project / f"{label}.out", "w") as out:
        proc = subprocess.Popen(
            # --nolock: the killed run's lock is stale (a user would run --unlock once).
            [sys.executable, "-m", "snakemake", "--cores", "1", "--nolock", target, *TINY],
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + 300
    while not begun():
        if proc.poll() is not None:
            text = (project / f"{label}.out").read_text()
            assert proc.returncode == 0 and "Nothing to be done" in text, text
            return {"outcome": "up_to_date"}
        assert time.monotonic() < deadline, "job did not begin"
        time.sleep(0.01)
    t0 = time.monotonic()
    while time.monotonic() - t0 < delay and proc.poll() is None:
        time.sleep(0.01)
    ran = time.monotonic() - t0
    outcome = "finished" if proc.poll() is not None else "killed"
    if outcome == "killed":
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        _group_gone(proc.pid)
    return {
        "outcome": outcome,
        "after_s": round(ran, 2),
        "temp_left": sorted(_temps(project, job)),
        "outputs_left": [o for o in job["outputs"] if (project / o).exists()],
    }


def job_seconds(run: Path, job: dict) -> float:
    """The job's uninterrupted wall time in the reference run (its benchmark)."""
    return float(pd.read_csv(run / job["benchmark"], sep="\t")["s"].iloc[0])


def interrupt_and_rerun(tiny_run: Path, project: Path, job: dict, seed: int) -> list[dict]:
    """KILLS kills of the job at seeded random points, then a rerun to completion; the
    outputs must equal the uninterrupted run's whenever snakemake takes them as done.

    A start that beats its kill (the job's time varies with the machine's load) teaches the
    job's real duration, and the next kill draws from that. A kill that lands after the job
    completed (snakemake's own bookkeeping done) does not count.
    """
    rng = random.Random(seed)
    expected = job_seconds(tiny_run, job) * job["share"]
    for out in job["outputs"]:
        _remove(project / out)
    kills, attempts, late = [], 0, 0
    while len(kills) < KILLS or (job["mid_write"] and not any(k["temp_left"] for k in kills)):
        attempts += 1
        assert attempts <= KILLS + 6, kills
        delay = rng.uniform(*KILL_WINDOW) * expected
        state = kill_during_job(project, job, delay, f"run{attempts}")
        if state["outcome"] == "killed":
            kills.append(state)
            continue
        assert job["differences"](project, tiny_run) == [], state
        if state["outcome"] == "up_to_date":  # the last kill came after completion
            late += 1
            kills.pop()
        else:
            expected = state["after_s"]
        for out in job["outputs"]:
            _remove(project / out)
    snakemake(project, "--cores", "1", job["outputs"][0], *TINY)
    assert _leftovers(project, job["outputs"]) == []
    print(f"\n{job['outputs'][0]}: {attempts} starts, {late} kill(s) after completion, kills:")
    print("\n".join(f"  {k}" for k in kills))
    return kills


def same_tree(a: Path, b: Path) -> list[str]:
    """Relative paths under two folders whose bytes differ (or exist in one only)."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    differ = sorted(str(p) for p in files_a ^ files_b)
    differ += sorted(
        str(p) for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False)
    )
    return differ


def store_differences(project: Path, reference: Path) -> list[str]:
    """Files of the flow store that differ from the reference's (chunks compared by bytes)."""
    store = FLOW_JOB["outputs"][0]
    assert len(list((reference / store).rglob("*"))) > 3  # chunks, not an empty shell
    return same_tree(project / store, reference / store)


def training_differences(project: Path, reference: Path) -> list[str]:
    """Tensors and side files of the fold that differ from the reference's."""
    model, losses, used = TRAIN_JOB["outputs"]
    got = torch.load(project / model, map_location="cpu", weights_only=False)["state_dict"]
    want = torch.load(reference / model, map_location="cpu", weights_only=False)["state_dict"]
    differ = sorted(set(got) ^ set(want))
    differ += [
        name for name in sorted(set(got) & set(want)) if not torch.equal(got[name], want[name])
    ]
    differ += [
        rel
        for rel in (losses, used)
        if not filecmp.cmp(project / rel, reference / rel, shallow=False)
    ]
    return differ


FLOW_JOB["differences"] = store_differences
TRAIN_JOB["differences"] = training_differences


@pytest.mark.workflow
def test_killed_flow_job_reruns_to_identical_chunks(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    interrupt_and_rerun(tiny_run, project, FLOW_JOB, SEED)
    assert store_differences(project, tiny_run) == []


@pytest.mark.workflow
def test_killed_training_job_reruns_to_identical_weights(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    interrupt_and_rerun(tiny_run, project, TRAIN_JOB, SEED + 1)
    assert training_differences(project, tiny_run) == []


# ---- a full disk and a damaged store: one line, nothing partial -------------------------


def fake_snakemake(tmp_path: Path, rule: str, outputs: list[Path]) -> SimpleNamespace:
    """What run_step reads of Snakemake's `snakemake` object."""
    return SimpleNamespace(
        log=[str(tmp_path / f"{rule}.log")], threads=1, rule=rule, output=[str(o) for o in outputs]
    )


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/results/somewhere")


def test_disk_full_while_writing_a_table(tmp_path, monkeypatch, capsys):
    out = tmp_path / "tables" / "videos.csv"
    smk = fake_snakemake(tmp_path, "annotations", [out])
    monkeypatch.setattr(pd.DataFrame, "to_csv", no_space)

    def step(log):
        atomic_csv(pd.DataFrame({"video": ["s15_0101"]}), out)

    with pytest.raises(SystemExit) as exit_:
        run_step(smk, step)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err == (
        "tsmsnet: annotations: disk full (no space left on device at /results/somewhere) "
        f"while writing {out}: free space and rerun (nothing partial is kept)\n"
    )
    assert "ERROR: disk full" in Path(smk.log[0]).read_text()
    assert list(out.parent.iterdir()) == []


def write_video(folder: Path, n: int = 12) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(1, n + 1):
        cv2.imwrite(str(folder / f"img{i}.png"), rng.integers(0, 256, (64, 64), dtype=np.uint8))
    return folder


def landmarks_json(path: Path) -> Path:
    rng = np.random.default_rng(1)
    points = np.column_stack([rng.uniform(16, 48, 68), rng.uniform(16, 48, 68)])
    Landmarks(0, (12, 12, 52, 52), points, (64, 64)).to_json(path)
    return path


def test_disk_full_while_writing_a_store_leaves_nothing(tmp_path, monkeypatch, capsys):
    import zarr

    source = write_video(tmp_path / "v v")
    out = tmp_path / "faces" / "v.zarr"
    smk = fake_snakemake(tmp_path, "faces", [out])
    writes = []
    real = zarr.Array.__setitem__

    def fill_then_fail(self, key, value):
        writes.append(key)
        if len(writes) == 2:  # the second chunk finds the disk full
            no_space()
        real(self, key, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", fill_then_fail)
    lm = landmarks_json(tmp_path / "lm.json")
    with pytest.raises(SystemExit):
        run_step(
            smk,
            faces,
            source=str(source),
            landmarks_json=str(lm),
            out=str(out),
            size=32,
            chunk=4,
            interpolation="linear",
        )
    err = capsys.readouterr().err
    assert err.startswith("tsmsnet: faces: disk full (no space left on device at ")
    assert err.endswith(f"while writing {out}: free space and rerun (nothing partial is kept)\n")
    assert len(writes) == 2 and list(out.parent.iterdir()) == []


def test_damaged_store_is_one_line_naming_it(tmp_path, capsys):
    bad = tmp_path / "faces" / "s15_0101.zarr"
    bad.mkdir(parents=True)
    (bad / "zarr.json").write_text('{"zarr_format": 3, "node_type": "array", "shape": [')
    out = tmp_path / "stage1" / "s15_0101.zarr"
    smk = fake_snakemake(tmp_path, "stage1_features", [out])
    with pytest.raises(SystemExit) as exit_:
        run_step(
            smk,
            flow_features,
            faces=str(bad),
            out=str(out),
            kind="skip",
            step=12,
            flow={"method": "dis", "params": {"preset": "medium"}},
            features={},
            chunk=64,
            threads=1,
        )
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tsmsnet: stage1_features: {bad}: unreadable zarr store (")
    assert err.endswith("); delete it and rerun\n") and err.count("\n") == 1
    assert not out.exists()


def test_a_bug_keeps_its_traceback(tmp_path):
    smk = fake_snakemake(tmp_path, "evaluate", [tmp_path / "metrics.json"])

    def step(log):
        raise KeyError("column")

    with pytest.raises(KeyError):
        run_step(smk, step)


class OutOfMemoryError(RuntimeError):
    """Stands for torch.cuda.OutOfMemoryError (matched by name: no GPU needed here)."""


@pytest.mark.parametrize(
    "error, message",
    [
        (
            MemoryError(),
            "tsmsnet: train_apex: out of memory while writing {out}: give the job more memory, "
            "or lower preprocess.chunk_frames (preprocessing) or the batch_size (training), "
            "and rerun\n",
        ),
        (
            OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
            "tsmsnet: train_apex: GPU out of memory: lower apex_net.batch_size / "
            "interval_net.batch_size or run with --config device=cpu, then rerun\n",
        ),
    ],
    ids=["ram", "gpu"],
)
def test_out_of_memory_is_one_line(tmp_path, capsys, error, message):
    out = tmp_path / "apex.pt"
    smk = fake_snakemake(tmp_path, "train_apex", [out])

    def step(log):
        raise error

    with pytest.raises(SystemExit):
        run_step(smk, step)
    assert capsys.readouterr().err == message.format(out=out)
