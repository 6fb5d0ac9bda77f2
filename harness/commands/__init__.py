"""One module per CLI subcommand that needs more than a few lines."""

from __future__ import annotations

from pathlib import Path

import harness
from harness.errors import UserError


def shipped(name: str, what: str) -> Path:
    """A file shipped in the checkout's scenarios/ folder (the default scenario, the default matrix)."""
    path = Path(harness.__file__).resolve().parent.parent / "scenarios" / name
    if not path.exists():
        raise UserError(f"{path}: the {what} is missing (run from a checkout of xcache-harness)")
    return path
