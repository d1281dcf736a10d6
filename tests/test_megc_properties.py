"""Properties of the MEGC scoring that must hold for any input (hypothesis)."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tsmsnet.evaluation.megc import evaluate

COLUMNS = ["video", "type", "onset", "offset"]


@st.composite
def intervals(draw, max_size=8):
    rows = []
    for _ in range(draw(st.integers(0, max_size))):
        on = draw(st.integers(0, 60))
        rows.append(
            (
                draw(st.sampled_from(["a", "b"])),
                draw(st.sampled_from(["macro", "micro"])),
                on,
                on + draw(st.integers(0, 20)),
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


@st.composite
def separated_ground_truth(draw):
    """Per video and type, intervals that neither overlap nor touch (a gap of >= 1 frame)."""
    rows = []
    for video in ("a", "b"):
        for kind in ("macro", "micro"):
            start = draw(st.integers(0, 5))
            for _ in range(draw(st.integers(0, 4))):
                length = draw(st.integers(1, 15))
                rows.append((video, kind, start, start + length - 1))
                start += length + draw(st.integers(1, 10))
    return pd.DataFrame(rows, columns=COLUMNS)


def counts(result):
    return {k: (v["N"], v["TP"], v["M"]) for k, v in result.items()}


@settings(max_examples=60, deadline=None)
@given(intervals(), intervals(), st.randoms())
def test_row_order_does_not_matter(truth, pred, rnd):
    shuffled_truth = truth.sample(frac=1, random_state=rnd.randint(0, 999))
    shuffled_pred = pred.sample(frac=1, random_state=rnd.randint(0, 999))
    assert evaluate(truth, pred) == evaluate(shuffled_truth, shuffled_pred)


@settings(max_examples=60, deadline=None)
@given(intervals(), intervals(max_size=6).filter(lambda d: len(d) > 0), st.data())
def test_duplicate_prediction_adds_one_to_n_and_nothing_to_tp(truth, pred, data):
    row = data.draw(st.integers(0, len(pred) - 1))
    before = evaluate(truth, pred)
    after = evaluate(truth, pd.concat([pred, pred.iloc[[row]]], ignore_index=True))
    kind = pred.iloc[row]["type"]
    assert after[kind]["N"] == before[kind]["N"] + 1
    assert after["overall"]["N"] == before["overall"]["N"] + 1
    for key in ("macro", "micro", "overall"):
        assert after[key]["TP"] == before[key]["TP"]


@settings(max_examples=60, deadline=None)
@given(intervals(), intervals())
def test_scores_are_bounded(truth, pred):
    for block in evaluate(truth, pred).values():
        assert 0 <= block["TP"] <= block["M"]
        assert block["FN"] >= 0
        assert 0.0 <= block["recall"] <= 1.0
        # Precision and F1 stay <= 1 only when no prediction finds two ground truths (below).
        assert block["F1"] >= 0.0


@settings(max_examples=60, deadline=None)
@given(separated_ground_truth(), intervals())
def test_tp_at_most_min_n_m_when_ground_truths_are_separated(truth, pred):
    # A prediction reaches IoU >= 0.5 with two ground truths only if they overlap or touch.
    for block in evaluate(truth, pred).values():
        assert block["TP"] <= min(block["N"], block["M"])
        assert block["FP"] >= 0
        assert 0.0 <= block["precision"] <= 1.0
        assert 0.0 <= block["F1"] <= 1.0


@settings(max_examples=60, deadline=None)
@given(intervals(), intervals(), st.data())
def test_prediction_equal_to_a_ground_truth_finds_it(truth, pred, data):
    if len(truth) == 0:
        return
    row = data.draw(st.integers(0, len(truth) - 1))
    target = truth.iloc[[row]]
    after = evaluate(target, pd.concat([pred, target], ignore_index=True))
    assert after[target.iloc[0]["type"]]["TP"] == 1
    everything = evaluate(truth, pd.concat([pred, truth], ignore_index=True))
    assert everything["overall"]["TP"] == len(truth)
