"""``bench readers`` end to end on a tiny file: every measurement runs and is written; nothing is left behind.

No figure is asserted: the machine is shared, so speed is reported by the benchmark, never tested.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from harness.commands.clean import server_pids
from harness.settings import Settings


def test_bench_readers_smoke(settings: Settings) -> None:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir)}
    argv = [sys.executable, "-m", "harness", "bench", "readers", "--size", "8MiB", "--repeat", "1", "--streams", "4",
            "--results", str(settings.results_dir)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    for name in ("xroot reader", "xrdcp defaults", "xrdcp XRD_CPUSEPGWRTRD=0", "https reader", "curl",
                 "4 xroot streams", "4 xrdcp streams", "loopback TCP", "CPU s/GB"):
        assert name in done.stdout
    (result,) = settings.results_dir.glob("*/bench-readers.json")
    document = json.loads(result.read_text())
    assert document["status"] == "complete"
    (repetition,) = document["repetitions"]
    assert all(sample["error"] is None and sample["bytes"] > 0 for sample in repetition.values())
    assert repetition["4 xroot streams"]["bytes"] == repetition["4 xrdcp streams"]["bytes"] == 4 * 8 * 1024**2
    assert {line["name"] for line in document["summary"]} == set(repetition)
    assert server_pids(settings.runtime_dir) == [] and list(settings.runtime_dir.iterdir()) == []


def test_bench_readers_rejects_a_bad_size(settings: Settings) -> None:
    argv = [sys.executable, "-m", "harness", "bench", "readers", "--size", "lots"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--size" in done.stderr


def test_bench_readers_interrupted_keeps_its_figures_and_nothing_running(settings: Settings) -> None:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir), "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "harness", "bench", "readers", "--size", "8MiB", "--repeat", "50", "--streams", "2",
            "--results", str(settings.results_dir)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:  # the first repetition is written once the second starts
            if "repetition 2 of 50" in line:
                proc.send_signal(signal.SIGTERM)
                break
        assert proc.wait(timeout=60) == 130
    (result,) = settings.results_dir.glob("*/bench-readers.json")
    document = json.loads(result.read_text())
    assert document["status"] == "interrupted" and len(document["repetitions"]) >= 1
    assert server_pids(settings.runtime_dir) == [] and list(settings.runtime_dir.iterdir()) == []
