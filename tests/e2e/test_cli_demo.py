"""The README's promises, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    """The two commands of the README's first code block."""
    text = (REPO / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_the_two_commands_ci_runs() -> None:
    demo, tests = readme_commands()
    assert demo.endswith("xcache-harness demo") and "bootstrap" in demo
    assert tests in (REPO / ".ci" / "run").read_text()


def test_demo_runs_the_smoke_scenario_and_prints_the_table(settings: Settings) -> None:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir)}
    done = subprocess.run([sys.executable, "-m", "harness", "demo", "--results", str(settings.results_dir)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    for column in ("phase", "MB/s", "origin/read", "g-stream hits", "verdict"):
        assert column in done.stdout
    (run_dir,) = list(settings.results_dir.iterdir())
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    assert f"results: {run_dir}" in done.stdout.replace("\n", "")
