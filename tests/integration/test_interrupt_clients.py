"""SIGINT while several client threads read: the run still unwinds, stops every server, keeps results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from harness.commands.clean import server_pids
from harness.settings import Settings

from .helpers import REPO


def test_sigint_with_client_threads_leaves_partial_results_and_no_processes(settings: Settings) -> None:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(REPO / "scenarios" / "cta.yaml"), "--scale", "ci",
         "--results", str(settings.results_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # 4 client threads are reading once the cold phase starts
        if "cache-cold" in line:
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    (run_dir,) = list(Path(settings.results_dir).iterdir())
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    phases = json.loads((run_dir / "summary.json").read_text())["phases"]
    assert [p["phase"] for p in phases] == ["direct-remote"]
    assert server_pids(settings.runtime_dir) == []
