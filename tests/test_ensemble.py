"""Ensembles of folds: stage-1 scores averaged, stage-2 labels by majority (a tie keeps
proposals apart, an untrained stage 2 abstains), folds that must agree, and `tsmsnet spot`
with a folder of folds."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import zarr

from tsmsnet.cli import main
from tsmsnet.config import load_config, spot_config
from tsmsnet.errors import InputError
from tsmsnet.models import ApexNet, ApexNetConfig, IntervalNet, IntervalNetConfig
from tsmsnet.preprocess.record import preprocess_record
from tsmsnet.spotting.inference import apex_scores, classify_proposals, majority
from tsmsnet.spotting.model_sets import load_model_set
from tsmsnet.steps.spot import spot_stores
from tsmsnet.training.train import save_checkpoint

CPU = torch.device("cpu")


def constant_apex(cfg: dict, score: float) -> ApexNet:
    net = ApexNet(ApexNetConfig.from_cfg(cfg)).eval()
    with torch.no_grad():
        net.fc2.weight.zero_()
        net.fc2.bias.fill_(score)
    return net


def constant_interval(cfg: dict, label: int, name: str = "cas_micro") -> IntervalNet:
    net = IntervalNet(IntervalNetConfig.from_cfg(cfg, name)).eval()
    with torch.no_grad():
        net.fc2.weight.zero_()
        net.fc2.bias.copy_(torch.tensor([0.0, 1.0] if label else [1.0, 0.0]))
    return net


def test_majority_needs_more_than_half():
    votes = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1]])
    assert majority(votes).tolist() == [1, 0, 0, 0]
    assert majority(np.array([[1, 1], [0, 1]])).tolist() == [0, 1]  # tie -> 0
    assert majority(np.array([[1, 0]])).tolist() == [1, 0]  # one voter: its own labels


def test_apex_scores_average_the_folds_and_one_fold_is_its_own(cfg):
    store = np.random.default_rng(0).random((10, 3, 42, 42)).astype(np.float16)
    two = [constant_apex(cfg, 0.5), constant_apex(cfg, 2.0)]
    np.testing.assert_allclose(apex_scores(two, store, CPU, block=4), np.full(10, 1.25))
    torch.manual_seed(0)
    net = ApexNet(ApexNetConfig.from_cfg(cfg)).eval()
    x = torch.from_numpy(store.astype(np.float32))
    with torch.no_grad():  # block by block, as the single-model code always ran
        want = np.concatenate([net(x[lo : lo + 4]).numpy() for lo in range(0, 10, 4)])
    got = apex_scores([net], store, CPU, block=4)
    assert got.dtype == np.float32 and np.array_equal(got, want)


def test_classify_proposals_takes_the_majority(cfg):
    store = np.random.default_rng(0).random((20, 3, 42, 42)).astype(np.float16)
    proposals = np.array([[0, 10, 0.5], [30, 40, 0.7], [60, 70, 0.2]])
    yes, no = constant_interval(cfg, 1), constant_interval(cfg, 0)

    def labels(models):
        return classify_proposals(models, store, proposals, 6, 4, CPU, block=12).tolist()

    assert labels([yes]) == [1, 1, 1] and labels([no]) == [0, 0, 0]
    assert labels([yes, yes, no]) == [1, 1, 1]
    assert labels([yes, no]) == [0, 0, 0]  # a tie keeps proposals apart


def record(cfg: dict, name: str = "cas_micro", **changes) -> dict:
    return {
        "held_out": "s1",
        "videos": ["v"],
        "spot": spot_config(cfg, name).record(),
        "train": {},
        "seed": 0,
        "fps": 30.0,
        "preprocess": preprocess_record(cfg),
        **changes,
    }


def save_fold(folder: Path, cfg: dict, seed: int, interval=None, losses=(1.0,), **changes):
    """A tiny fold: seeded random nets (or the given stage 2) with a trained fold's record."""
    torch.manual_seed(seed)
    apex = ApexNet(ApexNetConfig.from_cfg(cfg))
    interval = interval or IntervalNet(IntervalNetConfig.from_cfg(cfg, "cas_micro"))
    rec = record(cfg, **changes)
    save_checkpoint(folder / "apex.pt", apex, apex.cfg, [1.0], rec)
    save_checkpoint(folder / "interval.pt", interval, interval.cfg, list(losses), rec)
    return folder


def random_stores(folder: Path, n: int = 80) -> list[str]:
    """Stage-1 (K=12) and stage-2 stores of one n-frame video, random features."""
    rng = np.random.default_rng(1)
    stores = []
    for name, shape in (("s1.zarr", (n - 12, 3, 42, 42)), ("s2.zarr", (n // 4 - 1, 3, 42, 42))):
        z = zarr.open_array(str(folder / name), mode="w", shape=shape, dtype="f4")
        z[:] = rng.random(shape, dtype=np.float32)
        z.attrs.update({"first_frame": 1, "n_frames": n})
        stores.append(str(folder / name))
    return stores


def test_an_untrained_stage_2_does_not_vote(cfg, tmp_path):
    stores = random_stores(tmp_path)
    yes = save_fold(tmp_path / "a", cfg, 0, interval=constant_interval(cfg, 1))
    no = save_fold(tmp_path / "b", cfg, 1, interval=constant_interval(cfg, 0), losses=())
    lines = []

    def spot(folds):
        lines.clear()
        return spot_stores(
            [str(f / "apex.pt") for f in folds],
            [str(f / "interval.pt") for f in folds],
            stores[:1],
            stores[1:],
            ["v"],
            spot_config(cfg, "cas_micro"),
            4,
            "cpu",
            lines.append,
        )

    spot([yes, no])
    assert "not trained in 1 of 2 folds" in lines[0]
    n_proposals, kept = map(int, re.match(r"v: (\d+) proposals, (\d+) kept", lines[1]).groups())
    assert n_proposals > 0 and kept == n_proposals  # the trained fold alone decides
    spotted = spot([no])
    assert "no fusion" in lines[0] and re.match(r"v: \d+ proposals, 0 kept", lines[1])
    assert len(spotted.step1) > 0


def test_a_workflow_fold_says_which_folds_spot_its_subject(cfg, tmp_path):
    stores = random_stores(tmp_path)
    s1 = save_fold(tmp_path / "s1", cfg, 0, held_out="s1", videos=None)
    s2 = save_fold(tmp_path / "s2", cfg, 1, held_out="s2", videos=["s1_v"])
    lines = []

    def spot(folds, held_out):
        lines.clear()
        apex = [str(f / "apex.pt") for f in folds]
        interval = [str(f / "interval.pt") for f in folds]
        args = (stores[:1], stores[1:], ["s1_v"], spot_config(cfg, "cas_micro"), 4, "cpu")
        return spot_stores(apex, interval, *args, lines.append, held_out=held_out)

    spot([s1], "s1")
    assert lines[0] == "subject s1: spotted by its own fold"
    spot([s1], "s3")
    assert lines[0] == (
        "subject s3 has no fold of its own: spotted by the ensemble of 1 folds (held out: s1), "
        "none of which trained on it"
    )
    with pytest.raises(InputError) as err:  # s2's record lists s1_v among its training videos
        spot([s1, s2], "s1")
    assert str(err.value) == (
        f"{s2 / 'apex.pt'} was trained on s1_v, a video of held-out subject s1: spot it with "
        "the models of its own fold"
    )


def test_a_folder_of_folds_is_an_ensemble_that_must_agree(cfg, tmp_path):
    ens = tmp_path / "cas_micro"
    save_fold(ens / "s2", cfg, 2)
    save_fold(ens / "s1", cfg, 1)
    s = load_model_set(ens)
    assert s.folds == (ens / "s1", ens / "s2") and s.name == "cas_micro" and s.fps == 30.0
    assert s.apex == [str(ens / "s1" / "apex.pt"), str(ens / "s2" / "apex.pt")]
    assert load_model_set(ens / "s1").folds == (ens / "s1",)  # one fold: as before

    other = replace(spot_config(cfg, "cas_micro"), P=0.6).record()
    save_fold(ens / "s3", cfg, 3, spot=other)
    with pytest.raises(InputError, match=r"ensemble .*cas_micro: folds s1 and s3 differ in spot"):
        load_model_set(ens)
    dis = load_config()
    dis["preprocess"]["flow"]["method"] = "dis"
    save_fold(ens / "s3", cfg, 3, preprocess=preprocess_record(dis))
    with pytest.raises(InputError, match="folds s1 and s3 differ in flow"):
        load_model_set(ens)
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(InputError, match="apex.pt does not exist.*or a folder of such folds"):
        load_model_set(tmp_path / "empty")


def test_spot_with_an_ensemble_averages_the_folds_scores(mini_frames, dis_config, tmp_path):
    cfg = load_config(dis_config)
    ens = tmp_path / "cas_micro"
    save_fold(ens / "s1", cfg, 1)
    save_fold(ens / "s2", cfg, 2)

    def spot(models: Path, out: str) -> pd.DataFrame:
        args = ["spot", str(mini_frames), "--models", str(models), "--out", str(tmp_path / out)]
        assert main([*args, "--device", "cpu"]) == 0
        intervals = pd.read_csv(tmp_path / out / "intervals.csv")
        assert list(intervals.columns) == ["video", "type", "onset", "offset", "score"]
        return pd.read_csv(tmp_path / out / "scores.csv")

    both = spot(ens, "both")
    one, two = spot(ens / "s1", "one"), spot(ens / "s2", "two")
    assert len(both) == len(one) == len(two) == len(list(mini_frames.glob("*.jpg"))) - 12
    assert not np.allclose(one["score"], two["score"])
    np.testing.assert_allclose(both["score"], (one["score"] + two["score"]) / 2, atol=1e-6)
