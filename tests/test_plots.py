"""Report figures and tables (tsmsnet.plots): what they show is what their inputs say."""

from __future__ import annotations

from html.parser import HTMLParser

import cv2
import numpy as np
import pandas as pd
import pytest

from tsmsnet.evaluation.megc import evaluate
from tsmsnet.plots.common import save_png
from tsmsnet.plots.curves import Track, intervals_of, score_figure, video_tracks
from tsmsnet.plots.losses import loss_figure
from tsmsnet.plots.tables import (
    METHODS,
    counts_table,
    f1_chart,
    f1_page,
    f1_side_by_side,
    pooled_table,
)


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th", "caption"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "caption" and self._cell is not None:
            self.tables[-1]["caption"] = "".join(self._cell).strip()
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_tables(text: str) -> list[tuple[str, pd.DataFrame]]:
    """(caption, table with the header row as columns) of every <table> in an HTML page."""
    parser = _Tables()
    parser.feed(text)
    return [
        (t["caption"], pd.DataFrame(t["rows"][1:], columns=t["rows"][0])) for t in parser.tables
    ]


def decode_png(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a decodable PNG"
    return image


@pytest.fixture
def fold():
    """Two videos: a score curve with two bumps each, truth and predictions around them."""
    rng = np.random.default_rng(0)
    frames = np.arange(1, 201)
    scores, truth, step1, step2 = [], [], [], []
    for video in ("v1", "v2"):
        curve = 0.05 * rng.random(len(frames))
        for peak in (50, 140):
            curve += np.exp(-0.5 * ((frames - peak) / 5.0) ** 2)
            truth.append((video, "micro", peak - 8, peak + 8))
            step1.append((video, "micro", peak - 12, peak + 12, 0.9))
        truth.append((video, "macro", 80, 110))
        step2.append((video, "micro", 38, 62, 0.9))
        scores.append(pd.DataFrame({"video": video, "frame": frames, "score": curve}))
    cols = ["video", "type", "onset", "offset", "score"]
    return {
        "scores": pd.concat(scores, ignore_index=True),
        "truth": pd.DataFrame(truth, columns=cols[:4]),
        "step 1": pd.DataFrame(step1, columns=cols),
        "step 2": pd.DataFrame(step2, columns=cols),
    }


def test_video_tracks_carry_each_videos_curve_truth_and_predictions(fold):
    P = 0.55
    preds = {"step 1": fold["step 1"], "step 2": fold["step 2"]}
    tracks = video_tracks(fold["scores"], ["v2", "v1"], "micro", P, preds, truth=fold["truth"])
    assert [t.title for t in tracks] == ["v2", "v1"]
    for track in tracks:
        curve = fold["scores"][fold["scores"]["video"] == track.title]
        assert np.array_equal(track.frames, curve["frame"].to_numpy())
        s = curve["score"].to_numpy()
        assert track.threshold == pytest.approx(s.mean() + P * (s.max() - s.mean()))
        truth = fold["truth"][fold["truth"]["video"] == track.title]
        micro, macro = truth[truth["type"] == "micro"], truth[truth["type"] == "macro"]
        assert track.truth == sorted(zip(micro["onset"], micro["offset"], strict=True))
        assert track.other_truth == sorted(zip(macro["onset"], macro["offset"], strict=True))
        for name, df in preds.items():
            own = df[df["video"] == track.title]
            assert track.lanes[name] == sorted(zip(own["onset"], own["offset"], strict=True))


def test_fold_score_tracks_give_each_evaluated_method_a_lane(fold, cfg, tmp_path):
    """The score_plot rule's step: one lane per method file it is given, in that order."""
    from tsmsnet.config import spot_config
    from tsmsnet.steps.report import fold_score_tracks

    fold["scores"].to_csv(tmp_path / "scores.csv", index=False)
    truth = fold["truth"].assign(apex=lambda t: (t["onset"] + t["offset"]) // 2)
    truth.to_csv(tmp_path / "annotations.csv", index=False)
    methods = {
        "step2": fold["step 2"],
        "step1": fold["step 1"],
        "roi_flow": fold["step 1"].assign(onset=lambda t: t["onset"] + 3),
        "step2_refined": fold["step 2"].iloc[:1].assign(offset=lambda t: t["offset"] - 4),
    }
    paths = {}
    for method, table in methods.items():
        paths[method] = str(tmp_path / f"{method}.csv")
        table.to_csv(paths[method], index=False)
    spot = spot_config(cfg, "cas_micro")
    tracks = fold_score_tracks(
        str(tmp_path / "scores.csv"), paths, str(tmp_path / "annotations.csv"), ["v1"], spot
    )
    (track,) = tracks
    assert list(track.lanes) == ["step 2", "step 1", "roi flow", "step 2 refined"]
    for method, name in zip(methods, track.lanes, strict=True):
        own = methods[method][methods[method]["video"] == "v1"]
        assert track.lanes[name] == sorted(zip(own["onset"], own["offset"], strict=True))
    assert track.lanes["step 2 refined"] == [(38, 58)]


def test_intervals_of_filters_video_and_type(fold):
    truth = fold["truth"]
    assert intervals_of(truth, "v1", "macro") == [(80, 110)]
    assert len(intervals_of(truth, "v1")) == (truth["video"] == "v1").sum()
    assert intervals_of(None, "v1") == [] and intervals_of(truth, "nope") == []


def test_score_figure_is_a_deterministic_png(fold, tmp_path):
    preds = {"step 1": fold["step 1"], "step 2": fold["step 2"]}
    tracks = video_tracks(fold["scores"], ["v1", "v2"], "micro", 0.55, preds, truth=fold["truth"])
    a = save_png(score_figure(tracks, "fold"), tmp_path / "a.png")
    b = save_png(score_figure(tracks, "fold"), tmp_path / "b.png")
    assert a.read_bytes() == b.read_bytes()
    image = decode_png(a.read_bytes())
    one = decode_png(save_png(score_figure(tracks[:1], "fold"), tmp_path / "one.png").read_bytes())
    assert image.shape[1] == one.shape[1] and image.shape[0] > one.shape[0]  # a panel per video
    assert image.std() > 0
    assert not list(tmp_path.glob(".*tmp*"))


def test_score_figure_without_truth_or_videos(tmp_path):
    track = Track("new", "micro", np.arange(10), np.linspace(0, 1, 10), lanes={"step 2": [(2, 5)]})
    decode_png(save_png(score_figure([track], "cli"), tmp_path / "a.png").read_bytes())
    decode_png(save_png(score_figure([], "empty"), tmp_path / "b.png").read_bytes())


def test_loss_figure_names_untrained_folds(tmp_path):
    losses = {"apex": {"s1": [0.3, 0.2, 0.1], "s2": [0.4, 0.3, 0.25]}, "interval": {"s1": []}}
    fig = loss_figure(losses, "cfg")
    apex_ax, interval_ax = fig.axes
    lines = {line.get_label(): line.get_ydata() for line in apex_ax.get_lines()}
    for fold, values in losses["apex"].items():
        assert list(lines[fold]) == values
    labels = [t.get_text() for t in interval_ax.get_legend().get_texts()]
    assert labels == ["s1 (untrained)"]
    decode_png(save_png(fig, tmp_path / "l.png").read_bytes())


@pytest.fixture
def metrics_all():
    truth = pd.DataFrame(
        [("a", "macro", 10, 40), ("a", "micro", 60, 70), ("b", "macro", 5, 30)],
        columns=["video", "type", "onset", "offset"],
    )
    preds = {
        "step2": [("a", "macro", 12, 38), ("b", "macro", 100, 120)],
        "step2_refined": [("a", "macro", 12, 38), ("a", "micro", 61, 70)],
        "step1": [("a", "macro", 12, 38), ("a", "micro", 58, 71), ("b", "micro", 1, 3)],
        "classical": [("b", "macro", 6, 29)],
        "roi_flow": [("a", "micro", 61, 70), ("b", "macro", 4, 31)],
    }
    cols = ["video", "type", "onset", "offset"]
    return {m: evaluate(truth, pd.DataFrame(p, columns=cols)) for m, p in preds.items()}


def test_pooled_tables_and_page_show_the_metrics(metrics_all, tmp_path):
    long = pooled_table(metrics_all)
    assert list(long["method"].unique()) == list(METHODS)  # step 2 first
    side = f1_side_by_side(long)
    for method, label in METHODS.items():
        for kind in ("macro", "micro", "overall"):
            value = side.loc[side["type"] == kind, f"F1 {label}"].item()
            assert value == metrics_all[method][kind]["F1"]
    counts = counts_table(long)
    assert counts["method"].iloc[0] == METHODS["step2"]
    page = f1_page(long, "pooled", note="protocol")
    tables = dict(html_tables(page))
    shown = tables["F1 by method"]
    cell = shown.loc[shown["type"] == "overall", f"F1 {METHODS['step2']}"].item()
    assert float(cell) == pytest.approx(metrics_all["step2"]["overall"]["F1"], abs=5e-5)
    counted = next(df for caption, df in tables.items() if caption.startswith("Counts"))
    row = counted[(counted["method"] == METHODS["step1"]) & (counted["type"] == "micro")]
    for key in ("N", "TP", "M"):
        assert int(row[key].item()) == metrics_all["step1"]["micro"][key]
    decode_png(save_png(f1_chart(long, "pooled"), tmp_path / "c.png").read_bytes())


def test_grouped_tables_keep_each_group(metrics_all):
    long = pd.concat(
        [pooled_table(metrics_all).assign(fold=f) for f in ("s2", "s1")], ignore_index=True
    )
    side = f1_side_by_side(long, ["fold"])
    assert len(side) == 2 * 3 and list(side["fold"].unique()) == ["s2", "s1"]
    counts = counts_table(long, ["fold"])
    assert list(counts["fold"].unique()) == ["s1", "s2"]
