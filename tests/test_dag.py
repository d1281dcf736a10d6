"""Paper figures of the workflow: the collapsed job DAG (unit) and `snakemake dag` (tiny run)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections import Counter

import pandas as pd
import pytest

from tests.workflow_helpers import TINY, clone_run, scheduled, snakemake
from tsmsnet.errors import InputError
from tsmsnet.figures.dag import collapse_dag, extract_dot, job_subjects, parse_dot, render


def snakemake_like_dag(subjects: dict[str, list[str]], configs=("c1", "c2")) -> tuple[str, dict]:
    """DOT text shaped like `snakemake --dag`: labels show only the wildcards a job adds to its
    dependencies. Returns it with the true subject of every job (None: shared)."""
    nodes, edges, owner = [], [], {}

    def node(rule: str, label_wc: dict, subject):
        i = len(nodes)
        label = "\\n".join([rule, *(f"{k}: {v}" for k, v in label_wc.items())])
        nodes.append(f'\t{i}[label = "{label}", color = "0.{i % 9} 0.6 0.85", style="rounded"];')
        owner[str(i)] = subject
        return i

    table = node("annotations", {}, None)
    feats = {}
    for subject, videos in subjects.items():
        for video in videos:
            lm = node("landmarks", {"video": video}, subject)
            faces = node("faces", {}, subject)  # same video as its dependency: label shows none
            edges.append((lm, faces))
            for K in (12, 31):
                f = node("stage1_features", {"K": K}, subject)
                edges.append((faces, f))
                feats[(video, K)] = f
    evaluate = node("evaluate", {}, None)
    edges.append((table, evaluate))
    for c, K in zip(configs, (12, 31), strict=True):
        for subject, videos in subjects.items():
            train = node("train_apex", {"config": c, "subject": subject}, subject)
            edges.append((table, train))
            for other, others in subjects.items():
                if other != subject:
                    edges += [(feats[(v, K)], train) for v in others]
            spot = node("spot", {}, subject)
            edges += [(train, spot), *[(feats[(v, K)], spot) for v in videos]]
            plot = node("score_plot", {}, subject)
            edges += [(spot, plot), (table, plot), (spot, evaluate)]
    every = node("all", {}, None)
    edges.append((evaluate, every))
    header = "digraph snakemake_dag {\n    graph[bgcolor=white, margin=0];\n"
    dot = header + "\n".join(nodes + [f"\t{a} -> {b}" for a, b in edges]) + "\n}"
    return dot, owner


SUBJECTS = {"s1": ["s1_a", "s1_b"], "s2": ["s2_a"], "s3": ["s3_a", "s3_b", "s3_c"]}
SUBJECT_OF = {v: s for s, videos in SUBJECTS.items() for v in videos}


def test_every_job_gets_its_subject_back_from_the_labels():
    dot, truth = snakemake_like_dag(SUBJECTS)
    graph = parse_dot(dot)
    assert job_subjects(graph, SUBJECT_OF) == truth


@pytest.mark.parametrize("show", ["s1", "s3", None])
def test_collapse_keeps_one_subject_and_counts_the_others(show):
    dot, owner = snakemake_like_dag(SUBJECTS)
    full = parse_dot(dot)
    collapsed = parse_dot(collapse_dag(dot, SUBJECT_OF, show))
    kept = {n for n, s in owner.items() if s is None or s == show}
    assert kept <= set(collapsed.nodes)
    for n in kept:
        assert collapsed.nodes[n].rule == full.nodes[n].rule
    merged = {n: node for n, node in collapsed.nodes.items() if n not in kept}
    others = Counter(full.nodes[n].rule for n, s in owner.items() if s not in (None, show))
    assert sorted(node.rule for node in merged.values()) == sorted(others)  # one per rule
    for node in merged.values():
        assert node.count == others[node.rule]
        assert (f"x{node.count} jobs" in node.label) == (node.count > 1)
    assert len(collapsed.nodes) == len(kept) + len(others) < len(full.nodes)
    edges = collapsed.edges
    assert len(edges) == len(set(edges)) and all(a != b for a, b in edges)
    # every dependency between two kept jobs survives
    assert {(a, b) for a, b in full.edges if a in kept and b in kept} <= set(edges)


def test_merged_nodes_keep_the_links_of_the_jobs_they_stand_for():
    dot, owner = snakemake_like_dag(SUBJECTS)
    full = parse_dot(dot)
    collapsed = parse_dot(collapse_dag(dot, SUBJECT_OF, "s2"))

    def rule_links(graph):
        return {(graph.nodes[a].rule, graph.nodes[b].rule) for a, b in graph.edges}

    assert rule_links(collapsed) == rule_links(full)
    # s2's training job reads the other subjects' stage-1 stores: via their merged node
    train = next(
        n
        for n, node in collapsed.nodes.items()
        if node.rule == "train_apex" and node.wildcards.get("subject") == "s2"
    )
    sources = [a for a, b in collapsed.edges if b == train]
    assert any(collapsed.nodes[a].rule == "stage1_features" and owner[a] != "s2" for a in sources)


def test_bad_dot_is_a_clear_error():
    with pytest.raises(InputError, match="no graph"):
        extract_dot("Building DAG of jobs...\nError")
    with pytest.raises(InputError, match="no Snakemake nodes"):
        parse_dot("digraph x {\n}")
    text = (
        'Building DAG of jobs...\ndigraph snakemake_dag {\n\t0[label = "all", '
        'color = "0.0 0.6 0.85", style="rounded"];\n}\ntrailing'
    )
    assert extract_dot(text).startswith("digraph") and extract_dot(text).endswith("}\n")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")
def test_collapsed_dot_renders_with_graphviz(tmp_path):
    dot, _ = snakemake_like_dag(SUBJECTS)
    collapsed = collapse_dag(dot, SUBJECT_OF, "s1")
    root = ET.parse(render(collapsed, tmp_path / "dag.svg", "svg")).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    boxes = [g for g in root.iter(f"{ns}g") if g.get("class") == "node"]
    assert len(boxes) == len(parse_dot(collapsed).nodes)
    texts = [t.text for t in root.iter(f"{ns}text")]
    others = sum(len(v) for s, v in SUBJECTS.items() if s != "s1")
    assert f"x{others} jobs (other subjects)" in texts and "video: s1_a" in texts


@pytest.mark.workflow
@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")
def test_dag_target_draws_the_tiny_projects_figures(tiny_run, tmp_path):
    project = clone_run(tiny_run, tmp_path / "p")
    snakemake(project, "--cores", "1", "dag", *TINY)
    figures = project / "results/synthetic/figures"
    for name in ("rulegraph", "dag"):
        ET.parse(figures / f"{name}.svg")  # well-formed SVG
        assert (figures / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    videos = pd.read_csv(project / "results/synthetic/videos.csv", dtype=str)
    shown = sorted(videos["subject"].unique())[0]
    dag = parse_dot((figures / "dag.dot").read_text())
    rulegraph = parse_dot((figures / "rulegraph.dot").read_text())
    rules = {node.rule for node in rulegraph.nodes.values()}
    assert {node.rule for node in dag.nodes.values()} == rules
    assert {"dag"}.isdisjoint(rules) and {"train_apex", "evaluate", "score_plot"} <= rules
    other_videos = (videos["subject"] != shown).sum()
    landmarks = [n for n in dag.nodes.values() if n.rule == "landmarks"]
    own = [n for n in landmarks if n.wildcards.get("video") in set(videos["video"])]
    assert {n.wildcards["video"] for n in own} == set(
        videos.loc[videos["subject"] == shown, "video"]
    )
    merged = [n for n in landmarks if n not in own]
    assert len(merged) == 1 and merged[0].count == other_videos
    assert scheduled(project, *TINY) == []  # the figures are not part of `all`
