"""The two networks of TSMSNet: stage-1 apex scoring and stage-2 interval classification."""

from tsmsnet.models.apex import ApexNet, ApexNetConfig
from tsmsnet.models.interval import IntervalNet, IntervalNetConfig, normalise_clips

__all__ = [
    "ApexNet",
    "ApexNetConfig",
    "IntervalNet",
    "IntervalNetConfig",
    "normalise_clips",
]
