"""Training labels of both stages on hand-made intervals, and class balancing."""

import numpy as np

from tsmsnet.training.samples import apex_labels, balanced_indices, window_labels, window_starts


def test_apex_labels_overlap_inclusive():
    # Sample t covers frames [t, t+2]; the interval is frames 5..6.
    y = apex_labels(10, 2, [(5, 6)])
    assert y.dtype == np.float32
    assert y.tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]


def test_apex_labels_several_intervals_and_edges():
    y = apex_labels(8, 1, [(0, 0), (7, 9)])
    # t=0 covers 0..1 (hits 0); t=6 covers 6..7 (hits 7); t=7 covers 7..8.
    assert y.tolist() == [1, 0, 0, 0, 0, 0, 1, 1]
    assert apex_labels(4, 3, []).tolist() == [0, 0, 0, 0]
    assert apex_labels(0, 3, [(1, 2)]).shape == (0,)


def test_window_starts():
    assert window_starts(10, 4).tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert window_starts(4, 4).tolist() == [0]
    assert window_starts(3, 4).tolist() == []


def test_window_cover_edge_exactly_half():
    # stride 1, L 5: window j spans frames [j, j+5], 6 frames; half is 3 frames.
    y = window_labels(8, 5, 1, [(0, 2)], 0.5)  # covers 3 of window 0's frames
    assert y.dtype == np.int64
    assert y.tolist() == [1, 0, 0, 0]
    y = window_labels(8, 5, 1, [(0, 1)], 0.5)  # 2 of 6 frames
    assert y.tolist() == [0, 0, 0, 0]


def test_window_cover_stage2_stride():
    # stride 4, L 6: window j spans frames [4j, 4j+24], 25 frames; 0.5 needs 12.5 -> 13.
    assert window_labels(6, 6, 4, [(0, 12)], 0.5).tolist() == [1]  # 13 frames
    assert window_labels(6, 6, 4, [(0, 11)], 0.5).tolist() == [0]  # 12 frames
    assert window_labels(7, 6, 4, [(4, 16)], 0.5).tolist() == [1, 1]  # 13 of both windows


def test_window_needs_one_interval_not_a_union():
    # Two intervals of 2 frames each cover 4 of 6 frames together, neither alone reaches 3.
    assert window_labels(5, 5, 1, [(0, 1), (3, 4)], 0.5).tolist() == [0]
    assert window_labels(3, 5, 1, [], 0.5).shape == (0,)


def test_balanced_indices():
    labels = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0])
    idx = balanced_indices(labels, np.random.default_rng(1))
    assert len(idx) == 6 and len(set(idx.tolist())) == 6
    assert {1, 4, 9} <= set(idx.tolist())
    assert int(labels[idx].sum()) == 3
    again = balanced_indices(labels, np.random.default_rng(1))
    assert idx.tolist() == again.tolist()


def test_balanced_indices_with_few_negatives_takes_all():
    labels = np.array([1, 1, 1, 0, 1])
    assert balanced_indices(labels, np.random.default_rng(0)).tolist() == [0, 1, 2, 3, 4]
    assert balanced_indices(np.zeros(4), np.random.default_rng(0)).tolist() == []
