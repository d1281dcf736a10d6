"""Boundary refinement after step 2: the rule on known curves, the grid search, and that a
fold's chosen parameters depend on its training subjects only (poisoning)."""

import json

import numpy as np
import pandas as pd
import pytest
import zarr

from tsmsnet.config import SpotConfig
from tsmsnet.errors import ConfigError, InputError
from tsmsnet.spotting.refine import (
    RefineParams,
    TrainingVideo,
    choose,
    grid,
    refine_intervals,
    smooth,
)
from tsmsnet.steps.refine import refine_fold


def bump(n, centre, height, width):
    """A triangle of `height` at `centre`, falling by height/width per sample, zero elsewhere."""
    t = np.arange(n)
    return np.maximum(0.0, height * (1 - np.abs(t - centre) / width))


def test_bounds_where_the_curve_falls_below_the_fraction():
    K = 4  # curve sample t stands for frame t + 2
    curve = np.maximum(0.0, 6 - np.abs(np.arange(40) - 15.0))  # 1 at 10, 3 at 12, 6 at 15
    none = RefineParams(fraction=0.5, smoothing=0, reach=10)
    out = refine_intervals([[0, 39, 0.7]], curve, K, none, n_frames=44)
    # first sample below 3 is 11 on the left, 19 on the right -> frames 13 and 21
    np.testing.assert_array_equal(out, [[13, 21, 0.7]])
    short = RefineParams(fraction=0.5, smoothing=0, reach=0.5)  # 2 frames either side
    np.testing.assert_array_equal(
        refine_intervals([[10, 20, 1]], curve, K, short, 44), [[15, 19, 1]]
    )
    low = RefineParams(fraction=0.1, smoothing=0, reach=10)  # falls below 0.6 only at zero
    np.testing.assert_array_equal(refine_intervals([[10, 20, 1]], curve, K, low, 44), [[11, 23, 1]])


def test_peak_is_searched_inside_the_interval_and_bounds_clipped():
    K = 4
    curve = bump(40, 15, 6, 6) + bump(40, 33, 2, 3)
    params = RefineParams(fraction=0.5, smoothing=0, reach=10)
    out = refine_intervals([[30, 39, 1], [0, 20, 2]], curve, K, params, n_frames=37)
    # second bump: peak at sample 33 (frame 35), below 1 at 31 and 35: frames 33..37, the
    # offset clipped to the last frame 36
    assert out[:, :2].tolist() == [[33, 36], [13, 21]]
    assert out[:, 2].tolist() == [1, 2]  # rows and scores kept


def test_smoothing_window_and_grid():
    p = RefineParams(fraction=0.5, smoothing=0.5, reach=1)
    assert [p.window(K) for K in (1, 4, 12, 31)] == [1, 3, 7, 17]
    assert RefineParams(0.5, 0, 1).window(31) == 1
    np.testing.assert_allclose(smooth([0, 0, 3, 0, 0], 3), [0, 1, 1, 1, 0])
    g = grid({"fraction": [0.2, 0.4], "smoothing": [0], "reach": [1, 2]})
    assert [(c.fraction, c.reach) for c in g] == [(0.2, 1), (0.2, 2), (0.4, 1), (0.4, 2)]
    with pytest.raises(ConfigError, match="refine.reach"):
        grid({"fraction": [0.2], "smoothing": [0], "reach": []})


def test_choose_finds_the_fraction_that_fits_the_truth():
    K = 8  # curve sample t stands for frame t + 4
    curve = bump(120, 50, 10, 6)  # 3.3 at samples 46 and 54, 5 at 47 and 53, 8.3 at 49 and 51
    # refined bounds: fraction 0.1 -> frames 48..60, 0.5 -> 50..58, 0.9 -> 53..55
    wide = TrainingVideo(curve=curve, n_frames=130, truth=np.array([[50, 58]]))  # 0.1, 0.5 hit
    narrow = TrainingVideo(curve=curve, n_frames=130, truth=np.array([[52, 56]]))  # 0.5, 0.9 hit
    candidates = grid({"fraction": [0.1, 0.5, 0.9], "smoothing": [0], "reach": [2]})
    best, table = choose([wide, narrow], K, candidates)
    assert best.fraction == 0.5
    assert [row["TP"] for row in table] == [1, 2, 1]
    assert table[1]["F1"] == 1.0
    tied, _ = choose([wide], K, candidates)
    assert tied == candidates[0]  # a tie keeps the first in grid order


# Poisoning: three subjects, one video each; the fold holds out subject c.
K, N_FRAMES = 6, 200
SPOT = SpotConfig("t_micro", "micro", K, 4, 0.5, 1, (1, 1, 0), 8)
SETTINGS = {"fraction": [0.1, 0.3, 0.5, 0.7, 0.9], "smoothing": [0, 0.5], "reach": [1, 2, 4]}
CENTRES = (40, 100, 160)


def write_store(path, curve):
    """A stage-1 store whose flow magnitude is `curve` (u = the curve, v = 0)."""
    data = np.zeros((len(curve), 3, 2, 2), dtype=np.float32)
    data[:, 0] = np.asarray(curve, dtype=np.float32)[:, None, None]
    arr = zarr.create_array(store=str(path), shape=data.shape, dtype="float32")
    arr[:] = data
    arr.attrs.update({"first_frame": 1, "n_frames": N_FRAMES})


def fold_files(tmp, poison=None):
    """Stores, annotations and step-2 predictions; `poison` ('a' or 'c') corrupts that
    subject's store with noise and its labels with other intervals."""
    rng = np.random.default_rng(0)
    rows, stores = [], {}
    for subject in "abc":
        curve = sum(bump(N_FRAMES - K, c, 10, 8) for c in CENTRES)
        truth = [(c + 1 + K // 2 - 3, c + 1 + K // 2 + 3) for c in CENTRES]  # 7 frames each
        if subject == poison:
            curve = rng.uniform(0, 10, N_FRAMES - K)
            truth = [(5, 60), (90, 95), (120, 190)]
        stores[subject] = tmp / f"{subject}.zarr"
        write_store(stores[subject], curve)
        rows += [(subject, f"{subject}_1", "micro", on, off) for on, off in truth]
    ann = pd.DataFrame(rows, columns=["subject", "video", "type", "onset", "offset"])
    ann.to_csv(tmp / "annotations.csv", index=False)
    step2 = pd.DataFrame(
        {"video": "c_1", "type": "micro", "onset": [30, 90], "offset": [52, 112], "score": 0.5}
    )
    step2.to_csv(tmp / "step2.csv", index=False)
    return stores


def run_fold(tmp, poison=None):
    tmp.mkdir()
    stores = fold_files(tmp, poison)
    return refine_fold(
        str(tmp / "annotations.csv"),
        [str(stores["a"]), str(stores["b"])],
        ["a_1", "b_1"],
        [str(stores["c"])],
        ["c_1"],
        str(tmp / "step2.csv"),
        SPOT,
        SETTINGS,
        "c",
        str(tmp / "refined.csv"),
        str(tmp / "refine.json"),
        lambda _: None,
    )


def test_held_out_subject_changes_no_parameter(tmp_path):
    clean = run_fold(tmp_path / "clean")
    assert clean["training_score"]["F1"] == 1.0
    held_out = run_fold(tmp_path / "held_out", poison="c")
    training = run_fold(tmp_path / "training", poison="a")
    assert held_out["chosen"] == clean["chosen"]
    assert held_out["grid"] == clean["grid"]
    assert training["chosen"] != clean["chosen"]
    saved = json.loads((tmp_path / "clean" / "refine.json").read_text())
    assert saved["chosen"] == clean["chosen"] and saved["held_out"] == "c"
    refined = pd.read_csv(tmp_path / "clean" / "refined.csv")
    assert len(refined) == 2 and refined["score"].tolist() == [0.5, 0.5]


def test_held_out_video_among_training_is_refused(tmp_path):
    stores = fold_files(tmp_path)
    with pytest.raises(InputError, match="held-out subject c"):
        refine_fold(
            str(tmp_path / "annotations.csv"),
            [str(stores["a"]), str(stores["c"])],
            ["a_1", "c_1"],
            [str(stores["c"])],
            ["c_1"],
            str(tmp_path / "step2.csv"),
            SPOT,
            SETTINGS,
            "c",
            str(tmp_path / "refined.csv"),
            str(tmp_path / "refine.json"),
            lambda _: None,
        )


def test_refined_only_for_our_training_and_when_enabled(cfg):
    from tsmsnet.model_source import methods

    assert methods(cfg) == ["step2", "step1", "classical", "roi_flow", "step2_refined"]
    assert methods({**cfg, "models": "upstream"}) == ["step2", "step1", "classical", "roi_flow"]
    off = {**cfg, "refine": {**cfg["refine"], "enabled": False}}
    assert methods(off) == ["step2", "step1", "classical", "roi_flow"]
