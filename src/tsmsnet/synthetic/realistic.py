"""Statistics of a real ground truth in the shape the `realistic` synthetic presets draw from,
and the two draws they need.

The generator never reads a real ground truth: config.yaml holds these numbers (with their
source named), and tests/test_realistic.py recomputes them from ../shared when present, so the
config cannot drift from its source.

Durations and gaps are kept as empirical quantiles at evenly spaced levels (0, 1/(n-1), ...,
1), drawn by inverse CDF with linear interpolation between them: the real shapes have hard
edges that a fitted log-normal smears, and those edges decide which expressions a fixed
window can match (a log-normal fitted to CAS(ME)^2's micro-expression durations puts 33% of
its draws below 13 frames, out of reach at K=12, where the data have 21%, and 5% above the
longest real one, 17 frames).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsmsnet.errors import ConfigError
from tsmsnet.evaluation.megc import TYPES, normalise

QUANTILE_KEYS = ("gap_quantiles_s", "source_video_s")


def levels(n: int) -> np.ndarray:
    """The n evenly spaced quantile levels 0 .. 1 that a list of n quantiles stands for."""
    if n < 2:
        raise ValueError(f"a quantile list needs at least 2 entries (0 and 1), got {n}")
    return np.linspace(0.0, 1.0, n)


def quantiles(values, n: int) -> list[float]:
    """The n quantiles of `values` at `levels(n)` (numpy's linear interpolation)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no values to take quantiles of")
    return [float(q) for q in np.quantile(values, levels(n))]


def draw_quantile(rng: np.random.Generator, qs) -> float:
    """One draw from the distribution whose quantiles at `levels(len(qs))` are `qs`."""
    qs = np.asarray(qs, dtype=np.float64)
    return float(np.interp(rng.random(), levels(len(qs)), qs))


def draw_count(rng: np.random.Generator, weights, minimum: int = 0) -> int:
    """A count k >= minimum drawn with probability proportional to weights[k]."""
    w = np.asarray(weights, dtype=np.float64).copy()
    w[: int(minimum)] = 0.0
    if w.sum() <= 0:
        raise ValueError(f"no count >= {minimum} has a positive weight in {list(weights)}")
    return int(rng.choice(len(w), p=w / w.sum()))


def check(expr_cfg: dict) -> None:
    """ConfigError naming the key where a realistic expressions section cannot be drawn from:
    quantiles that decrease, or no count >= min_per_video with a positive weight."""
    lists = [(key, expr_cfg[key]) for key in QUANTILE_KEYS]
    for kind in TYPES:
        c = expr_cfg[kind]
        lists.append((f"{kind}.duration_quantiles_s", c["duration_quantiles_s"]))
        if not any(w > 0 for w in c["per_video_weights"][int(c["min_per_video"]) :]):
            raise ConfigError(
                f"a preset's expressions.{kind}: no count >= min_per_video "
                f"({c['min_per_video']}) has a positive weight in per_video_weights: lower "
                "min_per_video or fix the weights"
            )
    for key, qs in lists:
        drops = np.flatnonzero(np.diff(np.asarray(qs, dtype=np.float64)) < 0)
        if len(drops):
            raise ConfigError(
                f"a preset's expressions.{key} decreases after entry {int(drops[0])} "
                f"({qs[drops[0]]} -> {qs[drops[0] + 1]}): quantiles must be non-decreasing"
            )


def durations_frames(truth: pd.DataFrame) -> pd.DataFrame:
    """type and length (offset - onset + 1, inclusive as the protocol counts) of each row."""
    gt = normalise(truth, "ground truth")
    return gt.assign(length=gt["offset"] - gt["onset"] + 1)[["video", "type", "length"]]


def gaps_frames(truth: pd.DataFrame) -> np.ndarray:
    """Free frames between consecutive expressions of one video (onsets in order, any types):
    next onset - previous offset - 1; negative where they overlap."""
    gt = normalise(truth, "ground truth").sort_values(["video", "onset", "offset"], kind="stable")
    out = []
    for _, g in gt.groupby("video", sort=True):
        out.append(g["onset"].to_numpy()[1:] - g["offset"].to_numpy()[:-1] - 1)
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def counts_per_video(truth: pd.DataFrame, videos) -> dict[str, list[int]]:
    """Per type: how many of `videos` hold 0, 1, 2, ... expressions of it (index = count).

    `videos` is every video of the dataset, also those without any ground truth (a ground-truth
    file names only the videos it has rows for)."""
    gt = normalise(truth, "ground truth")
    videos = sorted(set(map(str, videos)) | set(gt["video"]))
    out = {}
    for kind in TYPES:
        per = gt[gt["type"] == kind].groupby("video").size().reindex(videos, fill_value=0)
        out[kind] = np.bincount(per.to_numpy(), minlength=1).astype(int).tolist()
    return out


def last_frames(*tables: pd.DataFrame) -> pd.Series:
    """Per video, the last frame any of the tables (ground truth, predictions) names: a lower
    bound of the video's length where the lengths themselves are not published."""
    frames = pd.concat([normalise(t, "intervals")[["video", "offset"]] for t in tables])
    return frames.groupby("video")["offset"].max()


def statistics(
    truth: pd.DataFrame, videos, fps: float, video_frames: pd.Series, n_quantiles: int
) -> dict:
    """The config numbers of a realistic preset for this ground truth, rounded as config.yaml
    writes them: per type `per_video_weights` and `duration_quantiles_s`, plus
    `gap_quantiles_s` and `source_video_s` (quantiles of `video_frames` / fps)."""
    lengths = durations_frames(truth)
    counts = counts_per_video(truth, videos)
    out: dict = {}
    for kind in TYPES:
        secs = lengths.loc[lengths["type"] == kind, "length"] / float(fps)
        out[kind] = {
            "per_video_weights": counts[kind],
            "duration_quantiles_s": _round(quantiles(secs, n_quantiles)),
        }
    out["gap_quantiles_s"] = _round(quantiles(gaps_frames(truth) / float(fps), n_quantiles))
    out["source_video_s"] = _round(
        quantiles(video_frames.to_numpy(np.float64) / float(fps), n_quantiles), 1
    )
    return out


def _round(values, digits: int = 3) -> list[float]:
    return [round(float(v), digits) for v in values]
