"""The recognition network: shapes, balance, the leak guard, determinism, and a small case it
must learn (classes that differ by where the motion is, as the synthetic emotions do)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import zarr

from tsmsnet.errors import InputError
from tsmsnet.recognition.model import RecognitionNet, RecognitionNetConfig
from tsmsnet.recognition.predict import name_classes
from tsmsnet.recognition.samples import centre_frame, sample_indices
from tsmsnet.recognition.train import class_weights, train_recognizer, training_set
from tsmsnet.training.train import load_checkpoint, save_checkpoint

K = 6
CLASSES = ("negative", "positive", "surprise")
FIRST = 3  # dataset frame number of store index 0
# Where each class moves, in the (3, 42, 42) sample: rows of the brows (top ROI) or the mouth.
REGIONS = {
    "negative": (slice(0, 21), slice(0, 21)),
    "positive": (slice(21, 42), slice(0, 42)),
    "surprise": (slice(0, 21), slice(0, 42)),
    "others": (slice(0, 42), slice(21, 42)),
}


def net_cfg(cfg, classes=CLASSES) -> RecognitionNetConfig:
    return RecognitionNetConfig.from_sections(
        cfg["recognition"], cfg["preprocess"]["features"], classes
    )


def settings(cfg, **kw) -> dict:
    return {**cfg["recognition"], "epochs": 15, "batch_size": 32, **kw}


def make_video(path, expressions, n=120, seed=0):
    """A stage-1 store of noise where each (centre, class) moves its class's region in every
    sample whose span holds the centre."""
    rng = np.random.default_rng(seed)
    data = rng.normal(0.0, 0.05, size=(n, 3, 42, 42)).astype(np.float32)
    for centre, label in expressions:
        rows, cols = REGIONS[label]
        for t in sample_indices(centre - FIRST, K, n):
            data[t, :, rows, cols] += 1.0
    arr = zarr.create_array(
        store=str(path), shape=data.shape, chunks=(32, 3, 42, 42), dtype="float16"
    )
    arr[:] = data.astype(np.float16)
    arr.attrs.update({"step": K, "first_frame": FIRST})
    return str(path)


def make_fold(tmp_path, subjects=("s1", "s2", "s3")):
    """Three subjects, one video each, six labelled micro-expressions per video (negative twice
    as often as the others) and one macro row, as an emotion table."""
    labels = ["negative", "positive", "negative", "surprise", "negative", "others"]
    rows, stores = [], {}
    for i, subject in enumerate(subjects):
        video = f"{subject}_v"
        centres = [FIRST + 12 + 18 * j for j in range(len(labels))]
        stores[video] = make_video(
            tmp_path / f"{video}.zarr", list(zip(centres, labels, strict=True)), seed=i
        )
        for c, label in zip(centres, labels, strict=True):
            rows.append((subject, video, "micro", c - 3, c, c + 4, label))
        rows.append((subject, video, "macro", 5, 7, 9, "positive"))
    truth = pd.DataFrame(
        rows, columns=["subject", "video", "type", "onset", "apex", "offset", "emotion"]
    )
    return truth, stores


def test_network_shapes_and_checkpoint_round_trip(cfg, tmp_path):
    net = RecognitionNet(net_cfg(cfg)).eval()
    x = torch.randn(5, 3, 42, 42)
    assert net(x).shape == (5, 3)
    save_checkpoint(tmp_path / "r.pt", net, net.cfg, [1.0], {"K": K, "held_out": "s1"})
    back, payload = load_checkpoint(tmp_path / "r.pt", "cpu")
    assert payload["net_cfg"]["classes"] == CLASSES and payload["extra"]["K"] == K
    assert torch.equal(back(x), net(x))


def test_samples_hold_the_centre():
    assert centre_frame(10, 20, 13) == 13 and centre_frame(10, 20, 25) == 15
    assert sample_indices(10, 6, 100).tolist() == list(range(4, 11))
    assert sample_indices(2, 6, 100).tolist() == [0, 1, 2]
    assert sample_indices(99, 6, 50).tolist() == [49]


def test_training_set_counts_balances_and_excludes(cfg, tmp_path):
    truth, stores = make_fold(tmp_path)
    videos = ["s1_v", "s2_v"]
    data = training_set(truth, [stores[v] for v in videos], videos, "s3", CLASSES, ["micro"], K)
    # 3 negative, 1 positive, 1 surprise micro per video; others and the macro row left out.
    assert data.expressions.tolist() == [6, 2, 2]
    assert len(data.y) == 10 * (K + 1) and data.x.shape[1:] == (3, 42, 42)
    both = training_set(
        truth, [stores[v] for v in videos], videos, "s3", CLASSES, ["micro", "macro"], K
    )
    assert both.expressions.tolist() == [6, 4, 2]
    w = class_weights(data.y, 3)
    counts = np.bincount(data.y, minlength=3)
    assert np.allclose(w * counts, len(data.y) / 3)  # every class weighs the same
    assert class_weights(np.array([0, 0, 2]), 3).tolist() == [0.75, 0.0, 1.5]


def test_leak_guard_refuses_the_held_out_subject(tmp_path):
    truth, stores = make_fold(tmp_path)
    with pytest.raises(InputError, match="held-out subject s2"):
        training_set(truth, [stores["s2_v"]], ["s2_v"], "s2", CLASSES, ["micro"], K)


def test_store_of_another_K_is_refused(cfg, tmp_path):
    truth, stores = make_fold(tmp_path)
    with pytest.raises(InputError, match="not K=12"):
        training_set(truth, [stores["s1_v"]], ["s1_v"], "s3", CLASSES, ["micro"], 12)


def test_training_is_deterministic_and_learns_where_the_motion_is(cfg, tmp_path):
    truth, stores = make_fold(tmp_path)
    videos = ["s1_v", "s2_v"]
    data = training_set(truth, [stores[v] for v in videos], videos, "s3", CLASSES, ["micro"], K)
    runs = [
        train_recognizer(data, net_cfg(cfg), settings(cfg), 7, "cpu", lambda _: None)
        for _ in range(2)
    ]
    (a, losses_a), (b, losses_b) = runs
    assert losses_a == losses_b and len(losses_a) == 15 and losses_a[-1] < losses_a[0]
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb)
    save_checkpoint(tmp_path / "m" / "s3" / "recognizer.pt", a, a.cfg, losses_a, {"K": K})
    held = truth[(truth["subject"] == "s3") & truth["emotion"].isin(CLASSES)]
    held = held[held["type"] == "micro"].reset_index(drop=True)
    named = name_classes(tmp_path / "m", stores, held[["video", "onset", "offset"]], "cpu")
    assert named[["video", "onset", "offset"]].equals(held[["video", "onset", "offset"]])
    assert named["emotion"].tolist() == held["emotion"].tolist()
    assert ((named["emotion_score"] > 1 / 3) & (named["emotion_score"] <= 1)).all()


def test_name_classes_needs_every_store_and_its_K(cfg, tmp_path):
    net = RecognitionNet(net_cfg(cfg)).eval()
    save_checkpoint(tmp_path / "recognizer.pt", net, net.cfg, [], {"K": K + 1})
    _, stores = make_fold(tmp_path)
    rows = pd.DataFrame({"video": ["s1_v"], "onset": [10], "offset": [20]})
    with pytest.raises(InputError, match="no stage-1 store given for video"):
        name_classes(tmp_path, {}, rows, "cpu")
    with pytest.raises(InputError, match=f"models with K={K + 1}"):
        name_classes(tmp_path / "recognizer.pt", stores, rows, "cpu")
    empty = name_classes(tmp_path, stores, rows.iloc[:0], "cpu")
    assert list(empty.columns) == ["video", "onset", "offset", "emotion", "emotion_score"]
