"""``clean`` reaps network namespaces of dead runs (and what runs inside them), never a live run's."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from harness.backends.local import OWNER_FILE
from harness.commands.clean import NETNS_PREFIX
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
