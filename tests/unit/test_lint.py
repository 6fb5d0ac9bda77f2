"""Style is enforced, not hoped for: ruff, mypy --strict and the import layers run with the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize("argv", [
    ["ruff", "check", "harness", "tests"],
    ["mypy"],
    ["lint-imports"],
], ids=["ruff", "mypy", "import-layers"])
def test_lint(argv: list[str]) -> None:
    tool = BIN / argv[0]
    assert tool.exists(), f"{argv[0]} missing: run scripts/bootstrap (installs the dev extras)"
    done = subprocess.run([str(tool), *argv[1:]], cwd=REPO, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
