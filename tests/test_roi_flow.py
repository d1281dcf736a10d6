"""Training-free ROI-flow spotter: curve -> variable-length intervals, the per-fold grid search
(MEGC F1 on training videos), and that the held-out subject cannot move a choice."""

import json

import numpy as np
import pandas as pd
import pytest

from tsmsnet.config import load_config, spot_config
from tsmsnet.errors import ConfigError
from tsmsnet.evaluation.megc import evaluate
from tsmsnet.preprocess.roi_curves import RoiCurves, write_roi_curves
from tsmsnet.spotting.roi_flow import (
    Limits,
    choose_params,
    combine_rois,
    denoise,
    frames,
    intervals_from_curve,
    search_space,
)
from tsmsnet.spotting.search import grid, grid_search, pooled_scores
from tsmsnet.steps.spot import roi_flow_fold


def triangle(n, peak, half, height=1.0):
    """A bump rising linearly over `half` frames to `height` at `peak`, then falling."""
    t = np.arange(n, dtype=np.float64)
    return np.clip(height * (1 - np.abs(t - peak) / half), 0, None)


def test_onset_and_offset_at_the_threshold_crossings():
    curve = triangle(100, 50, 10)  # 0.5 of the peak at frames 45 and 55
    np.testing.assert_array_equal(intervals_from_curve(curve, 0.5, 0.5, 1, 50), [[45, 55, 1.0]])
    np.testing.assert_array_equal(intervals_from_curve(curve, 0.5, 0.8, 1, 50), [[48, 52, 1.0]])


def test_durations_filter_by_type():
    curve = triangle(200, 40, 5) + triangle(200, 140, 30)  # spans 3 and 31 frames at 0.5
    micro = intervals_from_curve(curve, 0.2, 0.5, 3, 15)
    macro = intervals_from_curve(curve, 0.2, 0.5, 16, 60)
    np.testing.assert_array_equal(micro[:, :2], [[38, 42]])
    np.testing.assert_array_equal(macro[:, :2], [[125, 155]])
    assert len(intervals_from_curve(curve, 0.2, 0.5, 6, 30)) == 0  # 5 and 31 frames: neither


def test_peak_threshold_and_nested_peaks():
    curve = triangle(120, 30, 10, 0.2) + triangle(120, 80, 10)
    assert intervals_from_curve(curve, 0.5, 0.5, 1, 50)[:, 0].tolist() == [75]
    shoulder = triangle(120, 60, 20) + triangle(120, 70, 3, 0.3)  # a smaller peak inside
    spans = intervals_from_curve(shoulder, 0.0, 0.3, 1, 100)
    assert len(spans) == 1 and spans[0, 0] < 60 < spans[0, 1]


def test_flat_and_bad_arguments():
    assert intervals_from_curve(np.zeros(30), 0.5, 0.5, 1, 10).shape == (0, 3)
    with pytest.raises(ConfigError, match="fraction"):
        intervals_from_curve(np.ones(5), 0.5, 0.0, 1, 10)
    with pytest.raises(ConfigError, match="durations"):
        intervals_from_curve(np.ones(5), 0.5, 0.5, 5, 4)


def test_denoise_and_combine():
    ramp = np.linspace(0, 5, 200)  # slow drift
    bump = triangle(200, 100, 6)
    out = denoise(ramp + bump, smooth=1, detrend=61)
    # The drift (5 over the video) is gone, the bump mostly stays (the median leans on it).
    assert out[100] > 0.7 and out[:80].max() < 0.05 and out[130:].max() < 0.05
    impulse = np.zeros(11)
    impulse[5] = 3.0
    np.testing.assert_allclose(denoise(impulse, 3, 0)[4:7], [1.0, 1.0, 1.0])
    rois = np.array([[0.0, 2.0], [1.0, 0.0]])
    assert combine_rois(rois, "max").tolist() == [1.0, 2.0]
    assert combine_rois(rois, "mean").tolist() == [0.5, 1.0]
    with pytest.raises(ConfigError, match="combine"):
        combine_rois(rois, "sum")
    assert frames(0.1, 30, odd=True) == 3 and frames(0.0, 30, odd=True) == 1
    assert Limits(0.15, 0.6).frames(200) == (30, 120)


def test_grid_and_search_ties_go_first():
    space = grid({"a": [1, 2], "b": ["x", "y"]})
    assert space == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    with pytest.raises(ConfigError, match="b"):
        grid({"a": [1], "b": []})
    result = grid_search(space, lambda p: {"F1": 0.5 if p["b"] == "y" else 0.1})
    assert result.best == {"a": 1, "b": "y"} and result.f1 == [0.1, 0.5, 0.1, 0.5]


def test_pooled_scores_agree_with_the_evaluator():
    truth = {"v1": np.array([[10, 20], [50, 60]]), "v2": np.array([[5, 9]])}
    pred = {"v1": np.array([[11, 21, 0.3], [100, 110, 0.2]]), "v3": np.array([[1, 2, 0.1]])}

    def table(d):
        return pd.DataFrame(
            [(v, "micro", int(r[0]), int(r[1])) for v, rows in d.items() for r in rows],
            columns=["video", "type", "onset", "offset"],
        )

    expected = evaluate(table(truth), table(pred))["micro"]
    assert pooled_scores(truth, pred) == expected


FPS = 30.0
SEARCH = {
    "gap_s": [0.1],
    "combine": ["max"],
    "smooth_s": [0.0],
    "detrend_s": [0.0],
    "P": [0.5],
    "fraction": [0.1, 0.5, 0.9],
}
# |t - peak| <= 3 ln(1/f): f=0.5 -> peak +- 2 (5 frames), 0.1 -> +- 6, 0.9 -> the peak alone.
SPANS = {0.1: 6, 0.5: 2, 0.9: 0}


def curves_of(peaks, n=120, first_frame=1, source="v"):
    t = np.arange(n)
    curve = sum(np.exp(-np.abs(t - p) / 3.0) for p in peaks)
    stack = np.stack([curve, 0.5 * curve]).astype(np.float32)[None]
    return RoiCurves((0.1,), (3,), stack, ("a", "b"), first_frame, FPS, source)


def truth_for(peaks, fraction):
    half = SPANS[fraction]
    return np.array([[p - half, p + half] for p in peaks])


def test_choice_follows_the_training_truth():
    limits = Limits(1 / FPS, 2.0)
    videos = {"v1": (curves_of([30, 80]), truth_for([30, 80], 0.5))}
    assert search_space(SEARCH)[1]["fraction"] == 0.5
    assert choose_params(videos, SEARCH, limits).best["fraction"] == 0.5
    videos = {"v1": (curves_of([30, 80]), truth_for([30, 80], 0.1))}
    assert choose_params(videos, SEARCH, limits).best["fraction"] == 0.1
    with pytest.raises(ConfigError, match="missing"):
        search_space({k: v for k, v in SEARCH.items() if k != "P"})


PEAKS = {"s1_v": [30, 80], "s2_v": [20, 90], "s3_v": [40, 70]}


def write_fold(folder, labels, held_out_peaks=None):
    """Curves and annotations of three one-video subjects; labels: video -> fraction."""
    rows, paths = [], {}
    for video, peaks in PEAKS.items():
        if video == "s3_v" and held_out_peaks is not None:
            peaks = held_out_peaks
        paths[video] = str(folder / f"{video}.npz")
        write_roi_curves(curves_of(peaks, source=video), paths[video])
        for on, off in truth_for(PEAKS[video], labels[video]) + 1:  # frame numbers from 1
            rows.append((video[:2], video, "micro", on, off))
    annotations = folder / "annotations.csv"
    pd.DataFrame(rows, columns=["subject", "video", "type", "onset", "offset"]).to_csv(
        annotations, index=False
    )
    return str(annotations), paths


def run_fold(folder, labels, held_out_peaks=None):
    folder.mkdir()
    annotations, paths = write_fold(folder, labels, held_out_peaks)
    roi_flow = {"durations_s": {"micro": [1 / FPS, 2.0]}, "search": {"micro": SEARCH}}
    record = roi_flow_fold(
        annotations,
        [paths["s1_v"], paths["s2_v"]],
        [paths["s3_v"]],
        ["s1_v", "s2_v"],
        ["s3_v"],
        "s3",
        spot_config(load_config(), "cas_micro"),
        roi_flow,
        str(folder / "roi_flow.csv"),
        str(folder / "choice.json"),
        lambda message: None,
    )
    assert json.loads((folder / "choice.json").read_text()) == record
    return record, pd.read_csv(folder / "roi_flow.csv")


def test_held_out_subject_changes_no_choice_and_training_subjects_can(tmp_path):
    clean = {"s1_v": 0.5, "s2_v": 0.5, "s3_v": 0.5}
    record, predictions = run_fold(tmp_path / "clean", clean)
    assert record["chosen"]["fraction"] == 0.5 and record["train_scores"]["F1"] == 1.0
    # The held-out video is spotted with the choice: its two peaks, +-2 frames, frame numbers.
    assert predictions[["onset", "offset"]].values.tolist() == [[39, 43], [69, 73]]
    assert set(predictions["video"]) == {"s3_v"} and set(predictions["type"]) == {"micro"}

    poisoned, _ = run_fold(
        tmp_path / "held_out", {**clean, "s3_v": 0.1}, held_out_peaks=[10, 50, 100]
    )
    assert poisoned["chosen"] == record["chosen"]
    assert poisoned["train_scores"] == record["train_scores"]

    trained, _ = run_fold(tmp_path / "training", {**clean, "s1_v": 0.1, "s2_v": 0.1})
    assert trained["chosen"]["fraction"] == 0.1


def test_a_held_out_training_video_is_refused(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    annotations, paths = write_fold(folder, {v: 0.5 for v in PEAKS})
    with pytest.raises(Exception, match="held-out subject s1"):
        roi_flow_fold(
            annotations,
            [paths["s1_v"]],
            [paths["s3_v"]],
            ["s1_v"],
            ["s3_v"],
            "s1",
            spot_config(load_config(), "cas_micro"),
            {"durations_s": {"micro": [0.1, 2.0]}, "search": {"micro": SEARCH}},
            str(folder / "out.csv"),
            str(folder / "choice.json"),
            lambda message: None,
        )
