"""`snakemake --report` on the tiny run: F1 tables, score curves, losses, captions, rule graph."""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest

from tests.test_plots import decode_png, html_tables
from tests.workflow_helpers import TINY, clone_run, scheduled, snakemake
from tsmsnet.plots.tables import METHODS

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory):
    """The tiny run's report.zip, read: {name in the zip: bytes}."""
    project = clone_run(tiny_run, tmp_path_factory.mktemp("report") / "p")
    snakemake(project, "--report", "report.zip", *TINY)
    with zipfile.ZipFile(project / "report.zip") as z:
        files = {name: z.read(name) for name in z.namelist()}
    return project, files


def by_name(files: dict[str, bytes], name: str) -> list[bytes]:
    return [data for path, data in files.items() if path.rsplit("/", 1)[-1] == name]


def test_report_holds_every_figure_and_table(report):
    project, files = report
    res = project / "results" / "synthetic"
    videos = pd.read_csv(res / "videos.csv", dtype=str)
    configs = sorted(p.name for p in (res / "spotting").iterdir())  # models/ also: recognition
    html = files["report/report.html"].decode()
    names = ("f1_pooled.html", "f1_per_config.html", "f1_per_fold.html", "f1.png", "str.html")
    for name in (*names, "str_confusion.png"):
        assert len(by_name(files, name)) == 1, name
    for subject in videos["subject"].unique():
        assert len(by_name(files, f"{subject}.png")) == len(configs)  # one per config's fold
    for config in configs:
        assert len(by_name(files, f"{config}.png")) == 1
    pngs = [data for path, data in files.items() if path.endswith(".png")]
    assert len(pngs) == 2 + len(configs) * (videos["subject"].nunique() + 1)  # f1, confusion
    for data in pngs:
        image = decode_png(data)
        assert image.size > 0 and image.std() > 0
    # captions (rendered from workflow/report/*.rst, wildcards filled in) and the rule graph
    assert "held-out subject" in html and "ablation" in html
    assert f"Config <strong>{configs[0]}</strong>" in html
    for rule in ("train_apex", "spot", "evaluate", "score_plot"):
        assert f'"{rule}"' in html


def test_report_f1_tables_show_the_evaluation(report):
    project, files = report
    evaluation = project / "results" / "synthetic" / "evaluation"
    metrics = json.loads((evaluation / "metrics.json").read_text())
    metrics_all = json.loads((evaluation / "metrics_all.json").read_text())
    (pooled,) = by_name(files, "f1_pooled.html")
    tables = dict(html_tables(pooled.decode()))
    side = tables["F1 by method"]
    for kind in ("macro", "micro", "overall"):
        cell = side.loc[side["type"] == kind, f"F1 {METHODS['step2']}"].item()
        assert float(cell) == pytest.approx(metrics[kind]["F1"], abs=5e-5)
        for method, label in METHODS.items():
            cell = side.loc[side["type"] == kind, f"F1 {label}"].item()
            assert float(cell) == pytest.approx(metrics_all[method][kind]["F1"], abs=5e-5)
    per_fold = pd.read_csv(evaluation / "per_fold.csv", dtype={"fold": str})
    (fold_page,) = by_name(files, "f1_per_fold.html")
    side = dict(html_tables(fold_page.decode()))["F1 by method"]
    assert len(side) == len(per_fold[per_fold["method"] == "step2"])
    row = per_fold[(per_fold["method"] == "step1") & (per_fold["type"] == "overall")].iloc[0]
    shown = side[(side["fold"] == row["fold"]) & (side["type"] == "overall")]
    assert float(shown[f"F1 {METHODS['step1']}"].item()) == pytest.approx(row["F1"], abs=5e-5)


def test_report_str_page_shows_str_json(report):
    project, files = report
    metrics = json.loads((project / "results/synthetic/evaluation/str.json").read_text())
    (page,) = by_name(files, "str.html")
    pooled = dict(html_tables(page.decode()))["Pooled over every fold"].iloc[0]
    assert int(pooled["TP"]) == metrics["spotting"]["TP"]
    assert float(pooled["STRS"]) == pytest.approx(metrics["STRS"], abs=5e-5)
    assert float(pooled["UAR"]) == pytest.approx(metrics["recognition"]["UAR"], abs=5e-5)
    assert "Spot-then-recognise" in files["report/report.html"].decode()


def test_plots_are_deterministic_jobs(report, tmp_path):
    project, _ = report
    res = project / "results" / "synthetic" / "report"
    figures = [res / "f1.png", next(res.glob("scores/*/*.png")), next(res.glob("losses/*.png"))]
    figures.append(res / "str_confusion.png")
    before = {p: p.read_bytes() for p in figures}
    for p in figures:
        p.unlink()
    targets = [str(p.relative_to(project)) for p in figures]
    snakemake(project, "--cores", "2", *targets, *TINY)
    for p, data in before.items():
        assert p.read_bytes() == data, p  # redrawn byte for byte
    assert scheduled(project, *TINY) == []  # and nothing else is due
