"""End-to-end tests run the CLI against real xrootd servers; each is marked so it can be selected."""

from __future__ import annotations

import shutil

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def needs_xrootd() -> None:
    if shutil.which("xrootd") is None:
        pytest.fail("xrootd is not installed: run scripts/bootstrap")
