"""Leave-one-subject-out folds: each subject is tested by models that never saw it."""

from __future__ import annotations

import pandas as pd

from tsmsnet.errors import InputError


def loso_folds(videos_df: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """{held-out subject: (training videos, test videos)}, subjects in sorted order.

    Both parts are row subsets of `videos_df` (index reset); the training part never holds a
    row of the held-out subject, which is what keeps test data out of training.
    """
    if "subject" not in videos_df.columns:
        raise InputError("videos table has no 'subject' column; LOSO folds need one")
    subjects = videos_df["subject"].astype(str)
    unique = sorted(subjects.unique())
    if len(unique) < 2:
        raise InputError(
            f"LOSO needs at least two subjects; the videos table has {len(unique)} "
            f"({', '.join(unique) or 'none'}). Add videos of another subject."
        )
    folds = {}
    for subject in unique:
        held = subjects == subject
        folds[subject] = (
            videos_df[~held].reset_index(drop=True),
            videos_df[held].reset_index(drop=True),
        )
    return folds
