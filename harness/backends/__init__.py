"""Backends: where servers run. Chosen by name in ``make_backend`` (an explicit registry)."""

from __future__ import annotations

from pathlib import Path

from harness.backends.base import Backend, Placement, Role, Service
from harness.errors import UserError

BACKENDS = ("local",)


def check_backend(name: str) -> None:
    """Reject an unknown backend name before anything is started or written."""
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


def make_backend(name: str, run_dir: Path, server_user: str = "xrootd") -> Backend:
    """Build the named backend; unknown names list the valid ones."""
    check_backend(name)
    if name == "local":
        from harness.backends.local import LocalBackend

        return LocalBackend(run_dir, server_user)
    raise UserError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "Placement", "Role", "Service", "check_backend", "make_backend"]
