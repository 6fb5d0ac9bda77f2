"""``clean``: reap what runs whose harness process is gone left behind.

Local server processes and their directories, Docker containers and networks (by label), and
network namespaces named with the harness prefix (``xh-<run-id>-...``) with the processes in them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from harness.backends.engine import connect, process_alive, reap
from harness.backends.local import OWNER_FILE
from harness.errors import EnvironmentMissing
from harness.settings import Settings


def clean_local(settings: Settings) -> Iterator[str]:
    """Kill xrootd processes started from dead runs' directories, then remove those directories."""
    root = settings.runtime_dir
    if not root.is_dir():
        return
    for run_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        owner = _owner(run_dir)
        if owner is not None and process_alive(owner):
            continue
        killed = _kill_servers_of(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
        yield f"removed {run_dir} ({killed} server process(es) stopped)"


def clean_docker() -> Iterator[str]:
    """Remove containers and networks labelled by dead runs, when a Docker engine is reachable."""
    try:
        client = connect(timeout_s=10)
    except EnvironmentMissing:
        return  # no engine (or no SDK): nothing of ours can be running there
    yield from reap(None, client)


NETNS_PREFIX = "xh-"  # as engine.docker_name: the prefix of everything a run names
IP_TIMEOUT_S = 10


def clean_namespaces(settings: Settings) -> Iterator[str]:
    """Delete ``xh-*`` network namespaces of runs not alive (killing what still runs inside them)."""
    if shutil.which("ip") is None:
        return
    live = live_runs(settings)
    for name in _ip("netns", "list").split("\n"):
        name = name.split(" ")[0]
        if not name.startswith(NETNS_PREFIX) or any(name.startswith(f"{NETNS_PREFIX}{run}-") for run in live):
            continue
        killed = _kill_all(int(pid) for pid in _ip("netns", "pids", name).split() if pid.isdigit())
        _ip("netns", "delete", name)
        yield f"removed network namespace {name} ({killed} process(es) stopped)"


def live_runs(settings: Settings) -> set[str]:
    """Run ids whose directory names a live harness process."""
    root = settings.runtime_dir
    dirs = root.iterdir() if root.is_dir() else iter(())
    return {d.name for d in dirs if d.is_dir() and (pid := _owner(d)) is not None and process_alive(pid)}


def _ip(*argv: str) -> str:
    done = subprocess.run(["ip", *argv], capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False)
    return done.stdout


def _kill_all(pids: Iterator[int]) -> int:
    killed = 0
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


def _owner(run_dir: Path) -> int | None:
    try:
        return int((run_dir / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None


def _kill_servers_of(run_dir: Path) -> int:
    """Servers are recognised by their config path inside ``run_dir`` on the command line."""
    return _kill_all(iter(server_pids(run_dir)))


def server_pids(run_dir: Path) -> list[int]:
    """PIDs of xrootd processes whose command line names a file under ``run_dir``."""
    marker = str(run_dir) + "/"
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"xrootd") and any(marker.encode() in a for a in argv):
            pids.append(int(proc.name))
    return pids
