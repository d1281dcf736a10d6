"""Emotion labels of synthetic expressions, derived from the motions they already draw.

Each expression moves the face by one or two action-unit-like kinds (motion.EXPRESSION_KINDS).
Its label is decided by the first of its kinds in config `synthetic.emotions.decides` (a mouth
motion before a brow motion, as FACS reads happiness from AU12 whatever the brows do), written
as the layout's workbook spells it (`synthetic.emotions.labels.<layout>`). No random draw is
added, so frames, features, models and spotting scores stay those of unlabelled generation.
"""

from __future__ import annotations

import pandas as pd

from tsmsnet.errors import ConfigError, InputError

# How a row of the generated ground truth lists its kinds ("brow_raise+smile").
KIND_SEPARATOR = "+"


def emotion_label(kinds, emotions_cfg: dict, layout: str) -> str:
    """The raw label of an expression moving `kinds` (a tuple or "a+b" text) in `layout`."""
    if isinstance(kinds, str):
        kinds = tuple(kinds.split(KIND_SEPARATOR))
    labels = layout_labels(emotions_cfg, layout)
    for kind in emotions_cfg["decides"]:
        if kind in kinds:
            return labels[kind]
    raise ConfigError(
        f"synthetic.emotions.decides lists none of the kinds {list(kinds)}: add every kind of "
        "tsmsnet.synthetic.motion.EXPRESSION_KINDS to it"
    )


def layout_labels(emotions_cfg: dict, layout: str) -> dict[str, str]:
    """kind -> raw label of `layout` (synthetic.emotions.labels), every decisive kind checked."""
    from tsmsnet.synthetic.motion import EXPRESSION_KINDS
    from tsmsnet.synthetic.plan import layout_name

    name = layout_name(layout)
    labels = emotions_cfg["labels"].get(name)
    if labels is None:
        raise ConfigError(f"synthetic.emotions.labels has no table for the {name} layout")
    unknown = sorted(set(emotions_cfg["decides"]) - set(EXPRESSION_KINDS))
    missing = sorted(set(EXPRESSION_KINDS) - set(labels))
    if unknown or missing:
        raise ConfigError(
            f"synthetic.emotions: decides names unknown kinds {unknown} or labels.{name} lacks "
            f"{missing}; the kinds are {', '.join(EXPRESSION_KINDS)}"
        )
    return labels


def with_labels(rows: pd.DataFrame, emotions_cfg: dict, layout: str) -> pd.DataFrame:
    """Generated ground-truth rows (with `kinds`) plus `emotion`, their raw label."""
    if "kinds" not in rows:
        raise InputError(
            "the generated ground truth has no kinds column (written by an older tsmsnet): "
            "rerun synthetic_subject (snakemake --forcerun synthetic_subject)"
        )
    labels = [emotion_label(k, emotions_cfg, layout) for k in rows["kinds"]]
    return rows.assign(emotion=pd.Series(labels, index=rows.index, dtype=object))
