"""20 docker runs interrupted at random moments: nothing is left behind, every result is readable.

The moments (seeded, 0-6.5 s after the run announced itself, i.e. after Python's own start-up,
where a Ctrl-C is Python's business) fall in container start-up, staging and the phases of a tiny
scenario; two runs go at a time to keep the test near a minute and a half.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.backends.engine import LABEL_RUN
from harness.commands.clean import NETNS_PREFIX, server_pids
from harness.settings import Settings

pytestmark = pytest.mark.docker

RUNS, AT_ONCE, SEED = 20, 2, 20261125
TINY = """\
schema_version: 1
name: {name}
topology:
  origins: [{{name: origin}}]
  caches: [{{name: xcache, origin: origin}}]
dataset:
  files: [{{path: "/tiny/f{{i}}.bin", count: 2, size: 4MiB}}]
phases: [{{kind: direct}}, {{kind: cache-cold}}, {{kind: cache-warm}}]
"""


def start(scenario: Path, settings: Settings) -> subprocess.Popen[str]:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(scenario), "--backend", "docker",
         "--results", str(settings.results_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def interrupt(procs: list[tuple[subprocess.Popen[str], float]]) -> list[tuple[int, str, float]]:
    """SIGINT each process at its moment (seconds after its first line); exit codes, stderr, moments."""
    for proc, _ in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("run "), proc.communicate()[1][-2000:]
    t0 = time.monotonic()
    for proc, moment in sorted(procs, key=lambda p: p[1]):
        time.sleep(max(0.0, t0 + moment - time.monotonic()))  # the interrupt moment, not a readiness wait
        proc.send_signal(signal.SIGINT)
    return [(proc.wait(timeout=90), proc.communicate()[1], moment) for proc, moment in procs]


def leftovers(client: Any, name: str) -> list[str]:
    # sparse: no inspect per container, which fails when another run's container goes away meanwhile
    ours = [c.id for c in client.containers.list(all=True, sparse=True, filters={"label": LABEL_RUN})
            if f"-{name}-" in (c.attrs.get("Labels") or {}).get(LABEL_RUN, "")]
    ours += [n.name for n in client.networks.list(filters={"label": LABEL_RUN})
             if f"-{name}-" in (n.attrs.get("Labels") or {}).get(LABEL_RUN, "")]
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    return ours + [line for line in namespaces.splitlines() if line.startswith(NETNS_PREFIX) and name in line]


def test_twenty_random_interrupts_leave_nothing_behind(settings: Settings, tmp_path: Path) -> None:
    name = f"intr{os.getpid()}"
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY.format(name=name))
    rng = random.Random(SEED)
    codes: list[int] = []
    moments: list[float] = []
    for _ in range(RUNS // AT_ONCE):
        batch = [(start(scenario, settings), rng.uniform(0.0, 6.5)) for _ in range(AT_ONCE)]
        for code, err, moment in interrupt(batch):
            moments.append(moment)
            assert code in (0, 130), f"SIGINT at {moment:.2f} s: exit {code}: {err[-2000:]}"
            assert "Traceback" not in err, err[-2000:]
            codes.append(code)
    runs = sorted(Path(settings.results_dir).iterdir())
    statuses = [json.loads((run / "run.json").read_text())["status"] for run in runs]
    assert set(statuses) <= {"interrupted", "complete"} and statuses.count("interrupted") == codes.count(130)
    assert leftovers(docker.from_env(timeout=60), name) == []
    assert server_pids(settings.runtime_dir) == []
    print(f"{RUNS} runs: {codes.count(130)} interrupted, {codes.count(0)} complete; "
          f"moments {', '.join(f'{m:.1f}' for m in sorted(moments))} s")
