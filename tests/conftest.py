"""Shared test set-up: every test starts from an environment without ambient credentials."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.settings import Settings

AMBIENT_PREFIXES = ("X509_", "BEARER_TOKEN", "XRD_", "XrdSec", "HARNESS_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials or XRootD tuning leaking in from the shell would change what tests see."""
    for name in list(os.environ):
        if name.startswith(AMBIENT_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings for a real run: results in tmp_path, server dirs where user xrootd can reach them.

    pytest's tmp_path lives under a 0700 directory the unprivileged server user cannot enter.
    """
    runtime = Path("/tmp/xcache-harness-tests") / uuid.uuid4().hex[:8]
    runtime.mkdir(parents=True, mode=0o755)
    os.chmod(runtime.parent, 0o755)
    yield Settings(results_dir=tmp_path / "results", runtime_dir=runtime)


SERVER_DIRS = {"integration": pytest.mark.integration, "e2e": pytest.mark.e2e}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/integration and tests/e2e start real servers: mark them so they can be selected."""
    for item in items:
        for directory, mark in SERVER_DIRS.items():
            if f"/tests/{directory}/" in str(item.path):
                item.add_marker(mark)


@pytest.fixture(autouse=True)
def needs_xrootd(request: pytest.FixtureRequest) -> None:
    if any(f"/tests/{d}/" in str(request.node.path) for d in SERVER_DIRS) and shutil.which("xrootd") is None:
        pytest.fail("xrootd is not installed: run scripts/bootstrap")
