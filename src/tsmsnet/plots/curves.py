"""Step-1 score curves of videos, with ground-truth and predicted intervals under each curve.

One panel per video (a fold's held-out videos, or one new video per spotting config): the
curve with its peak threshold and the ground truth of the spotted type shaded, and below it one
lane per interval source (ground truth, step 1, step 2, classical) with the intervals as bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from tsmsnet.plots.common import COLORS

Intervals = list[tuple[int, int]]
TRUTH_LANE = "truth"
# Inches: figure width, curve panel height, height per interval lane.
WIDTH, CURVE_HEIGHT, LANE_HEIGHT = 12.0, 2.2, 0.28


@dataclass
class Track:
    """What one panel shows; frames are the dataset's own frame numbers."""

    title: str
    kind: str  # the spotted expression type (macro or micro)
    frames: np.ndarray
    scores: np.ndarray
    threshold: float | None = None
    truth: Intervals | None = None  # None: no ground truth (no truth lane)
    other_truth: Intervals = field(default_factory=list)
    lanes: dict[str, Intervals] = field(default_factory=dict)


def intervals_of(df: pd.DataFrame | None, video: str, kind: str | None = None) -> Intervals:
    """(onset, offset) rows of `df` for one video (and one type), sorted by onset."""
    if df is None or df.empty:
        return []
    rows = df[df["video"].astype(str) == str(video)]
    if kind is not None:
        rows = rows[rows["type"] == kind]
    return sorted((int(a), int(b)) for a, b in zip(rows["onset"], rows["offset"], strict=True))


def video_tracks(
    scores: pd.DataFrame,
    videos: Sequence[str],
    kind: str,
    P: float | None,
    predictions: Mapping[str, pd.DataFrame],
    truth: pd.DataFrame | None = None,
) -> list[Track]:
    """One Track per video from a scores table (video, frame, score), prediction tables per
    source (video, type, onset, offset) and the ground truth; P draws the peak threshold."""
    from tsmsnet.spotting.proposals import peak_threshold

    tracks = []
    for video in videos:
        curve = scores[scores["video"].astype(str) == str(video)].sort_values("frame")
        values = curve["score"].to_numpy(dtype=np.float64)
        threshold = peak_threshold(values, P) if P is not None and len(values) else None
        other = None if truth is None else truth[truth["type"] != kind]
        known = None if truth is None else intervals_of(truth, video, kind)
        lanes = {name: intervals_of(df, video, kind) for name, df in predictions.items()}
        tracks.append(
            Track(
                title=str(video),
                kind=kind,
                frames=curve["frame"].to_numpy(dtype=np.int64),
                scores=values,
                threshold=threshold,
                truth=known,
                other_truth=intervals_of(other, video),
                lanes=lanes,
            )
        )
    return tracks


def _frame_range(track: Track) -> tuple[float, float]:
    sources = (track.truth or [], track.other_truth, *track.lanes.values())
    ends = [iv for ivs in sources for iv in ivs]
    lo = [track.frames.min()] if len(track.frames) else []
    hi = [track.frames.max()] if len(track.frames) else []
    lo += [a for a, _ in ends]
    hi += [b for _, b in ends]
    if not lo:
        return 0.0, 1.0
    return float(min(lo)) - 0.5, float(max(hi)) + 0.5


def _draw_curve(ax, track: Track) -> None:
    for a, b in track.other_truth:
        ax.axvspan(a - 0.5, b + 0.5, color=COLORS["other truth"], alpha=0.35, lw=0)
    for a, b in track.truth or []:
        ax.axvspan(a - 0.5, b + 0.5, color=COLORS["truth"], alpha=0.25, lw=0)
    if len(track.frames):
        ax.plot(track.frames, track.scores, color=COLORS["score"], lw=1.0, label="step-1 score")
    else:
        ax.text(0.5, 0.5, "no score curve", transform=ax.transAxes, ha="center", va="center")
    if track.threshold is not None:
        ax.axhline(
            track.threshold, color=COLORS["threshold"], lw=0.8, ls="--", label="peak threshold"
        )
    ax.set_title(track.title, loc="left", fontsize=10)
    ax.set_ylabel("score")
    handles = ax.get_legend_handles_labels()[0]
    if track.truth:
        handles.append(
            Patch(color=COLORS["truth"], alpha=0.25, label=f"ground truth ({track.kind})")
        )
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=7, frameon=False)


def _draw_lanes(ax, track: Track) -> None:
    lanes = {**({TRUTH_LANE: track.truth} if track.truth is not None else {}), **track.lanes}
    names = list(lanes)
    for row, name in enumerate(names):
        bars = [(a - 0.5, b - a + 1) for a, b in lanes[name]]
        if bars:
            ax.broken_barh(bars, (row - 0.35, 0.7), color=COLORS.get(name, "#444444"))
    ax.set_yticks(range(len(names)), labels=names, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlabel("frame")
    ax.grid(axis="x", lw=0.3, alpha=0.5)


def score_figure(tracks: Sequence[Track], title: str) -> Figure:
    """Panels for `tracks` (curve above, interval lanes below each), one figure."""
    n_lanes = [(t.truth is not None) + len(t.lanes) for t in tracks] or [1]
    ratios: list[float] = []
    for lanes in n_lanes:
        ratios += [CURVE_HEIGHT, LANE_HEIGHT * lanes + 0.5]
    height = sum(ratios) + 0.8
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    fig.suptitle(title, fontsize=11)
    if not tracks:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no videos", transform=ax.transAxes, ha="center", va="center")
        ax.set_axis_off()
        return fig
    grid = fig.add_gridspec(len(ratios), 1, height_ratios=ratios)
    for i, track in enumerate(tracks):
        curve_ax = fig.add_subplot(grid[2 * i])
        lane_ax = fig.add_subplot(grid[2 * i + 1], sharex=curve_ax)
        _draw_curve(curve_ax, track)
        _draw_lanes(lane_ax, track)
        curve_ax.set_xlim(*_frame_range(track))
        curve_ax.tick_params(labelbottom=False)
    return fig
