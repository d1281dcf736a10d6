"""write_logs: metrics files agree with evaluate(), tables per fold/config/video, byte-stable."""

import json

import pandas as pd
import pytest

from tsmsnet.errors import InputError
from tsmsnet.evaluation.logs import LogPaths, write_logs
from tsmsnet.evaluation.megc import evaluate

FILES = [
    "metrics.json",
    "metrics_all.json",
    "per_config.csv",
    "per_fold.csv",
    "per_video.csv",
    "summary.txt",
]


@pytest.fixture
def truth():
    return pd.DataFrame(
        [
            ("s1", "s1_a", "macro", 0, 5, 9),
            ("s1", "s1_a", "micro", 40, 42, 45),
            ("s2", "s2_a", "macro", 10, 15, 20),
            ("s3", "s3_a", "micro", 0, 2, 4),  # fold s3 has no predictions at all
        ],
        columns=["subject", "video", "type", "onset", "apex", "offset"],
    )


def predictions(rows):
    return pd.DataFrame(
        rows, columns=["video", "type", "onset", "offset", "score", "config", "fold"]
    )


@pytest.fixture
def results():
    step2 = predictions(
        [
            ("s1_a", "macro", 0, 9, 0.9, "c_macro", "s1"),
            ("s1_a", "macro", 1, 9, 0.8, "c_macro", "s1"),
            ("s1_a", "micro", 40, 45, 0.7, "c_micro", "s1"),
            ("s2_a", "macro", 60, 70, 0.5, "c_macro", "s2"),
        ]
    )
    step1 = predictions([("s2_a", "macro", 10, 20, 0.9, "c_macro", "s2")])
    return {"step2": step2, "step1": step1}


def read_all(folder):
    return {name: (folder / name).read_bytes() for name in FILES}


def test_metrics_match_evaluate(tmp_path, truth, results):
    write_logs(LogPaths.in_folder(tmp_path), truth, results)
    assert sorted(p.name for p in tmp_path.iterdir()) == FILES
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics == evaluate(truth, results["step2"])
    assert metrics["macro"]["N"] == 3 and metrics["macro"]["TP"] == 1
    every = json.loads((tmp_path / "metrics_all.json").read_text())
    assert list(every) == ["step1", "step2"]
    assert every["step1"] == evaluate(truth, results["step1"])


def test_tables(tmp_path, truth, results):
    write_logs(
        LogPaths.in_folder(tmp_path),
        truth,
        results,
        config_types={"c_macro": "macro", "c_micro": "micro"},
    )
    folds = pd.read_csv(tmp_path / "per_fold.csv", dtype={"fold": str})
    s3 = folds[(folds.method == "step2") & (folds.fold == "s3") & (folds.type == "micro")]
    assert s3[["N", "TP", "M", "FN"]].values.tolist() == [[0, 0, 1, 1]]
    configs = pd.read_csv(tmp_path / "per_config.csv")
    step1_micro = configs[(configs.method == "step1") & (configs.config == "c_micro")]
    assert step1_micro[["type", "N", "M"]].values.tolist() == [["micro", 0, 2]]
    videos = pd.read_csv(tmp_path / "per_video.csv", keep_default_na=False)
    row = videos[(videos.method == "step2") & (videos.video == "s1_a") & (videos.type == "macro")]
    assert row["matched"].tolist() == ["0-9 by 0-9 (IoU 1.000)"]
    assert row["unmatched_pred"].tolist() == ["1-9"]
    summary = (tmp_path / "summary.txt").read_text()
    assert summary.index("== step2 ==") < summary.index("== step1 ==")
    assert "per fold" in summary and "c_micro" in summary


def test_the_logs_say_which_models_made_the_numbers(tmp_path, truth, results):
    line = "upstream's published weights (test)"
    write_logs(LogPaths.in_folder(tmp_path / "a"), truth, results)
    write_logs(LogPaths.in_folder(tmp_path / "b"), truth, results, models=line)
    a, b = read_all(tmp_path / "a"), read_all(tmp_path / "b")
    metrics = json.loads(b["metrics.json"])
    assert metrics.pop("models") == line and metrics == json.loads(a["metrics.json"])
    summary = b["summary.txt"].decode().splitlines()
    assert summary[2] == f"models: {line}"
    assert summary[:2] + summary[3:] == a["summary.txt"].decode().splitlines()
    assert {k: v for k, v in a.items() if k not in ("metrics.json", "summary.txt")} == {
        k: v for k, v in b.items() if k not in ("metrics.json", "summary.txt")
    }


def test_output_is_deterministic(tmp_path, truth, results):
    write_logs(LogPaths.in_folder(tmp_path / "a"), truth, results)
    shuffled = {k: v.sample(frac=1, random_state=1) for k, v in reversed(results.items())}
    write_logs(LogPaths.in_folder(tmp_path / "b"), truth.sample(frac=1, random_state=2), shuffled)
    assert read_all(tmp_path / "a") == read_all(tmp_path / "b")


def test_folds_df_overrides_and_leakage_is_caught(tmp_path, truth, results):
    folds = pd.DataFrame({"video": ["s3_a"], "fold": ["sX"]})
    write_logs(LogPaths.in_folder(tmp_path), truth, results, folds_df=folds)
    assert "sX" in set(pd.read_csv(tmp_path / "per_fold.csv")["fold"])
    leaked = dict(results, step1=results["step1"].assign(fold="s9"))
    with pytest.raises(InputError, match="two folds"):
        write_logs(LogPaths.in_folder(tmp_path), truth, leaked)


def test_primary_method_and_columns_required(tmp_path, truth, results):
    with pytest.raises(InputError, match="step2"):
        write_logs(LogPaths.in_folder(tmp_path), truth, {"step1": results["step1"]})
    with pytest.raises(InputError, match="config"):
        write_logs(
            LogPaths.in_folder(tmp_path), truth, {"step2": results["step2"].drop(columns="config")}
        )
