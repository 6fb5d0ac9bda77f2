"""The backend seam: how a server is placed, started, fed with files and stopped.

A backend receives rendered config text, environment and files; it never decides policy
(auth, cache settings), which stays in ``topology``. Implementations: ``local`` (real
xrootd processes), ``docker`` (containers, one network per site, emulated links), ``fake``
(in memory, for unit tests of the layers above).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol, runtime_checkable

Role = Literal["origin", "cache"]


@dataclass(frozen=True)
class Placement:
    """Where a service will live, decided by the backend before its config is rendered.

    ``host``/``port`` are how the harness reaches it; ``peer_host`` is how other services
    reach it; paths are as seen by the server itself. ``server_dir`` is the server's own
    directory as it sees it and ``host_dir`` the same directory as the harness sees it (a
    container's bind mount): :meth:`on_host` maps one to the other. A container's address is assigned
    when it starts, so ``start`` may return a Service whose placement has the final
    ``host``: the started Service's placement is the one to use from then on.
    """

    name: str
    role: Role
    host: str
    port: int
    peer_host: str
    data_dir: str
    admin_dir: str
    monitor_host: str  # address of the harness' UDP listeners as seen from the server
    server_dir: str = ""  # the server's own directory, as the server sees it ("": same paths as the harness)
    host_dir: str = ""  # that directory as the harness sees it

    def on_host(self, path: str) -> Path:
        """Where the harness finds ``path`` (a path as the server sees it, inside ``server_dir``)."""
        if not self.server_dir:
            return Path(path)
        relative = PurePosixPath(path).relative_to(self.server_dir)  # ValueError: not the server's own file
        return Path(self.host_dir) / relative

    @property
    def root_url(self) -> str:
        return f"root://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@runtime_checkable
class Service(Protocol):
    """A started server."""

    placement: Placement

    def log_text(self) -> str: ...

    def is_running(self) -> bool: ...


class Backend(Protocol):
    """What every backend implements; a context manager that stops all it started on exit."""

    name: str
    monitor_bind: str  # where the harness' UDP listeners bind so that ``monitor_host`` reaches them

    def place(self, name: str, role: Role) -> Placement: ...

    def start(self, placement: Placement, config: str, env: Mapping[str, str]) -> Service: ...

    def stage(self, placement: Placement, path: str, chunks: Iterable[bytes]) -> None: ...

    def exec(self, service: Service, argv: list[str]) -> str: ...

    def stop(self, service: Service) -> None: ...

    def save_logs(self, service: Service, dest_dir: str) -> None: ...

    def measure_links(self) -> list[dict[str, object]]:
        """Measure each emulated link once the servers are up: configured, measured, method."""
        ...

    def facts(self) -> dict[str, object]:
        """What this backend ran, for run.json (e.g. XRootD version and images); may be empty."""
        ...

    def close(self) -> None: ...


def save_log(service: Service, dest_dir: str) -> None:
    """Write a service's log to ``dest_dir/<name>.log`` (shared by the backends' ``save_logs``)."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / f"{service.placement.name}.log").write_text(service.log_text())
