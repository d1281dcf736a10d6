"""Step 1: peaks of a score curve -> [p-K, p+K] proposals, clipped, at least 2K apart."""

import warnings

import numpy as np
import pytest

from tsmsnet.spotting.proposals import find_proposals, peak_threshold, to_frame_numbers


def curve(n, peaks):
    scores = np.zeros(n)
    for index, value in peaks.items():
        scores[index] = value
    return scores


def test_known_curve_gives_exact_clipped_proposals():
    scores = curve(100, {2: 1.0, 30: 0.2, 50: 0.8, 53: 0.9, 97: 1.0})
    # threshold = 0.039 + 0.5 * (1 - 0.039); 30 is below it, 50 loses to 53 (closer than 2K).
    assert peak_threshold(scores, 0.5) == pytest.approx(0.5195)
    got = find_proposals(scores, K=5, P=0.5, n_frames=100)
    np.testing.assert_array_equal(got, [[0, 7, 1.0], [48, 58, 0.9], [92, 99, 1.0]])


def test_peaks_exactly_2k_apart_are_both_kept():
    scores = curve(60, {20: 1.0, 26: 0.9})
    assert find_proposals(scores, K=3, P=0.5, n_frames=60)[:, 0].tolist() == [17, 23]
    closer = curve(60, {20: 1.0, 25: 0.9})
    assert find_proposals(closer, K=3, P=0.5, n_frames=60)[:, 0].tolist() == [17]


def test_p_sets_the_threshold_between_mean_and_max():
    scores = curve(40, {10: 1.0, 30: 0.6})
    assert len(find_proposals(scores, K=2, P=0.5, n_frames=40)) == 2
    assert len(find_proposals(scores, K=2, P=0.7, n_frames=40)) == 1


@pytest.mark.parametrize("scores", [np.array([]), np.ones(50), np.array([0.3])])
def test_empty_or_flat_curves_give_nothing_quietly(scores):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = find_proposals(scores, K=4, P=0.5, n_frames=60)
    assert got.shape == (0, 3)


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="K must be"):
        find_proposals(np.ones(5), K=0, P=0.5, n_frames=10)
    with pytest.raises(ValueError, match="non-finite"):
        find_proposals(np.array([0.0, np.nan, 1.0]), K=1, P=0.5, n_frames=10)


def test_to_frame_numbers_shifts_bounds_only():
    proposals = np.array([[0, 7, 0.5], [48, 58, 0.9]])
    got = to_frame_numbers(proposals, first_frame=100)
    np.testing.assert_array_equal(got, [[100, 107, 0.5], [148, 158, 0.9]])
    assert proposals[0, 0] == 0  # input untouched
    assert to_frame_numbers(np.empty((0, 3)), 5).shape == (0, 3)
