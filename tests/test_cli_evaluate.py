"""`tsmsnet evaluate`: JSON on stdout, one-line errors with exit status 2."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from tsmsnet.cli import main


@pytest.fixture
def tables(tmp_path):
    truth = tmp_path / "gt.csv"
    pred = tmp_path / "pred.csv"
    pd.DataFrame(
        [("006_1", "macro", 0, 5, 9), ("006_1", "micro", 20, 22, 25)],
        columns=["video", "type", "onset", "apex", "offset"],
    ).to_csv(truth, index=False)
    pd.DataFrame(
        [("006_1", "macro", 0, 4, 0.9), ("006_1", "macro", 0, 9, 0.8), ("007_1", "micro", 1, 3, 1)],
        columns=["video", "type", "onset", "offset", "score"],
    ).to_csv(pred, index=False)
    return truth, pred


def check(result):
    assert list(result) == ["macro", "micro", "overall"]
    assert result["macro"] == {
        "N": 2,
        "TP": 1,
        "M": 1,
        "FP": 1,
        "FN": 0,
        "precision": 0.5,
        "recall": 1.0,
        "F1": pytest.approx(2 / 3),
    }
    assert (result["micro"]["N"], result["micro"]["TP"], result["micro"]["M"]) == (1, 0, 1)
    assert (result["overall"]["N"], result["overall"]["TP"], result["overall"]["M"]) == (3, 1, 2)


def test_main_prints_json(tables, capsys):
    assert main(["evaluate", str(tables[0]), str(tables[1])]) == 0
    check(json.loads(capsys.readouterr().out))


def test_module_runs_as_a_program(tables):
    done = subprocess.run(
        [sys.executable, "-m", "tsmsnet.cli", "evaluate", str(tables[0]), str(tables[1])],
        capture_output=True,
        text=True,
        check=True,
    )
    check(json.loads(done.stdout))
    assert done.stdout.startswith("{\n  ")


def test_missing_column_is_one_line_and_exit_2(tables, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"video": ["v"], "type": ["macro"], "start": [1]}).to_csv(bad, index=False)
    assert main(["evaluate", str(tables[0]), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "onset, offset" in err and str(bad) in err


def test_missing_file_is_reported(tables, tmp_path, capsys):
    assert main(["evaluate", str(tables[0]), str(tmp_path / "nope.csv")]) == 2
    assert "not found" in capsys.readouterr().err


def test_subcommand_is_required(capsys):
    with pytest.raises(SystemExit) as stop:
        main([])
    assert stop.value.code == 2


def test_bad_values_name_the_file(tables, tmp_path, capsys):
    bad = tmp_path / "typo.csv"
    pd.DataFrame({"video": ["v"], "type": ["mcro"], "onset": [1], "offset": [2]}).to_csv(
        bad, index=False
    )
    assert main(["evaluate", str(tables[0]), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown type" in err and str(bad) in err
