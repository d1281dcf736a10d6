"""Workflow graphs for papers: the rule graph, and the job DAG collapsed to a readable size.

`snakemake --dag` draws one node per job: at full scale (98 or 147 videos, 44 or 64 folds)
that is a wall of boxes. `collapse_dag` keeps the jobs of one subject (its videos' jobs, its
folds) and the shared jobs (tables, evaluation, report), and merges the jobs of every other
subject into one node per rule that says how many jobs it stands for.

Snakemake labels a job with only the wildcards it adds to its dependencies, so a job's
subject is read from its own label when it shows one (`subject: s15`, `video: s15_0101`)
and otherwise inherited: a job belongs to a subject when its subject-specific dependencies
all belong to that one subject.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tsmsnet.atomic import atomic_write
from tsmsnet.errors import InputError

_NODE = re.compile(r'^\s*(\d+)\[label = "(.*)", color = "([^"]*)", style="([^"]*)"\];\s*$')
_EDGE = re.compile(r"^\s*(\d+) -> (\d+)\s*$")
_COUNT = re.compile(r"^x(\d+) jobs(?: \((.*)\))?$")
_HEADER = """digraph snakemake_dag {
    graph[bgcolor=white, margin=0];
    node[shape=box, style=rounded, fontname=sans, fontsize=10, penwidth=2];
    edge[penwidth=2, color=grey];"""
SUBJECT_WILDCARD = "subject"
VIDEO_WILDCARD = "video"


@dataclass
class Node:
    """One node of a Snakemake DOT graph: its rule, the wildcards its label shows, its colour."""

    id: str
    rule: str
    wildcards: dict[str, str] = field(default_factory=dict)
    color: str = "0.00 0.6 0.85"
    count: int = 1  # jobs this node stands for
    note: str = ""  # what the merged jobs are

    @property
    def label(self) -> str:
        lines = [self.rule, *(f"{k}: {v}" for k, v in self.wildcards.items())]
        if self.count > 1:
            lines.append(f"x{self.count} jobs" + (f" ({self.note})" if self.note else ""))
        return "\\n".join(lines)


@dataclass
class Graph:
    nodes: dict[str, Node]
    edges: list[tuple[str, str]]  # (dependency, dependent)


def extract_dot(text: str) -> str:
    """The `digraph { ... }` of Snakemake's output (it may print other lines around it)."""
    start = text.find("digraph")
    end = text.rfind("}")
    if start < 0 or end < start:
        raise InputError(
            "snakemake printed no graph (no 'digraph ... }' in its output); "
            "run it by hand to see why"
        )
    return text[start : end + 1] + "\n"


def parse_dot(dot: str) -> Graph:
    """Nodes and edges of Snakemake's `--dag` / `--rulegraph` DOT text."""
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []
    for line in dot.splitlines():
        if m := _NODE.match(line):
            node_id, label, color, _style = m.groups()
            rule, *lines = label.split("\\n")
            node = nodes[node_id] = Node(node_id, rule, {}, color)
            for line in lines:
                if m := _COUNT.match(line):  # a node collapse_dag merged
                    node.count, node.note = int(m.group(1)), m.group(2) or ""
                elif ": " in line:
                    key, value = line.split(": ", 1)
                    node.wildcards[key] = value
        elif m := _EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
    if not nodes:
        raise InputError("the DOT text holds no Snakemake nodes; is it `snakemake --dag` output?")
    unknown = {n for e in edges for n in e} - set(nodes)
    if unknown:
        raise InputError(f"DOT edges name undeclared nodes {sorted(unknown)[:5]}")
    return Graph(nodes, edges)


def to_dot(graph: Graph) -> str:
    """DOT text in Snakemake's own style (rounded boxes, rule colours)."""
    lines = [_HEADER]
    for node in graph.nodes.values():
        lines.append(
            f'\t{node.id}[label = "{node.label}", color = "{node.color}", style="rounded"];'
        )
    lines += [f"\t{a} -> {b}" for a, b in graph.edges]
    return "\n".join(lines) + "\n}\n"


def _topological(graph: Graph) -> list[str]:
    deps: dict[str, set[str]] = {n: set() for n in graph.nodes}
    for a, b in graph.edges:
        deps[b].add(a)
    order, done = [], set()
    pending = sorted(graph.nodes, key=int)
    while pending:
        ready = [n for n in pending if deps[n] <= done]
        if not ready:
            raise InputError("the job graph has a cycle; snakemake never prints one")
        order += ready
        done.update(ready)
        pending = [n for n in pending if n not in done]
    return order


def job_subjects(graph: Graph, subject_of_video: Mapping[str, str]) -> dict[str, str | None]:
    """The subject each job belongs to, or None for jobs of several subjects or none."""
    deps: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b in graph.edges:
        deps[b].append(a)
    owner: dict[str, str | None] = {}
    for node_id in _topological(graph):
        wc = graph.nodes[node_id].wildcards
        if SUBJECT_WILDCARD in wc:
            owner[node_id] = wc[SUBJECT_WILDCARD]
        elif VIDEO_WILDCARD in wc and wc[VIDEO_WILDCARD] in subject_of_video:
            owner[node_id] = subject_of_video[wc[VIDEO_WILDCARD]]
        else:
            subjects = {owner[d] for d in deps[node_id] if owner[d] is not None}
            owner[node_id] = subjects.pop() if len(subjects) == 1 else None
    return owner


def collapse_dag(dot: str, subject_of_video: Mapping[str, str], show: str | None) -> str:
    """The job DAG with the jobs of subject `show` and the shared jobs as they are, and every
    other subject's jobs merged into one node per rule (with a job count). show=None merges
    every subject's jobs, giving the rule graph with job counts."""
    graph = parse_dot(dot)
    owner = job_subjects(graph, subject_of_video)
    merged: dict[str, Node] = {}
    target: dict[str, str] = {}
    nodes: dict[str, Node] = {}
    for node_id in sorted(graph.nodes, key=int):
        node = graph.nodes[node_id]
        if owner[node_id] is None or owner[node_id] == show:
            nodes[node_id] = node
            target[node_id] = node_id
            continue
        group = merged.get(node.rule)
        if group is None:
            note = "other subjects" if show is not None else ""
            group = merged[node.rule] = Node(node_id, node.rule, {}, node.color, 0, note)
            nodes[node_id] = group
        group.count += 1
        target[node_id] = group.id
    edges: list[tuple[str, str]] = []
    seen = set()
    for a, b in graph.edges:
        edge = (target[a], target[b])
        if edge[0] != edge[1] and edge not in seen:
            seen.add(edge)
            edges.append(edge)
    return to_dot(Graph(nodes, edges))


def snakemake_graph(
    kind: str, snakefile: str | Path, configfile: str | Path, workdir: str | Path = "."
) -> str:
    """`snakemake --dag` or `--rulegraph` DOT text of the workflow under `configfile`.

    --nolock: it runs while the calling workflow holds the lock; --forceall: every job is
    drawn as a job (not greyed out as done).
    """
    if kind not in ("dag", "rulegraph"):
        raise ValueError(f"kind must be dag or rulegraph, got {kind!r}")
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        f"--{kind}",
        "--forceall",
        "--nolock",
        "--snakefile",
        str(snakefile),
        "--configfile",
        str(configfile),
    ]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, env=_env())
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise InputError(f"`snakemake --{kind}` failed (exit {proc.returncode}):\n{tail}")
    return extract_dot(proc.stdout)


def _env() -> dict[str, str]:
    """The environment for the inner snakemake: this checkout's library importable."""
    import tsmsnet

    src = str(Path(tsmsnet.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": src + (os.pathsep + path if path else "")}


def render(dot: str, out: str | Path, fmt: str) -> Path:
    """Lay out DOT text with graphviz `dot` into `out` (svg, pdf, png...)."""
    exe = shutil.which("dot")
    if exe is None:
        raise InputError(
            "graphviz `dot` is not installed: install graphviz (apt-get install graphviz, "
            "or conda install -c conda-forge graphviz) and rerun"
        )

    def write(tmp: Path) -> None:
        proc = subprocess.run(
            [exe, f"-T{fmt}", "-o", str(tmp)], input=dot, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise InputError(f"graphviz dot -T{fmt} failed: {proc.stderr.strip()}")

    return _atomic(Path(out), write)


def _atomic(out: Path, write) -> Path:
    """Write aside then rename (the project's one implementation), returning the path."""
    atomic_write(out, write)
    return out


def render_all(dot: str, outputs: Sequence[str | Path]) -> None:
    """Write DOT text to each output, in the format its suffix names (.dot is the text)."""
    for out in outputs:
        out = Path(out)
        fmt = out.suffix.lstrip(".")
        if fmt in ("dot", "gv"):
            _atomic(out, lambda tmp: tmp.write_text(dot, encoding="utf-8"))
        else:
            render(dot, out, fmt)
