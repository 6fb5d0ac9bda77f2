"""``clean``: reap servers of runs whose harness process is gone (local processes, Docker objects)."""

from __future__ import annotations

import os
import shutil
import signal
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


def _owner(run_dir: Path) -> int | None:
    try:
        return int((run_dir / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None


def _kill_servers_of(run_dir: Path) -> int:
    """Servers are recognised by their config path inside ``run_dir`` on the command line."""
    killed = 0
    for pid in server_pids(run_dir):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            pass
    return killed


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
