"""The two networks of TSMSNet: stage-1 apex scoring and stage-2 interval classification."""

from tsmsnet.models.apex import ApexNet, ApexNetConfig, scale_inputs
from tsmsnet.models.interval import IntervalNet, IntervalNetConfig
from tsmsnet.models.layers import minmax_channels

__all__ = [
    "ApexNet",
    "ApexNetConfig",
    "IntervalNet",
    "IntervalNetConfig",
    "minmax_channels",
    "scale_inputs",
]
