"""Unit tests must not start servers: refuse any attempt to exec xrootd."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

_real_popen = subprocess.Popen


class _NoServers(_real_popen):  # type: ignore[type-arg, misc]
    def __init__(self, args: Any, *rest: Any, **kw: Any) -> None:
        first = args[0] if isinstance(args, list | tuple) else str(args).split()[0]
        if str(first).endswith("xrootd"):
            raise AssertionError("unit tests must not start xrootd; move this test to tests/integration")
        super().__init__(args, *rest, **kw)


@pytest.fixture(autouse=True)
def no_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "Popen", _NoServers)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Collection hooks see every item of the session, so filter on this directory.
    for item in items:
        if "/unit/" in str(item.path) and ("integration" in item.keywords or "docker" in item.keywords):
            raise pytest.UsageError(f"{item.nodeid}: integration tests belong in tests/integration")
