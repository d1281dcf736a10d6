"""SLURM: profiles/slurm through snakemake-executor-plugin-slurm on a real one-node cluster.

`.ci/slurm up` starts munge, slurmctld and slurmd on loopback (root; the Debian packages
slurmctld slurmd slurm-client munge, which .ci/run installs); the tiny preset then runs end to
end with `snakemake --profile profiles/slurm` plus the overrides a cluster without accounting
needs. The cluster tests skip, with the reason, where SLURM or root is missing; the checks of
the profile itself run everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.workflow_helpers import TINY, make_project, workflow_rules
from tsmsnet.config import REPO_ROOT

pytestmark = pytest.mark.slurm

CI_SLURM = REPO_ROOT / ".ci" / "slurm"
PROFILE = yaml.safe_load((REPO_ROOT / "profiles" / "slurm" / "config.yaml").read_text())
GPU_RULES = {"train_apex", "train_interval", "spot", "train_recognizer", "recognize"}
# SLURM only books memory here (no cgroups, no accounting), it does not enforce it: every job
# asks for little so that the profile's full-data sizes fit any CI machine's one node.
CI_MEM_MB = 500


# --- the profile (no cluster needed) ----------------------------------------------------------


def test_profile_submits_to_slurm():
    assert PROFILE["executor"] == "slurm"
    assert PROFILE["jobs"] >= 1
    assert {"mem_mb", "runtime"} <= set(PROFILE["default-resources"])


def test_profile_sizes_the_heavy_rules_and_only_real_ones():
    rules = workflow_rules()
    sized = PROFILE["set-resources"]
    assert set(sized) <= set(rules), f"unknown rules: {set(sized) - set(rules)}"
    heavy = {"landmarks", "faces", "stage1_features", "stage2_features", "evaluate"}
    assert heavy | GPU_RULES <= set(sized)
    for rule, res in sized.items():
        assert {"mem_mb", "runtime"} <= set(res), rule


def test_profile_requests_a_gpu_exactly_for_the_gpu_rules():
    declared = {name for name, text in workflow_rules().items() if re.search(r"\bgpu=1\b", text)}
    assert declared == GPU_RULES
    requested = {rule for rule, res in PROFILE["set-resources"].items() if res.get("gpu")}
    assert requested == GPU_RULES
    for rule in GPU_RULES:
        # `gres: gpu:1` as well would make the plugin pass both --gres and --gpus.
        assert "gres" not in PROFILE["set-resources"][rule], rule


def test_ci_script_is_valid_bash():
    assert os.access(CI_SLURM, os.X_OK)
    subprocess.run(["bash", "-n", str(CI_SLURM)], check=True)


def test_pinned_plugin_has_the_options_the_docs_name():
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip('snakemake-executor-plugin-slurm is not installed (pip install -e ".[slurm]")')
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in ("--slurm-status-command", "--slurm-init-seconds-before-status-checks"):
        assert option in out, option


# --- a real cluster -----------------------------------------------------------------------------


def _missing_slurm() -> list[str]:
    path = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin"
    need = ("slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "munged")
    return [cmd for cmd in need if shutil.which(cmd, path=path) is None]


@pytest.fixture(scope="module")
def slurm_cluster():
    """A running one-node cluster (started unless one already runs, stopped at the end)."""
    if missing := _missing_slurm():
        pytest.skip(
            f"SLURM is not installed ({', '.join(missing)} not found; "
            "apt-get install slurmctld slurmd slurm-client munge)"
        )
    if os.geteuid() != 0:
        pytest.skip(".ci/slurm starts munged, slurmctld and slurmd, which needs root")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip('snakemake-executor-plugin-slurm is not installed (pip install -e ".[slurm]")')
    was_up = subprocess.run([CI_SLURM, "status"], capture_output=True).returncode == 0
    up = subprocess.run([CI_SLURM, "up"], capture_output=True, text=True)
    assert up.returncode == 0, f".ci/slurm up failed:\n{up.stdout}\n{up.stderr}"
    env = subprocess.run([CI_SLURM, "env"], capture_output=True, text=True, check=True)
    name, value = env.stdout.strip().split("=", 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(name, value)
        try:
            yield
        finally:
            if not was_up:
                down = subprocess.run([CI_SLURM, "down"], capture_output=True, text=True)
                assert down.returncode == 0, f".ci/slurm down failed:\n{down.stderr}"


def ci_overrides() -> list[str]:
    """What the one-node CI cluster needs on top of the profile.

    No accounting: the squeue status command (sacct would never answer), checked early.
    Partition and account on the command line (that replaces the profile's whole
    default-resources block, so runtime comes along). Memory: the profile's per-rule
    runtimes and GPU requests are kept, only mem_mb shrinks.
    """
    defaults = {**PROFILE["default-resources"], "mem_mb": CI_MEM_MB}
    defaults.update(slurm_partition="debug", slurm_account="ci")
    per_rule = [
        f"{rule}:{key}={CI_MEM_MB if key == 'mem_mb' else value}"
        for rule, res in PROFILE["set-resources"].items()
        for key, value in res.items()
    ]
    return [
        "--slurm-status-command", "squeue",
        "--slurm-init-seconds-before-status-checks", "2",
        "--default-resources", *(f"{k}={v}" for k, v in defaults.items()),
        "--set-resources", *per_rule,
    ]  # fmt: skip


def scontrol_jobs(workdir: Path) -> list[dict[str, str]]:
    """Every job SLURM still knows (MinJobAge) whose working directory is `workdir`."""
    out = subprocess.run(
        ["scontrol", "show", "job", "--oneliner"], capture_output=True, text=True, check=True
    ).stdout
    jobs = []
    for line in out.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if fields.get("WorkDir") == str(workdir):
            jobs.append(fields)
    return jobs


def rule_of(job: dict[str, str], rules) -> str:
    """The plugin comments each job `rule_<name>` or `rule_<name>_wildcards_<values>`."""
    comment = job.get("Comment", "")
    for rule in sorted(rules, key=len, reverse=True):
        if comment == f"rule_{rule}" or comment.startswith(f"rule_{rule}_wildcards_"):
            return rule
    raise AssertionError(f"job {job.get('JobId')}: no rule in comment {comment!r}")


def snakemake_with_timeout(project: Path, *args: str, timeout: int = 1200):
    """`snakemake ARGS` in `project`, failing (not hanging) when the run never ends.

    A status command that never answers (sacct without accounting) hangs the run forever;
    the jobs left in SLURM are cancelled by `.ci/slurm down`.
    """
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "snakemake", *args],
            cwd=project,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as err:
        out = [o.decode() if isinstance(o, bytes) else o or "" for o in (err.stdout, err.stderr)]
        msg = f"snakemake still running after {timeout} s:\n" + "\n".join(out)
        raise AssertionError(msg) from None
    if proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


# One spotting config instead of two: every rule still runs (3 subjects, 30 SLURM jobs), in
# two thirds of the time; each job pays sbatch, a jobstep snakemake and srun.
ONE_CONFIG = {"datasets": {"casme2": {"configs": ["cas_micro"]}}}


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory):
    """The tiny preset run end to end through SLURM once.

    Returns the project, the run's remote jobs per rule (its `rule X:` lines; local ones say
    `localrule X:`) and the SLURM jobs that ran in the project directory.
    """
    project = make_project(tmp_path_factory.mktemp("slurm") / "project").resolve()
    (project / "one_config.yaml").write_text(yaml.safe_dump(ONE_CONFIG))
    proc = snakemake_with_timeout(
        project, "--profile", "profiles/slurm", *ci_overrides(),
        *TINY, "one_config.yaml",  # a second file for TINY's --configfile
    )  # fmt: skip
    remote = Counter(
        m.group(1)
        for line in (proc.stdout + proc.stderr).splitlines()
        if (m := re.fullmatch(r"rule (\w+):", line.strip()))
    )
    return project, remote, scontrol_jobs(project)


def test_tiny_preset_runs_end_to_end_through_slurm(slurm_run):
    project, remote, jobs = slurm_run
    metrics = json.loads((project / "results/synthetic/evaluation/metrics.json").read_text())
    assert {"macro", "micro", "overall"} <= set(metrics)
    assert all(job["JobState"] == "COMPLETED" for job in jobs), [
        (job["JobId"], job.get("Comment"), job["JobState"]) for job in jobs
    ]
    # Every job of the run went through sbatch, once (only the target `all` runs locally).
    assert remote, "the run scheduled no remote job"
    assert Counter(rule_of(job, workflow_rules()) for job in jobs) == remote


def test_gpu_rules_were_submitted_with_a_gpu_request(slurm_run):
    _, _, jobs = slurm_run
    rules = workflow_rules()
    # SLURM 22.05 prints TresPerJob=gres:gpu:1 for `--gpus=1`, later versions gres/gpu:1.
    gpu_request = re.compile(r"gres[:/]gpu(:[\w.]+)?:1$")
    seen = set()
    for job in jobs:
        rule = rule_of(job, rules)
        asked = bool(gpu_request.search(job.get("TresPerJob", "")))
        assert asked == (rule in GPU_RULES), (rule, job["JobId"], job.get("TresPerJob"))
        seen.add(rule)
    assert GPU_RULES <= seen


def minutes(runtime: int | str) -> int:
    """The profile's runtimes: plain minutes, "30m" or "2h"."""
    if isinstance(runtime, int):
        return runtime
    value, unit = re.fullmatch(r"(\d+)([mh])", runtime).groups()
    return int(value) * (60 if unit == "h" else 1)


def test_profile_runtimes_reached_sbatch(slurm_run):
    _, _, jobs = slurm_run
    rules = workflow_rules()
    for job in jobs:
        rule = rule_of(job, rules)
        sized = PROFILE["set-resources"].get(rule, PROFILE["default-resources"])
        limit = minutes(sized["runtime"])
        expected = f"{limit // 60:02d}:{limit % 60:02d}:00"
        assert job["TimeLimit"] == expected, (rule, job["TimeLimit"], expected)
