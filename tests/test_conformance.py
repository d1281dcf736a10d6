"""The MEGC 2020 baseline predictions must score exactly the published numbers (protocol.md)."""

import pandas as pd
import pytest

from tsmsnet.evaluation.megc import evaluate

PUBLISHED = {
    "casme2": {
        "macro": (1523, 109, 300, 0.119583),
        "micro": (5035, 21, 57, 0.008248),
        "overall": (6558, 130, 357, 0.037599),
    },
    "samm_lv": {
        "macro": (356, 22, 343, 0.062947),
        "micro": (1436, 29, 159, 0.036364),
        "overall": (1792, 51, 502, 0.044464),
    },
}


@pytest.mark.parametrize("dataset", sorted(PUBLISHED))
def test_baseline_scores_match_published_numbers(shared_dir, dataset):
    folder = shared_dir / "conformance" / "megc2020-baseline"
    truth = pd.read_csv(folder / f"{dataset}_ground_truth.csv", dtype={"video": str})
    pred = pd.read_csv(folder / f"{dataset}_mdmd_predictions.csv", dtype={"video": str})
    result = evaluate(truth, pred)
    for kind, (n, a, m, f1) in PUBLISHED[dataset].items():
        got = result[kind]
        assert (got["N"], got["TP"], got["M"], round(got["F1"], 6)) == (n, a, m, f1), kind
