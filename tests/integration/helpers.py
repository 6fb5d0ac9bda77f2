"""Helpers shared by integration tests."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from harness.commands.clean import server_pids

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "scenarios" / "smoke.yaml"


def kill_server(run_dir: Path, name: str) -> None:
    """Kill the server called ``name`` (its ``-n`` argument) started under ``run_dir``."""
    for pid in server_pids(run_dir):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if name.encode() in argv:
            os.kill(pid, signal.SIGKILL)
