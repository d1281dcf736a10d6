"""Portable CPU kernels (config `cpu_kernels`): the same checkpoints on CPUs of other vector
widths.

Another CPU is emulated on this one by the variables that cap each library's kernels, set in
the environment before the job starts: oneDNN's ONEDNN_MAX_CPU_ISA, ATen's
ATEN_CPU_CAPABILITY, MKL's MKL_ENABLE_INSTRUCTIONS. Each training runs in a fresh process
(the libraries choose their kernels once per process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import zarr

from tsmsnet.config import cpu_kernel_pins, spot_config, training
from tsmsnet.preprocess.record import preprocess_record
from tsmsnet.training.device import pin_cpu_kernels
from tsmsnet.training.train import load_checkpoint

CAPS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR")
# An AVX2 CPU (Haswell to Zen 3) as far as each library can tell.
AVX2_CPU = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
}
# One fold through the workflow's training step (both stages), in a fresh process with the
# training jobs' threads (as steps.runner.run_step sets them).
CHILD = """
import json, sys
from tsmsnet.config import SpotConfig
from tsmsnet.steps.runner import limit_threads
from tsmsnet.steps.train import train_fold
limit_threads(int(sys.argv[2]))
for kw in json.loads(sys.argv[1]):
    train_fold(spot=SpotConfig.from_record(kw.pop("spot")), log=lambda line: None, **kw)
"""


def _store(path, n, seed, step):
    arr = zarr.create_array(
        store=str(path), shape=(n, 3, 42, 42), chunks=(16, 3, 42, 42), dtype="float16"
    )
    arr[:] = np.random.default_rng(seed).normal(size=(n, 3, 42, 42)).astype(np.float16)
    arr.attrs.update(step=step, first_frame=1)
    return str(path)


@pytest.fixture
def fold(cfg, tmp_path):
    """Keyword arguments of train_fold for both stages of one small fold (but its outputs)."""
    spot = spot_config(cfg, "cas_micro")
    stride = cfg["preprocess"]["stage2_stride"]
    videos = ["a1", "b1"]
    truth = pd.DataFrame(
        {
            "subject": ["A", "A", "B"],
            "video": ["a1", "a1", "b1"],
            "type": "micro",
            "onset": [21, 141, 61],
            "apex": [40, 160, 90],
            "offset": [61, 181, 121],
            "fps": 30.0,
        }
    )
    truth["train_onset"], truth["train_offset"] = truth["onset"], truth["offset"]
    truth.to_csv(tmp_path / "annotations.csv", index=False)
    stage = {
        "apex": ([_store(tmp_path / f"{v}-1.zarr", 100, i, spot.K) for i, v in enumerate(videos)]),
        "interval": [
            _store(tmp_path / f"{v}-2.zarr", 50, 5 + i, stride) for i, v in enumerate(videos)
        ],
    }
    train = {
        "apex": {**training(cfg, "apex_net"), "epochs": 2, "batch_size": 16},
        "interval": {**training(cfg, "interval_net"), "epochs": 2, "batch_size": 8},
    }
    return [
        {
            "stage": name,
            "annotations_csv": str(tmp_path / "annotations.csv"),
            "stores": stores,
            "videos": videos,
            "held_out": "C",
            "spot": spot.record(),
            "train": train[name],
            "targets": {"reader": "sheet"},
            "preprocess": preprocess_record(cfg),
            "seed": 3,
            "device": "cpu",
        }
        for name, stores in stage.items()
    ]


def _train(fold: list[dict], out, pins: dict, cpu: dict, threads: int) -> dict:
    """Train the fold in a fresh process whose environment emulates `cpu`; the checkpoints."""
    env = {k: v for k, v in os.environ.items() if k not in CAPS} | cpu
    kwargs = [
        {
            **kw,
            "cpu_kernels": pins,
            "model_out": str(out / f"{kw['stage']}.pt"),
            "losses_out": str(out / f"{kw['stage']}.csv"),
            "used_out": str(out / f"{kw['stage']}.yaml"),
        }
        for kw in fold
    ]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(kwargs), str(threads)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return {kw["stage"]: load_checkpoint(out / f"{kw['stage']}.pt", "cpu") for kw in fold}


def _same(a: dict, b: dict) -> bool:
    return all(
        a[s][0].state_dict().keys() == b[s][0].state_dict().keys()
        and all(torch.equal(v, b[s][0].state_dict()[k]) for k, v in a[s][0].state_dict().items())
        for s in a
    )


def test_portable_kernels_train_the_same_checkpoints_on_an_avx2_cpu(cfg, fold, tmp_path):
    pins, threads = cpu_kernel_pins(cfg), cfg["threads"]["train"]
    assert pins and cfg["cpu_kernels"]["portable"]
    here = _train(fold, tmp_path / "here", pins, {}, threads)
    avx2 = _train(fold, tmp_path / "avx2", pins, AVX2_CPU, threads)
    assert _same(here, avx2)
    for models in (here, avx2):
        for _, payload in models.values():
            assert payload["extra"]["cpu_kernels"] == {"pinned": pins, "aten_capability": "AVX2"}
            assert len(payload["losses"]) == 2  # stage 2 trained too (positive windows)
    # The check has teeth: each CPU's own kernels give other bits on an AVX-512 CPU.
    native_here = _train(fold, tmp_path / "native-here", {}, {}, threads)
    native_avx2 = _train(fold, tmp_path / "native-avx2", {}, AVX2_CPU, threads)
    assert native_avx2["apex"][1]["extra"]["cpu_kernels"]["pinned"] == {}
    if native_here["apex"][1]["extra"]["cpu_kernels"]["aten_capability"] == "AVX2":
        pytest.skip("this CPU has no AVX-512: an AVX2 CPU is this one")
    assert not _same(native_here, native_avx2)


def test_no_pins_without_avx2(monkeypatch):
    """ATen would run AVX2 code unchecked on a CPU without it: nothing is pinned, a warning."""
    from tsmsnet.training import device

    monkeypatch.setattr(device, "_runs_avx2", lambda: False)
    environ, lines = {}, []
    record = pin_cpu_kernels({"ATEN_CPU_CAPABILITY": "avx2"}, lines.append, environ)
    assert environ == {} and record["pinned"] == {}
    assert any("without AVX2: CPU kernels not pinned" in line for line in lines)


def test_pins_after_the_first_operation_are_not_recorded():
    """This process has run torch already: its kernels are chosen, the record says so."""
    torch.ones(8).sum()
    chosen = torch.backends.cpu.get_cpu_capability()
    other = "default" if chosen != "DEFAULT" else "avx2"
    environ, lines = {}, []
    record = pin_cpu_kernels({"ATEN_CPU_CAPABILITY": other}, lines.append, environ)
    if lines and "without AVX2" in lines[0]:
        pytest.skip("no AVX2 here: nothing is pinned anyway")
    assert environ == {"ATEN_CPU_CAPABILITY": other}
    assert record == {"pinned": {}, "aten_capability": chosen}
    assert any("before they could be pinned" in line for line in lines)


def test_not_portable_pins_nothing(cfg):
    cfg["cpu_kernels"]["portable"] = False
    assert cpu_kernel_pins(cfg) == {}
    assert pin_cpu_kernels({}, print)["pinned"] == {}
