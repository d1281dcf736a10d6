"""tsmsnet: two-stage macro- and micro-expression spotting in long videos (TSMSNet, MEGC 2021)."""

__version__ = "0.1.0"
