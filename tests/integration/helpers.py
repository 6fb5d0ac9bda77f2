"""Helpers shared by integration tests."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from harness.commands.clean import server_pids
from harness.results import read_jsonl
from harness.runner import RunOutcome

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "scenarios" / "smoke.yaml"


def kill_server(run_dir: Path, name: str) -> None:
    """Kill the server called ``name`` (its ``-n`` argument) started under ``run_dir``."""
    for pid in server_pids(run_dir):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if name.encode() in argv:
            os.kill(pid, signal.SIGKILL)


def assert_smoke_truth(outcome: RunOutcome) -> dict[str, dict[str, Any]]:
    """The smoke acceptance: cold pulls every byte (within 2 %), warm pulls < 1 %, every read verified."""
    phases = {p["phase"]: p for p in outcome.phases}
    read = phases["cache-cold"]["stats"]["bytes"]
    assert read == 4 * 32 * 1024**2
    assert abs(phases["cache-cold"]["truth"]["origin_bytes"] - read) <= 0.02 * read
    assert phases["cache-warm"]["truth"]["origin_bytes"] < 0.01 * read
    assert phases["direct-origin"]["truth"]["origin_bytes"] >= read
    ops = read_jsonl(outcome.path / "ops.jsonl")
    assert len(ops) == 12 and all(op["verified"] and op["error"] is None for op in ops)
    return phases
