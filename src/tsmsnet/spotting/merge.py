"""Step 2: fuse neighbouring proposals that stage 2 classified as one expression."""

from __future__ import annotations

import numpy as np


def merge(intervals, labels, K: int) -> np.ndarray:
    """(n, 3) [onset, offset, score], sorted by onset, after method.md step 2.

    Walking in time order, two neighbours both labelled 1 with |end_i - start_{i+1}| <= 2K fuse
    into one interval (label 1, score = max of the two); repeated until nothing changes.
    Label-0 proposals are kept as they are (stage 2 decides fusion, never deletion) and, being
    neighbours too, they separate the label-1 proposals on either side of them.
    """
    items = np.asarray(intervals, dtype=np.float64).reshape(-1, 3)
    flags = np.asarray(labels).reshape(-1).astype(bool)
    if len(flags) != len(items):
        raise ValueError(f"{len(items)} intervals but {len(flags)} labels")
    order = np.lexsort((items[:, 1], items[:, 0]))
    rows = [list(r) for r in items[order]]
    keep = list(flags[order])
    changed = True
    while changed:
        changed = False
        i = 0
        while i < len(rows) - 1:
            a, b = rows[i], rows[i + 1]
            if keep[i] and keep[i + 1] and abs(a[1] - b[0]) <= 2 * K:
                rows[i] = [min(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2])]
                del rows[i + 1], keep[i + 1]
                changed = True
            else:
                i += 1
    return np.array(rows, dtype=np.float64).reshape(-1, 3)
