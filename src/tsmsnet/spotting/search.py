"""Per-fold parameter search: a grid of candidates, each scored by the MEGC protocol's F1
pooled over the fold's training videos. The caller hands in training videos only; nothing
here knows about folds, so the held-out subject cannot reach a choice."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tsmsnet.errors import ConfigError
from tsmsnet.evaluation.megc import match_video, scores


def grid(space: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of `space` (name -> values), in key order then value order."""
    empty = [name for name, values in space.items() if len(values) == 0]
    if empty:
        raise ConfigError(f"search space: no values for {', '.join(empty)}")
    names = list(space)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*space.values())]


def pooled_scores(truth: Mapping[str, np.ndarray], predictions: Mapping[str, np.ndarray]) -> dict:
    """MEGC counts and F1 pooled over videos; truth / predictions: video -> (m, 2+) [on, off]."""
    n = tp = m = 0
    for video in sorted(set(truth) | set(predictions)):
        gt = np.asarray(truth.get(video, np.empty((0, 2))))[:, :2]
        pred = np.asarray(predictions.get(video, np.empty((0, 2))))[:, :2]
        match = match_video(gt, pred)
        n, tp, m = n + match.n, tp + match.tp, m + match.m
    return scores(n, tp, m)


@dataclass(frozen=True)
class SearchResult:
    """The chosen candidate, its training scores, and every candidate's F1 (grid order)."""

    best: dict
    scores: dict
    f1: list[float]


def grid_search(candidates: Sequence[dict], evaluate: Callable[[dict], dict]) -> SearchResult:
    """The candidate with the highest F1 under `evaluate` (a scores dict per candidate); ties
    go to the earliest in `candidates`, so the choice is deterministic."""
    if not candidates:
        raise ConfigError("search space is empty")
    best, best_scores, f1 = None, None, []
    for candidate in candidates:
        result = evaluate(candidate)
        f1.append(float(result["F1"]))
        if best_scores is None or result["F1"] > best_scores["F1"]:
            best, best_scores = candidate, result
    return SearchResult(dict(best), best_scores, f1)
