"""Training: repeatable, leak-free LOSO folds, checkpoints, lazy data and device fallback."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
import zarr

from tsmsnet.errors import ConfigError, InputError
from tsmsnet.models import ApexNetConfig, IntervalNet, IntervalNetConfig, minmax_channels
from tsmsnet.pipeline import loso_folds
from tsmsnet.training.data import ApexSamples, BlockShuffleBatchSampler, WindowSamples
from tsmsnet.training.device import pick_device
from tsmsnet.training.train import (
    load_checkpoint,
    save_checkpoint,
    train_apex,
    train_interval,
    write_losses_csv,
)

K = 12
CLIP_STRIDE = 4


def make_store(path, n, seed, step, chunk=64):
    """A random float16 feature store like preprocess writes."""
    arr = zarr.create_array(
        store=str(path), shape=(n, 3, 42, 42), chunks=(chunk, 3, 42, 42), dtype="float16"
    )
    arr[:] = np.random.default_rng(seed).normal(size=(n, 3, 42, 42)).astype(np.float16)
    arr.attrs["step"] = step
    return path


def tiny(section: dict, **kw) -> dict:
    out = dict(section)
    out.update(kw)
    return out


def quiet(_msg: str) -> None:
    pass


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture
def apex_items(tmp_path):
    return [
        (make_store(tmp_path / f"v{i}.zarr", 90 + 10 * i, i, K), [(20 + i, 30 + i)])
        for i in range(2)
    ]


def test_train_apex_is_deterministic(cfg, apex_items):
    train_cfg = tiny(cfg["apex_net"], epochs=2, batch_size=32)
    net_cfg = ApexNetConfig.from_cfg(cfg)
    lines = []
    m1, l1 = train_apex(apex_items, net_cfg, train_cfg, 7, "cpu", lines.append, K=K)
    m2, l2 = train_apex(apex_items, net_cfg, train_cfg, 7, "cpu", quiet, K=K)
    assert same_weights(m1, m2) and l1 == l2
    assert len(l1) == 2 and all(np.isfinite(l1))
    assert sum(line.startswith("epoch ") for line in lines) == 2
    m3, _ = train_apex(apex_items, net_cfg, train_cfg, 8, "cpu", quiet, K=K)
    assert not same_weights(m1, m3)


def test_train_interval_is_deterministic(cfg, tmp_path):
    items = [
        (make_store(tmp_path / f"c{i}.zarr", 30, 10 + i, CLIP_STRIDE, chunk=8), [(16, 40)])
        for i in range(2)
    ]
    net_cfg = IntervalNetConfig.from_cfg(cfg, "cas_micro")
    train_cfg = tiny(cfg["interval_net"], epochs=2, batch_size=8)
    m1, l1 = train_interval(items, net_cfg, train_cfg, 3, "cpu", quiet, clip_stride=CLIP_STRIDE)
    m2, l2 = train_interval(items, net_cfg, train_cfg, 3, "cpu", quiet, clip_stride=CLIP_STRIDE)
    assert same_weights(m1, m2) and l1 == l2 and len(l1) == 2


def test_train_interval_without_positives_stays_untrained_with_a_warning(cfg, tmp_path):
    items = [(make_store(tmp_path / "c.zarr", 20, 0, CLIP_STRIDE), [])]
    lines = []
    model, losses = train_interval(
        items,
        IntervalNetConfig.from_cfg(cfg, "cas_micro"),
        tiny(cfg["interval_net"], epochs=1),
        0,
        "cpu",
        lines.append,
        clip_stride=CLIP_STRIDE,
    )
    assert losses == [] and any("WARNING: no positive" in line for line in lines)
    assert isinstance(model, IntervalNet)


def test_store_step_must_match_config(cfg, apex_items):
    with pytest.raises(ConfigError, match="step 12"):
        train_apex(apex_items, ApexNetConfig.from_cfg(cfg), cfg["apex_net"], 0, "cpu", quiet, K=31)


def _fold_project(cfg, tmp_path):
    """Three subjects' video table, stage-1 stores and annotations.csv, as the workflow has them."""
    videos = pd.DataFrame({"subject": ["A", "B", "C"], "video": ["a1", "b1", "c1"]})
    stores = {v: make_store(tmp_path / f"{v}.zarr", 80, i, K) for i, v in enumerate(videos.video)}
    for path in stores.values():
        zarr.open_array(str(path), mode="r+").attrs["first_frame"] = 1
    truth = pd.DataFrame(
        {
            "subject": ["A", "B", "C"],
            "video": ["a1", "b1", "c1"],
            "type": "micro",
            "onset": [11, 41, 31],
            "apex": [15, 48, 33],
            "offset": [21, 56, 36],
            "fps": 30.0,
        }
    )
    truth["train_onset"], truth["train_offset"] = truth["onset"], truth["offset"]
    return videos, stores, truth


def _train_fold(cfg, tmp_path, fold, stores, truth, tag, videos=None, which="with_type"):
    """The workflow's training step (steps.train.train_fold) on one fold, weights back."""
    from tsmsnet.config import cpu_kernel_pins, spot_config, training
    from tsmsnet.preprocess.record import preprocess_record
    from tsmsnet.steps.train import train_fold

    annotations = tmp_path / f"annotations-{tag}.csv"
    truth.to_csv(annotations, index=False)
    videos = list(fold.train) if videos is None else videos
    spot = dataclasses.replace(spot_config(cfg, "cas_micro"), K=K)
    out = tmp_path / tag
    train_fold(
        stage="apex",
        annotations_csv=str(annotations),
        stores=[str(stores[v]) for v in videos],
        videos=videos,
        held_out=fold.held_out,
        spot=spot,
        train=tiny(training(cfg, "apex_net"), epochs=2, batch_size=16, videos=which),
        targets={"reader": "sheet"},
        preprocess=preprocess_record(cfg),
        seed=11,
        device="cpu",
        cpu_kernels=cpu_kernel_pins(cfg),
        model_out=str(out / "apex.pt"),
        losses_out=str(out / "apex_losses.csv"),
        used_out=str(out / "apex_config.yaml"),
        log=quiet,
    )
    return load_checkpoint(out / "apex.pt", "cpu")


def test_loso_fold_training_never_sees_the_held_out_subject(cfg, tmp_path):
    """The workflow's folds (pipeline.loso_folds, which common.smk uses) and training step:
    corrupting the held-out subject's features and labels changes nothing."""
    videos, stores, truth = _fold_project(cfg, tmp_path)
    fold = loso_folds(videos)["C"]
    assert fold.train == ("a1", "b1") and fold.test == ("c1",)
    before, payload = _train_fold(cfg, tmp_path, fold, stores, truth, "before")
    assert payload["extra"]["held_out"] == "C" and payload["extra"]["videos"] == ["a1", "b1"]
    zarr.open_array(str(stores["c1"]), mode="r+")[:] = np.random.default_rng(99).normal(
        size=(80, 3, 42, 42)
    )
    corrupt = truth.copy()
    intervals = ["onset", "offset", "train_onset", "train_offset"]
    corrupt.loc[corrupt.video == "c1", intervals] = [1, 80, 1, 80]
    after, _ = _train_fold(cfg, tmp_path, fold, stores, corrupt, "after")
    assert same_weights(before, after)
    # The check has teeth: the same corruption of a training subject changes the weights.
    corrupt.loc[corrupt.video == "a1", intervals] = [1, 80, 1, 80]
    assert not same_weights(before, _train_fold(cfg, tmp_path, fold, stores, corrupt, "a")[0])


def test_targets_are_the_training_intervals(cfg, tmp_path):
    """fold_items reads train_onset/train_offset (the scored onset/offset stay for scoring)."""
    from tsmsnet.steps.train import fold_items

    videos, stores, truth = _fold_project(cfg, tmp_path)
    truth.loc[truth.video == "a1", "train_onset"] = 15
    items = fold_items(truth, [str(stores["a1"])], ["a1"], "C", "micro")
    assert items[0][1] == [(14, 20)]  # frames 15..21, first frame 1
    with pytest.raises(InputError, match="lacks train_onset, train_offset.*--forcerun"):
        fold_items(truth.drop(columns=["train_onset", "train_offset"]), [], [], "C", "micro")


def test_training_videos_with_type_or_all(cfg, tmp_path):
    """b1 holds no micro: `with_type` (upstream's choice) trains the micro fold on a1 alone,
    `all` on both; the record says which videos and which setting."""
    videos, stores, truth = _fold_project(cfg, tmp_path)
    truth.loc[truth.video == "b1", "type"] = "macro"
    fold = loso_folds(videos)["C"]
    with_type, record = _train_fold(cfg, tmp_path, fold, stores, truth, "with_type")
    assert record["extra"]["videos"] == ["a1"]
    assert record["extra"]["train"]["videos"] == "with_type"
    assert record["extra"]["targets"] == {"reader": "sheet"}
    every, record = _train_fold(cfg, tmp_path, fold, stores, truth, "all", which="all")
    assert record["extra"]["videos"] == ["a1", "b1"] and record["extra"]["train"]["videos"] == "all"
    assert not same_weights(with_type, every)


def test_select_videos_logs_and_refuses_an_empty_selection():
    from tsmsnet.steps.train import select_videos

    truth = pd.DataFrame({"video": ["a1", "b1"], "type": ["micro", "macro"]})
    messages = []
    got = select_videos(
        truth,
        ["a.zarr", "b.zarr", "x.zarr"],
        ["a1", "b1", "x1"],
        "micro",
        "with_type",
        "apex_net",
        messages.append,
    )
    assert got == (["a.zarr"], ["a1"])
    assert messages == [
        "training on the 1 of 3 training videos holding a micro ground truth "
        "(apex_net.videos: with_type); left out: b1, x1"
    ]
    assert select_videos(truth, ["b.zarr"], ["b1"], "micro", "all", "apex_net", quiet) == (
        ["b.zarr"],
        ["b1"],
    )
    with pytest.raises(
        InputError,
        match="none of the 1 training videos holds a micro .*set interval_net.videos: all",
    ):
        select_videos(truth, ["b.zarr"], ["b1"], "micro", "with_type", "interval_net", quiet)
    with pytest.raises(ConfigError, match="apex_net.videos is 'some'"):
        select_videos(truth, ["b.zarr"], ["b1"], "micro", "some", "apex_net", quiet)


def test_training_step_refuses_a_held_out_video(cfg, tmp_path):
    videos, stores, truth = _fold_project(cfg, tmp_path)
    fold = loso_folds(videos)["C"]
    with pytest.raises(InputError, match=r"held-out subject C is in the training videos: \['c1'\]"):
        _train_fold(cfg, tmp_path, fold, stores, truth, "leak", videos=["a1", "c1"])
    assert not (tmp_path / "leak" / "apex.pt").exists()


def test_loso_folds_from_the_video_table():
    df = pd.DataFrame({"subject": ["A", "A"], "video": ["a1", "a2"]})
    with pytest.raises(InputError, match="at least two subjects"):
        loso_folds(df)
    folds = loso_folds(pd.DataFrame({"subject": ["2", "1", "2"], "video": ["x", "y", "z"]}))
    assert list(folds) == ["1", "2"]
    assert folds["2"].train == ("y",) and folds["2"].test == ("x", "z")
    assert folds["1"].train == ("x", "z") and folds["1"].held_out == "1"
    with pytest.raises(InputError, match="no 'subject' column"):
        loso_folds(pd.DataFrame({"video": ["x"]}))


def test_checkpoint_round_trip(cfg, apex_items, tmp_path):
    torch.manual_seed(0)
    train_cfg = tiny(cfg["apex_net"], epochs=1, batch_size=64)
    model, losses = train_apex(
        apex_items, ApexNetConfig.from_cfg(cfg), train_cfg, 1, "cpu", quiet, K=K
    )
    path = tmp_path / "m" / "apex.pt"
    save_checkpoint(path, model, model.cfg, losses, {"fold": "C", "K": K})
    loaded, payload = load_checkpoint(path, "cpu")
    x = torch.randn(4, 3, 42, 42)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert payload["extra"] == {"fold": "C", "K": K} and payload["losses"] == losses

    interval = IntervalNet(IntervalNetConfig.from_cfg(cfg, "samm_micro")).eval()
    save_checkpoint(tmp_path / "i.pt", interval, interval.cfg, [], {})
    loaded, payload = load_checkpoint(tmp_path / "i.pt", "cpu")
    assert loaded.cfg == interval.cfg
    w = torch.rand(2, 21, 3, 42, 42)
    with torch.no_grad():
        assert torch.equal(interval(w), loaded(w))

    write_losses_csv(tmp_path / "losses.csv", losses)
    table = pd.read_csv(tmp_path / "losses.csv")
    assert table.epoch.tolist() == [1] and table.loss.tolist() == losses
    with pytest.raises(InputError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt", "cpu")


def test_cuda_requested_without_gpu_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(RuntimeWarning, match="no CUDA"):
        assert pick_device("cuda") == torch.device("cpu")
    assert pick_device("auto") == torch.device("cpu")
    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError):
        pick_device("tpu")


def test_lazy_datasets_read_across_chunks(tmp_path):
    a = make_store(tmp_path / "a.zarr", 21, 0, K, chunk=8)
    b = make_store(tmp_path / "b.zarr", 10, 1, K, chunk=4)
    raw = [zarr.open_array(str(p))[:].astype(np.float32) for p in (a, b)]
    ds = ApexSamples([a, b], [np.arange(21) % 2, np.ones(10)], cache_mb=0.05)
    assert len(ds) == 31
    x, y = ds[23]
    assert x.dtype == torch.float32 and np.array_equal(x.numpy(), raw[1][2]) and y == 1
    assert np.array_equal(ds[20][0].numpy(), raw[0][20])

    starts = [np.arange(0, 16), np.arange(0, 5)]
    win = WindowSamples([a, b], starts, [np.zeros(16), np.ones(5)], L=6, cache_mb=0.05)
    x, y = win[16 + 3]
    assert x.shape == (6, 3, 42, 42) and y.dtype == torch.int64 and y == 1
    np.testing.assert_array_equal(x.numpy(), minmax_channels(raw[1][3:9]))
    with pytest.raises(InputError, match="run past the end"):
        WindowSamples([b], [np.arange(6)], [np.zeros(6)], L=6)

    blocks = win.blocks()
    assert sorted(np.concatenate(blocks).tolist()) == list(range(len(win)))
    sampler = BlockShuffleBatchSampler(blocks, 4, torch.Generator().manual_seed(0), 8)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for batch in batches for i in batch) == list(range(len(win)))


def test_batched_fetch_equals_one_sample_at_a_time(tmp_path):
    """__getitems__ (what the DataLoader calls) gives the stacked __getitem__ values, bit for
    bit, in the batch's order, across chunk and store boundaries."""
    a = make_store(tmp_path / "a.zarr", 21, 0, K, chunk=8)
    b = make_store(tmp_path / "b.zarr", 10, 1, K, chunk=4)
    apex = ApexSamples([a, b], [np.arange(21) % 3 / 2, np.ones(10)], cache_mb=0.05)
    starts = [np.arange(0, 16), np.arange(0, 5)]
    win = WindowSamples([a, b], starts, [np.arange(16) % 2, np.ones(5)], L=6, cache_mb=0.05)
    for ds, batch in ((apex, [30, 0, 7, 8, 23, 20, 7]), (win, [19, 2, 15, 16, 6, 20])):
        x, y = ds.__getitems__(batch)
        one = [ds[i] for i in batch]
        assert torch.equal(x, torch.stack([xi for xi, _ in one]))
        assert torch.equal(y, torch.stack([yi for _, yi in one]))
        assert x.dtype == torch.float32 and y.dtype == one[0][1].dtype


def test_lazy_window_batches_read_each_pass_bit_for_bit(tmp_path):
    """The training loop's batches are read a pass at a time (memory bound for long L); every
    slice is what the whole batch holds there."""
    a = make_store(tmp_path / "a.zarr", 21, 0, K, chunk=8)
    b = make_store(tmp_path / "b.zarr", 10, 1, K, chunk=4)
    starts = [np.arange(0, 16), np.arange(0, 5)]
    win = WindowSamples([a, b], starts, [np.arange(16) % 2, np.ones(5)], L=6, cache_mb=0.05)
    batch = [19, 2, 15, 16, 6, 20, 0]
    x, y = win.__getitems__(batch)
    lazy, ly = win.lazy().__getitems__(batch)
    assert len(lazy) == len(batch) and torch.equal(ly, y)
    assert torch.equal(torch.cat([lazy[lo : lo + 3] for lo in range(0, len(batch), 3)]), x)
    assert torch.equal(lazy[0 : len(batch)], x)
    with pytest.raises(TypeError):
        lazy[0]


def test_block_cache_size_bounds_memory_never_results(cfg, apex_items):
    """config `cache_mb` (the decoded-block cache that bounds memory) is read by training and
    leaves the weights bit-identical, however small."""
    net_cfg = ApexNetConfig.from_cfg(cfg)
    train_cfg = tiny(cfg["apex_net"], epochs=2, batch_size=32)
    m1, l1 = train_apex(apex_items, net_cfg, train_cfg, 7, "cpu", quiet, K=K)
    small = tiny(train_cfg, cache_mb=0.01)  # less than one block: every read decodes
    m2, l2 = train_apex(apex_items, net_cfg, small, 7, "cpu", quiet, K=K)
    assert same_weights(m1, m2) and l1 == l2
    with pytest.raises(KeyError, match="cache_mb"):
        train_apex(
            apex_items,
            net_cfg,
            {k: v for k, v in train_cfg.items() if k != "cache_mb"},
            7,
            "cpu",
            quiet,
            K=K,
        )


def test_micro_batches_add_up_to_the_whole_batch_gradient():
    """Split passes (memory bound) take the same optimiser steps as one pass (no BatchNorm)."""
    from tsmsnet.training.train import _fit

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 10, 5, generator=gen)
    y = torch.randn(4, 10, 1, generator=gen)

    def trained(micro_batch):
        torch.manual_seed(1)
        model = torch.nn.Linear(5, 1)
        opt = torch.optim.Adamax(model.parameters(), lr=0.1)
        losses = _fit(
            model,
            lambda _e: zip(x, y, strict=True),
            opt,
            torch.nn.MSELoss(),
            3,
            torch.device("cpu"),
            quiet,
            None,
            micro_batch=micro_batch,
        )
        return model, losses

    whole, l_whole = trained(None)
    split, l_split = trained(3)
    for a, b in zip(whole.parameters(), split.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert np.allclose(l_whole, l_split, rtol=1e-6)
    moved, _ = trained(None)
    torch.manual_seed(1)
    assert not torch.equal(moved.weight, torch.nn.Linear(5, 1).weight)


def test_windows_per_pass_bounds_clips_for_every_L(cfg):
    from tsmsnet.training.train import windows_per_pass

    budget = int(cfg["interval_net"]["clips_per_pass"])
    for name, spot in cfg["configs"].items():
        n = windows_per_pass(cfg["interval_net"], spot["L"])
        assert n >= 1 and (n * spot["L"] <= budget or n == 1), name
        assert (n + 1) * spot["L"] > budget, name


def test_dataset_training_overrides_replace_only_their_keys(cfg):
    from tsmsnet.config import training

    cfg["synthetic"]["presets"]["default"]["train"] = {"apex_net": {"batch_size": 16}}
    cfg["datasets"]["casme2"]["train"] = {"interval_net": {"epochs": 7}}
    apex = training(cfg, "apex_net")
    assert apex["batch_size"] == 16 and apex["epochs"] == cfg["apex_net"]["epochs"]
    assert training(cfg, "interval_net") == cfg["interval_net"]
    cfg["dataset"] = "casme2"
    assert training(cfg, "apex_net") == {**cfg["apex_net"], "input_scaling": "minmax"}
    assert training(cfg, "interval_net")["epochs"] == 7
    with pytest.raises(ConfigError, match="unknown network section 'apex'"):
        training(cfg, "apex")


def test_stage1_input_follows_the_dataset_and_a_preset_may_set_its_own(cfg):
    from tsmsnet.config import training

    cfg["datasets"]["casme2"]["stage1_input"] = "raw"
    cfg["datasets"]["samm_lv"]["stage1_input"] = "minmax"
    cfg["dataset"] = "samm_lv"
    assert training(cfg, "apex_net")["input_scaling"] == "minmax"
    cfg["dataset"] = "synthetic"
    preset = cfg["synthetic"]["presets"][cfg["synthetic"]["preset"]]
    assert preset["layout"] == "casme2" and "stage1_input" not in preset
    assert training(cfg, "apex_net")["input_scaling"] == "raw"  # the layout dataset's
    preset["stage1_input"] = "minmax"
    assert training(cfg, "apex_net")["input_scaling"] == "minmax"
    assert "input_scaling" not in training(cfg, "interval_net")
