"""Findability: the fixed-window condition K+1 <= g <= 4K+2 against every window placement,
and the shares of the real CAS(ME)^2 and SAMM-LV ground truth against an independent count."""

import pandas as pd
import pytest

from tsmsnet.cli import main
from tsmsnet.config import spot_config
from tsmsnet.evaluation.findable import (
    best_window_iou,
    fixed_window,
    fixed_window_table,
    predictions_table,
    reach,
    rule_table,
)
from tsmsnet.evaluation.megc import iou

DATASETS = {"casme2": ("cas_micro", "cas_macro"), "samm_lv": ("samm_micro", "samm_macro")}


def brute_best_iou(onset: int, offset: int, K: int) -> float:
    """Highest IoU of any window [p-K, p+K] that overlaps [onset, offset], one by one."""
    return max(iou(onset, offset, p - K, p + K) for p in range(onset - K, offset + K + 1))


@pytest.mark.parametrize("K", [0, 1, 2, 5, 12, 31])
def test_condition_matches_every_placement(K):
    low, high = reach(K)
    gt = pd.DataFrame({"video": "v", "type": "micro", "onset": 100, "offset": 0}, index=[0])
    for g in range(1, 5 * K + 8):
        best = brute_best_iou(100, 100 + g - 1, K)
        assert (best >= 0.5) == (low <= g <= high), (K, g, best)
        assert best_window_iou(g, K) == pytest.approx(best)
        gt["offset"] = 100 + g - 1
        on, off = fixed_window(K)(gt)[0]
        assert iou(100, 100 + g - 1, int(on), int(off)) == pytest.approx(best)


def brute_shares(truth: pd.DataFrame, K: dict) -> dict:
    """Per type, ground truths some 2K+1 window matches at IoU >= 0.5, trying every centre."""
    out = {}
    for kind, k in K.items():
        part = truth[truth["type"] == kind]
        found = sum(
            brute_best_iou(int(a), int(b), k) >= 0.5
            for a, b in zip(part.onset, part.offset, strict=True)
        )
        out[kind] = (found, len(part))
    return out


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_real_ground_truth_shares(shared_dir, cfg, dataset):
    path = shared_dir / "conformance" / "megc2020-baseline" / f"{dataset}_ground_truth.csv"
    truth = pd.read_csv(path, dtype={"video": str})
    K = {spot_config(cfg, n).type: spot_config(cfg, n).K for n in DATASETS[dataset]}
    table = fixed_window_table(truth, K).set_index("type")
    for kind, (found, m) in brute_shares(truth, K).items():
        assert (table.loc[kind, "findable"], table.loc[kind, "M"]) == (found, m)
        assert table.loc[kind, "share"] == pytest.approx(found / m)
    assert (table["share"] < 1).all()  # the point of the issue: some are out of any window's reach


def test_predictions_share_is_the_published_recall(shared_dir):
    """MDMD's predictions find A = 22 and 29 of SAMM-LV's ground truths (protocol.md)."""
    folder = shared_dir / "conformance" / "megc2020-baseline"
    truth = pd.read_csv(folder / "samm_lv_ground_truth.csv", dtype={"video": str})
    pred = pd.read_csv(folder / "samm_lv_mdmd_predictions.csv", dtype={"video": str})
    table = predictions_table(truth, pred).set_index("type")
    assert table.loc["macro", ["findable", "M"]].tolist() == [22, 343]
    assert table.loc["micro", ["findable", "M"]].tolist() == [29, 159]
    # Beyond a window: found ground truths that K+1 <= g <= 4K+2 excludes, counted one by one.
    K = {"macro": 227, "micro": 42}
    table = predictions_table(truth, pred, K=K).set_index("type")
    found = per_gt_found(truth, pred)
    for kind, k in K.items():
        g = truth["offset"] - truth["onset"] + 1
        outside = (truth["type"] == kind) & ((g < k + 1) | (g > 4 * k + 2))
        assert table.loc[kind, "beyond_window"] == int((found & outside).sum())


def per_gt_found(truth: pd.DataFrame, pred: pd.DataFrame) -> pd.Series:
    """Whether any same-video, same-type prediction reaches IoU 0.5 with each ground truth."""
    return pd.Series(
        [
            any(
                iou(row.onset, row.offset, p.onset, p.offset) >= 0.5
                for p in pred[
                    (pred["video"] == row.video) & (pred["type"] == row.type)
                ].itertuples()
            )
            for row in truth.itertuples()
        ]
    )


def test_predictions_beyond_window(tmp_path, capsys):
    """A short micro-expression (5 frames < K+1 = 13) found by an exact interval counts beyond
    the window; one a window can reach does not; files given together are read as one set."""
    truth = pd.DataFrame(
        {
            "video": "v",
            "type": ["micro", "micro", "macro"],
            "onset": [0, 50, 0],
            "offset": [4, 69, 40],
        }
    )
    table = predictions_table(truth, truth.iloc[[0, 1]], K={"micro": 12, "macro": 31})
    table = table.set_index("type")
    assert table.loc["micro", ["findable", "M", "beyond_window"]].tolist() == [2, 2, 1]
    assert table.loc["macro", ["findable", "M", "beyond_window"]].tolist() == [0, 1, 0]
    gt, first, second = tmp_path / "gt.csv", tmp_path / "a.csv", tmp_path / "b.csv"
    truth.to_csv(gt, index=False)
    truth.iloc[[0]].to_csv(first, index=False)
    truth.iloc[[2]].to_csv(second, index=False)
    args = ["findable", str(gt), "--K", "micro=12", "macro=31", "--predictions"]
    assert main([*args, str(first), str(second)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[-1] == "beyond_window"
    assert out[3].split()[:6] == ["predictions", "macro", "31", "1", "1", "1.0"]
    assert out[3].split()[-1] == "0"
    assert out[4].split()[:6] == ["predictions", "micro", "12", "2", "1", "0.5"]
    assert out[4].split()[-1] == "1"
    pd.DataFrame({"video": ["v"], "type": ["micro"], "onset": [3], "offset": ["x"]}).to_csv(
        second, index=False
    )
    assert main([*args, str(first), str(second)]) == 2
    err = capsys.readouterr().err
    assert str(second) in err and "row(s) [0]" in err


def test_any_rule():
    truth = pd.DataFrame(
        {
            "video": "v",
            "type": ["micro", "micro", "macro"],
            "onset": [0, 50, 0],
            "offset": [9, 52, 99],
        }
    )
    exact = lambda gt: gt[["onset", "offset"]].to_numpy()  # noqa: E731
    table = rule_table(truth, {"micro": exact, "macro": fixed_window(10)}).set_index("type")
    assert table.loc["micro", ["findable", "M"]].tolist() == [2, 2]
    assert table.loc["macro", ["findable", "M"]].tolist() == [0, 1]  # 100 frames > 4*10+2


def test_cli_table_and_errors(tmp_path, capsys):
    path = tmp_path / "gt.csv"
    pd.DataFrame(
        {
            "video": "v",
            "type": ["micro", "micro", "macro"],
            "onset": [0, 50, 0],
            "offset": [12, 52, 40],
        }
    ).to_csv(path, index=False)
    assert main(["findable", str(path), "--K", "micro=12", "macro=31"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == [
        "rule",
        "type",
        "K",
        "M",
        "findable",
        "share",
        "min_frames",
        "max_frames",
    ]
    assert out[1].split()[-6:] == ["31", "1", "1", "1.0", "32", "126"]
    assert out[2].split()[-6:] == ["12", "2", "1", "0.5", "13", "50"]
    assert main(["findable", str(path), "--configs", "cas_micro", "cas_macro"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == out[1:]
    assert main(["findable", str(path), "--K", "micro=12"]) == 2
    assert "no K was given" in capsys.readouterr().err
    assert main(["findable", str(path), "--K", "micro=twelve"]) == 2
    assert "TYPE=FRAMES" in capsys.readouterr().err
