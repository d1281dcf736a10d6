"""Realistic synthetic presets: statistics of real ground truth, drawn as the config says."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from tsmsnet.errors import ConfigError
from tsmsnet.evaluation.findable import config_K, fixed_window_table
from tsmsnet.synthetic import realistic
from tsmsnet.synthetic.face import make_face
from tsmsnet.synthetic.generate import (
    expression_config,
    generate_subject,
    place_expressions,
    plan_video,
    planned_types,
)

SEED = 7
TYPES = ("macro", "micro")


def _expressions(cfg: dict, preset: str) -> dict:
    synthetic = cfg["synthetic"]
    return expression_config(synthetic, synthetic["presets"][preset])


@pytest.mark.parametrize("preset", ["realistic", "realistic_samm"])
def test_config_numbers_are_the_sources_statistics(shared_dir, cfg, preset):
    """The config's numbers recomputed from the ground truth it names (and every video of the
    dataset: the ground truth's and those only the baseline's predictions name)."""
    spec = cfg["synthetic"]["presets"][preset]
    ex = spec["expressions"]
    layout = spec["layout"]
    folder = shared_dir / "conformance" / "megc2020-baseline"
    truth = pd.read_csv(folder / f"{layout}_ground_truth.csv")
    predictions = pd.read_csv(folder / f"{layout}_mdmd_predictions.csv")
    videos = sorted(set(truth["video"]) | set(predictions["video"]))
    fps = cfg["datasets"][layout]["fps"]
    lengths = realistic.last_frames(truth, predictions).reindex(videos)
    got = realistic.statistics(truth, videos, fps, lengths, len(ex["gap_quantiles_s"]))
    for kind in TYPES:
        for key in ("per_video_weights", "duration_quantiles_s"):
            assert ex[kind][key] == got[kind][key], (kind, key)
    assert ex["gap_quantiles_s"] == got["gap_quantiles_s"]
    assert ex["source_video_s"] == got["source_video_s"]
    assert sum(ex["macro"]["per_video_weights"]) == len(videos)


def test_tiny_variant_draws_from_the_same_statistics(cfg):
    assert _expressions(cfg, "realistic_tiny") == _expressions(cfg, "realistic")
    assert "expressions" not in cfg["synthetic"]["presets"]["default"]


def test_statistics_of_a_small_ground_truth():
    """Counts per video include videos without any row; gaps are between consecutive
    expressions of one video, any types, negative where they overlap; lengths inclusive."""
    truth = pd.DataFrame(
        {
            "video": ["a", "a", "a", "b"],
            "type": ["macro", "micro", "macro", "macro"],
            "onset": [10, 40, 45, 5],
            "apex": [12, 42, 50, 6],
            "offset": [19, 49, 60, 8],
        }
    )
    counts = realistic.counts_per_video(truth, ["a", "b", "c"])
    assert counts == {"macro": [1, 1, 1], "micro": [2, 1]}
    assert sorted(realistic.gaps_frames(truth).tolist()) == [-5, 20]
    lengths = realistic.durations_frames(truth)
    assert lengths["length"].tolist() == [10, 10, 16, 4]
    more = pd.DataFrame({"video": ["b", "c"], "type": "macro", "onset": [1, 2], "offset": [90, 30]})
    assert realistic.last_frames(truth, more).to_dict() == {"a": 60, "b": 90, "c": 30}
    stats = realistic.statistics(truth, ["a", "b", "c"], 10.0, pd.Series([60, 90, 30]), 3)
    assert stats["macro"]["duration_quantiles_s"] == [0.4, 1.0, 1.6]
    assert stats["gap_quantiles_s"] == [-0.5, 0.75, 2.0]
    assert stats["source_video_s"] == [3.0, 6.0, 9.0]


def test_draws_follow_quantiles_and_weights():
    rng = np.random.default_rng(0)
    x = np.array([realistic.draw_quantile(rng, [0.0, 1.0, 3.0]) for _ in range(20000)])
    assert x.min() >= 0.0 and x.max() <= 3.0
    assert abs(np.mean(x < 1.0) - 0.5) < 0.02  # the middle quantile is the median
    assert abs(np.mean(x < 2.0) - 0.75) < 0.02  # linear between the quantiles
    k = np.array([realistic.draw_count(rng, [5, 3, 0, 2], minimum=1) for _ in range(20000)])
    assert set(k.tolist()) == {1, 3}
    assert abs(np.mean(k == 1) - 0.6) < 0.02
    with pytest.raises(ValueError):
        realistic.draw_count(rng, [5, 0], minimum=1)


def _plan(ex: dict, frames: int, videos: int) -> tuple[pd.DataFrame, list[str]]:
    logged: list[str] = []
    rows = []
    for v in range(videos):
        rng = np.random.default_rng([SEED, v])
        for e in place_expressions(rng, frames, 30.0, ex, logged.append, f"v{v}"):
            rows.append((f"v{v}", e.type, e.onset, e.apex, e.offset))
    cols = ["video", "type", "onset", "apex", "offset"]
    return pd.DataFrame(rows, columns=cols), logged


def test_realistic_plan_follows_the_config(cfg):
    """Planned videos of the realistic preset: counts per video, durations and the share out
    of reach of a fixed window follow the config's statistics; gaps and ends are kept."""
    spec = cfg["synthetic"]["presets"]["realistic"]
    ex = spec["expressions"]
    frames, n_videos = spec["frames"], 600
    plan, logged = _plan(ex, frames, n_videos)
    assert not any("dropped" in line for line in logged)
    gap = int(np.ceil(ex["min_gap_s"] * 30))
    for _, g in plan.groupby("video"):
        g = g.sort_values("onset")
        assert (g["onset"] < g["apex"]).all() and (g["apex"] < g["offset"]).all()
        assert g["onset"].min() >= gap and g["offset"].max() <= frames - 1 - gap
        assert (g["onset"].to_numpy()[1:] - g["offset"].to_numpy()[:-1] - 1 >= gap).all()
    K = config_K(cfg, cfg["datasets"]["casme2"]["configs"])
    findable = fixed_window_table(plan, K).set_index("type")
    for kind in TYPES:
        c = ex[kind]
        per = plan[plan["type"] == kind].groupby("video").size()
        per = per.reindex([f"v{v}" for v in range(n_videos)], fill_value=0)
        w = np.asarray(c["per_video_weights"], dtype=float)
        w[: c["min_per_video"]] = 0
        expected_mean = (w * np.arange(len(w))).sum() / w.sum()
        assert abs(per.mean() - expected_mean) < 0.1 * expected_mean, kind
        assert abs((per == 0).mean() - w[0] / w.sum()) < 0.04, kind
        assert per.min() >= c["min_per_video"]
        qs = np.asarray(c["duration_quantiles_s"]) * 30
        part = plan[plan["type"] == kind]
        lengths = (part["offset"] - part["onset"] + 1).to_numpy()
        assert lengths.min() >= round(qs[0]) and lengths.max() <= round(qs[-1])
        # P(length <= t frames) is the config's P(seconds * fps < t + 0.5), at the quartiles
        # and at K: the share a 2K+1 window cannot reach (shorter than K+1 frames)
        cdf = {}
        for t in [*np.round(np.quantile(qs, [0.25, 0.5, 0.75])).astype(int), K[kind]]:
            cdf[t] = np.interp(t + 0.5, qs, realistic.levels(len(qs)))
            assert abs(np.mean(lengths <= t) - cdf[t]) < 0.04, (kind, t)
        assert abs((1 - findable.loc[kind, "share"]) - cdf[K[kind]]) < 0.04, kind
    assert 1 - findable.loc["macro", "share"] > 0.3 and 1 - findable.loc["micro", "share"] > 0.1


def test_realistic_presets_density(cfg):
    """realistic_sparse holds CAS(ME)^2's sparsity (one expression per 20-40 s), squeezing the
    drawn gaps of far fewer videos than realistic (about half there: docs/benchmarks.md); realistic
    is the same draws packed more than 3x denser."""
    presets = cfg["synthetic"]["presets"]
    sparse, dense = presets["realistic_sparse"], presets["realistic"]
    assert sparse["expressions"] == dense["expressions"] and sparse["frames"] > 3 * dense["frames"]
    seconds = {}
    for name, spec in (("realistic_sparse", sparse), ("realistic", dense)):
        plan, logged = _plan(spec["expressions"], spec["frames"], 300)
        seconds[name] = 300 * spec["frames"] / 30.0 / len(plan)
        squeezed = [line for line in logged if "squeez" in line or "scaled" in line]
        if name == "realistic_sparse":
            assert len(squeezed) < 0.2 * 300, squeezed[:3]  # videos with many expressions
    assert 20.0 <= seconds["realistic_sparse"] <= 40.0, seconds
    assert seconds["realistic"] < seconds["realistic_sparse"] / 2.5, seconds


def test_realistic_tiny_through_the_generator(cfg, tmp_path):
    """One realistic_tiny subject written as frames: the ground truth is what the DAG-time plan
    says, inside the config's duration range; the tiny preset holds expressions no fixed
    window can match."""
    synthetic = cfg["synthetic"]
    spec = synthetic["presets"]["realistic_tiny"]
    fps = cfg["datasets"]["casme2"]["fps"]
    logged: list[str] = []
    rows = generate_subject(tmp_path, 0, synthetic, "realistic_tiny", SEED, fps, log=logged.append)
    assert len(list(tmp_path.rglob("*.jpg"))) == spec["frames"]
    planned = planned_types(synthetic, spec, SEED, fps)
    assert planned["s15"] == set(rows["type"])
    ex = spec["expressions"]
    for row in rows.itertuples():
        qs = ex[row.type]["duration_quantiles_s"]
        assert round(qs[0] * fps) <= row.offset - row.onset + 1 <= round(qs[-1] * fps)
    K = config_K(cfg, cfg["datasets"]["casme2"]["configs"])
    lengths = []
    for i in range(spec["subjects"]):
        face = make_face(SEED, i, spec["image_size"], synthetic["face"])
        script = plan_video(face, i, 0, synthetic, spec, SEED, fps, 128)
        lengths += [(e.type, e.offset - e.onset + 1) for e in script.expressions]
    assert any(length < K[kind] + 1 for kind, length in lengths), lengths


def test_bad_realistic_expressions_fail_naming_the_key(cfg):
    synthetic = copy.deepcopy(cfg["synthetic"])
    spec = synthetic["presets"]["realistic"]
    spec["expressions"]["micro"]["duration_quantiles_s"][3] = 0.1
    with pytest.raises(ConfigError, match="expressions.micro.duration_quantiles_s decreases"):
        planned_types(synthetic, spec, SEED, 30.0)
    spec = copy.deepcopy(cfg["synthetic"]["presets"]["realistic"])
    spec["expressions"]["micro"]["min_per_video"] = 9
    with pytest.raises(ConfigError, match="expressions.micro: no count >= min_per_video"):
        expression_config(synthetic, spec)


def test_default_preset_never_takes_the_realistic_path(cfg, monkeypatch):
    """The default preset plans from the synthetic section's own expressions and never calls a
    realistic draw, so its videos are what they were before the realistic presets existed."""
    synthetic = cfg["synthetic"]
    spec = synthetic["presets"]["default"]
    assert expression_config(synthetic, spec) is synthetic["expressions"]

    def forbidden(*args, **kwargs):
        raise AssertionError("the default preset drew from a realistic distribution")

    for name in ("draw_count", "draw_quantile", "check"):
        monkeypatch.setattr(realistic, name, forbidden)
    face = make_face(SEED, 0, spec["image_size"], synthetic["face"])
    script = plan_video(face, 0, 0, synthetic, spec, SEED, 30.0, 128)
    kinds = [e.type for e in script.expressions]
    assert sorted(kinds) == ["macro"] * 2 + ["micro"] * 2
