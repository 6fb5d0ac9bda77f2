"""Backends: where servers run. Chosen by name in ``make_backend`` (an explicit registry)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.backends.base import Backend, Placement, Role, Service
from harness.errors import UserError
from harness.spec import TopologySpec

BACKENDS = ("local", "docker")


def check_backend(name: str, xrootd: str | None = None) -> None:
    """Reject an unknown backend name or XRootD version before anything is started or written."""
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    if xrootd is not None:
        from harness.images import suite_for

        suite_for(xrootd)  # UserError naming the known versions


def make_backend(name: str, run_dir: Path, server_user: str = "xrootd", *, xrootd: str | None = None,
                 topology: TopologySpec | None = None, progress: Callable[[str], None] = lambda _m: None) -> Backend:
    """Build the named backend; unknown names list the valid ones.

    ``xrootd`` picks the server version where the backend can (docker images); ``topology``
    tells a multi-site backend which server goes on which site; ``progress`` gets one line
    per set-up step that may take a while (image builds).
    """
    check_backend(name, xrootd)
    if name == "local":
        from harness.backends.local import LocalBackend

        if topology is not None and topology.links:
            raise UserError("the local backend cannot emulate links (topology.links): use --backend docker")
        return LocalBackend(run_dir, server_user, xrootd)
    if name == "docker":
        from harness.backends.docker import DockerBackend

        if topology is None:
            raise ValueError("the docker backend needs the topology (sites and links)")
        return DockerBackend(run_dir, topology, xrootd, progress)
    raise UserError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "Placement", "Role", "Service", "check_backend", "make_backend"]
