"""``clean`` reaps what dead runs left: network namespaces (and what runs inside them), never a live
run's; containers (also paused ones), networks and directories of a faults run killed mid-case."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.backends.engine import LABEL_RUN
from harness.backends.local import OWNER_FILE
from harness.commands.clean import NETNS_PREFIX
from harness.readiness import wait_for
from harness.settings import Settings


def namespaces() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10, check=True)
    return [line.split(" ")[0] for line in listing.stdout.splitlines()]


@pytest.fixture
def netns_names() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in set(names) & set(namespaces()):
        subprocess.run(["ip", "netns", "delete", name], timeout=10, check=False)


def test_clean_removes_namespaces_of_dead_runs_and_their_processes(settings: Settings,
                                                                   netns_names: list[str]) -> None:
    live_run = f"live-{uuid.uuid4().hex[:6]}"
    (settings.runtime_dir / live_run).mkdir()
    (settings.runtime_dir / live_run / OWNER_FILE).write_text(str(os.getpid()))
    dead, live = f"{NETNS_PREFIX}dead-{uuid.uuid4().hex[:6]}-origin", f"{NETNS_PREFIX}{live_run}-origin"
    netns_names += [dead, live]
    for name in (dead, live):
        subprocess.run(["ip", "netns", "add", name], timeout=10, check=True)
    inside = subprocess.Popen(["ip", "netns", "exec", dead, "sleep", "300"])
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir)}
    done = subprocess.run([sys.executable, "-m", "harness", "clean"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f"removed network namespace {dead} (1 process(es) stopped)" in done.stdout
    assert inside.wait(timeout=10) != 0  # killed
    assert dead not in namespaces() and live in namespaces()


@pytest.mark.docker
def test_clean_reaps_a_faults_run_killed_mid_case(settings: Settings) -> None:
    """kill -9 while a relay is frozen mid-read: clean removes its containers (paused too), networks and dirs."""
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "harness", "faults", "--only", "link-cut",
                             "--results", str(settings.results_dir)], stdout=subprocess.PIPE, text=True, env=env)
    client = docker.from_env(timeout=60)
    try:
        (run_dir,) = wait_for_run(settings)
        wait_for(lambda: paused_relay(client, run_dir.name), 90, "the frozen link relay")
    finally:
        proc.kill()
        proc.communicate()
    assert labelled(client, run_dir.name) != []
    done = subprocess.run([sys.executable, "-m", "harness", "clean"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert labelled(client, run_dir.name) == []
    assert list(settings.runtime_dir.iterdir()) == []


def wait_for_run(settings: Settings) -> list[Path]:
    wait_for(lambda: settings.results_dir.is_dir() and any(settings.results_dir.iterdir()), 60, "the run directory")
    return list(settings.results_dir.iterdir())


def labelled(client: Any, run_id: str) -> list[str]:
    """Containers and networks of a faults run (labelled ``<run-id>-<case>``), listed sparsely."""
    containers = client.containers.list(all=True, sparse=True, filters={"label": LABEL_RUN})
    found = [c.attrs["Names"][0] for c in containers
             if (c.attrs.get("Labels") or {}).get(LABEL_RUN, "").startswith(run_id)]
    return found + [n.name for n in client.networks.list(filters={"label": LABEL_RUN})
                    if (n.attrs.get("Labels") or {}).get(LABEL_RUN, "").startswith(run_id)]


def paused_relay(client: Any, run_id: str) -> bool:
    containers = client.containers.list(all=True, sparse=True, filters={"label": LABEL_RUN, "status": "paused"})
    return any((c.attrs.get("Labels") or {}).get(LABEL_RUN, "").startswith(run_id) for c in containers)
