"""Step 2: label-1 neighbours within 2K fuse (in chains); label-0 proposals stay."""

import numpy as np
import pytest

from tsmsnet.spotting.merge import merge


def test_chains_fuse_with_max_score():
    got = merge([[0, 10, 0.2], [15, 25, 0.9], [30, 40, 0.5]], [1, 1, 1], K=3)
    np.testing.assert_array_equal(got, [[0, 40, 0.9]])


def test_label_zero_is_kept_and_separates_its_neighbours():
    intervals = [[0, 10, 0.2], [12, 20, 0.3], [22, 30, 0.4], [33, 40, 0.5]]
    got = merge(intervals, [1, 0, 1, 1], K=3)
    np.testing.assert_array_equal(got, [[0, 10, 0.2], [12, 20, 0.3], [22, 40, 0.5]])


@pytest.mark.parametrize(("start", "fused"), [(16, True), (17, False), (4, True), (3, False)])
def test_gap_exactly_2k_fuses_and_2k_plus_1_does_not(start, fused):
    # |end_i - start_{i+1}| with end_i = 10 and K = 3: 16 and 4 are 6 = 2K away, 17 and 3 are 7.
    got = merge([[0, 10, 1.0], [start, start + 10, 0.5]], [1, 1], K=3)
    assert len(got) == (1 if fused else 2)
    if fused:
        np.testing.assert_array_equal(got, [[0, start + 10, 1.0]])


def test_output_sorted_by_onset_and_empty_input():
    got = merge([[50, 60, 0.1], [0, 10, 0.2]], [0, 0], K=3)
    np.testing.assert_array_equal(got, [[0, 10, 0.2], [50, 60, 0.1]])
    assert merge(np.empty((0, 3)), [], K=3).shape == (0, 3)


def test_label_count_must_match():
    with pytest.raises(ValueError, match="labels"):
        merge([[0, 10, 1.0]], [1, 0], K=3)
