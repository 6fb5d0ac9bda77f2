"""SIGINT in the middle of a run: servers stop, the partial result stays readable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from harness.commands.clean import server_pids
from harness.settings import Settings

from .helpers import SMOKE


def test_sigint_mid_run_leaves_partial_results_and_no_processes(settings: Settings) -> None:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(SMOKE), "--results", str(settings.results_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # the run is under way once the cold phase starts
        if "▶ cache-cold" in line:
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    (run_dir,) = list(Path(settings.results_dir).iterdir())
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "interrupted"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [p["phase"] for p in summary["phases"]] == ["direct-origin"]
    assert server_pids(settings.runtime_dir) == []
