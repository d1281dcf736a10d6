"""Scoring of spotted intervals by the MEGC protocol, and the logs that report it."""

from tsmsnet.evaluation.megc import (
    VideoMatch,
    check_columns,
    evaluate,
    iou,
    match_video,
    per_video,
    scores,
    summarize,
)

__all__ = [
    "VideoMatch",
    "check_columns",
    "evaluate",
    "iou",
    "match_video",
    "per_video",
    "scores",
    "summarize",
]
