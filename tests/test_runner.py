"""run_step's thread limit: exact thread counts, and no torch import in jobs that never use it."""

import os
import subprocess
import sys
from types import SimpleNamespace

from tsmsnet.steps.runner import THREAD_ENV, uses_torch

# 3 differs from the core count of the machines this runs on (torch's default), so a limit
# that did not take would show.
PROBE = """
import sys
import cv2
from tsmsnet.steps.runner import limit_threads
{before}
limit_threads(3, torch_too={torch_too})
print("torch imported:", "torch" in sys.modules)
import torch
print(cv2.getNumThreads(), torch.get_num_threads())
"""


def probe(before: str, torch_too: bool) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
    code = PROBE.format(before=before, torch_too=torch_too)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.splitlines()


def test_a_torch_rule_gets_exactly_its_threads():
    assert probe("", torch_too=True) == ["torch imported: True", "3 3"]


def test_other_rules_leave_torch_unimported():
    lines = probe("", torch_too=False)
    assert lines[0] == "torch imported: False"
    assert lines[1].split()[0] == "3"  # OpenCV exact; torch starts from OMP_NUM_THREADS (capped)


def test_a_torch_already_imported_is_limited_anyway():
    assert probe("import torch", torch_too=False) == ["torch imported: True", "3 3"]


def test_the_gpu_resource_marks_torch_rules():
    assert uses_torch(SimpleNamespace(resources={"gpu": 1}))
    assert not uses_torch(SimpleNamespace(resources={"mem_mb": 1000}))
    assert not uses_torch(SimpleNamespace())
