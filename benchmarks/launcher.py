"""Each benchmark job in a fresh process (`run.py job KIND ARGS`), measured by a launcher.

A small launcher sits between us and each job: Linux keeps a process's peak RSS across fork
and exec, so a job forked straight from the (large) benchmark process would report at least
the benchmark's own size. The launcher's os.wait4 rusage gives the job's alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import project_config

RUN = Path(__file__).with_name("run.py")
_LAUNCHER = """
import json, os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"status": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
                  "cpu_s": usage.ru_utime + usage.ru_stime}))
"""


def run_measured(script: Path, args: list[str], env: dict[str, str]) -> dict:
    """`python script *args` in a fresh process behind the launcher; the job's result (its
    second-to-last stdout line, JSON) plus its peak RSS (MB) and CPU seconds."""
    cmd = [sys.executable, "-S", "-c", _LAUNCHER, sys.executable, str(script), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    usage = json.loads(lines[-1]) if lines else {"status": proc.returncode}
    if proc.returncode != 0 or usage["status"] != 0:
        raise RuntimeError(f"{script.name} {args} failed:\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(lines[-2])
    result["rss_mb"] = usage["maxrss_kb"] / 1024
    result["cpu_s"] = usage["cpu_s"]
    return result


@dataclass(frozen=True)
class Launcher:
    """Starts jobs; with `wait_load` (--wait-load X) each waits first for a quieter machine."""

    wait_load: float | None = None

    def wait_for_quiet(self, limit_s: float = 600) -> None:
        """Wait (up to limit_s) until the 1-minute load average is below wait_load."""
        t0 = time.monotonic()
        while self.wait_load is not None and os.getloadavg()[0] >= self.wait_load:
            if time.monotonic() - t0 > limit_s:
                print(f"  (load still {os.getloadavg()[0]:.1f} after {limit_s:.0f}s; going on)")
                return
            time.sleep(5)

    def run(self, job: str, /, plain_malloc: bool = False, **args) -> dict:
        """Run one job in a fresh process; its result plus peak RSS (MB) and CPU seconds.

        Jobs get the workflow's malloc settings (config.yaml `malloc`, set by run.py);
        plain_malloc=True runs one without them, glibc's defaults, for comparison.
        """
        self.wait_for_quiet()
        env = dict(os.environ)
        if plain_malloc:
            for name in project_config()["malloc"]:
                env.pop(name, None)
        result = run_measured(RUN, ["job", job, json.dumps(args)], env)
        result["rate"] = result["items"] / result["seconds"]
        return result
