"""Bring up the servers of a topology in dependency order and take them down in reverse.

Origins first, then the caches that read from them; each is rendered, started, and
waited for (log line, then a kXR_ping). A failed start carries its log tail and config.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.backends import Backend, Placement, Service
from harness.errors import TopologyError
from harness.readiness import wait_log_ready, wait_xrd_ping
from harness.spec import CacheSpec, TopologySpec
from harness.xrdconf import CacheConfig, Monitoring, OriginConfig, ServerPaths, render_cache, render_origin

LOG_TAIL_LINES = 15
Ready = Callable[[Service, float], None]


@dataclass(frozen=True)
class ServerExtras:
    """What a server gets beyond its rendered config: e.g. the auth part (``harness.xrdconf.auth``).

    ``files`` (path -> text or bytes) are written before the server starts, mode 0600 (they may be
    keys; the backend hands them to the server user). Paths are as the server sees them, inside its
    ``Placement.server_dir``, so the config can name them whatever the backend (a container sees
    its bind mount elsewhere): ``Placement.on_host`` says where the harness writes them.
    """

    config: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str | bytes] = field(default_factory=dict)


# Called with the server about to start and the placements of those already started.
Extras = Callable[[Placement, Mapping[str, Placement]], ServerExtras]


def no_extras(_placement: Placement, _started: Mapping[str, Placement]) -> ServerExtras:
    return ServerExtras()


def log_then_ping(service: Service, timeout_s: float) -> None:
    """Default readiness: the log's ``initialization completed``, then a kXR_ping answer."""
    wait_log_ready(service, service.placement.name, timeout_s)
    wait_xrd_ping(service.placement.root_url, service.placement.name, timeout_s)


@dataclass(frozen=True)
class Server:
    """A started server, with the config it was started with."""

    name: str
    service: Service
    config: str

    @property
    def placement(self) -> Placement:
        return self.service.placement


@dataclass
class Topology:
    """Context manager: ``with Topology(...) as top:`` starts everything, stops it on exit."""

    spec: TopologySpec
    backend: Backend
    monitoring: MonitorPorts | None  # None: no monitoring directives (e.g. auth checks)
    start_timeout_s: float
    on_config: Callable[[str, str], None] = lambda _name, _text: None
    ready: Ready = log_then_ping
    extras: Extras = no_extras
    servers: dict[str, Server] = field(default_factory=dict)

    def __enter__(self) -> Topology:
        try:
            for origin in self.spec.origins:
                self._start_origin(origin.name)
            for cache in self.spec.caches:
                self._start_cache(cache)
        except BaseException:
            self.backend.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.backend.close()

    def origin_for(self, name: str | None) -> Server:
        return self.servers[name or self.spec.origins[0].name]

    def cache_for(self, name: str | None) -> Server:
        return self.servers[name or self.spec.caches[0].name]

    def save_logs(self, dest: str) -> None:
        for server in self.servers.values():
            self.backend.save_logs(server.service, dest)

    def _start_origin(self, name: str) -> None:
        placement = self.backend.place(name, "origin")
        monitoring = Monitoring(summary=self.monitoring.summary_for(placement)) if self.monitoring else Monitoring()
        config = render_origin(OriginConfig(_paths(placement), monitoring))
        self._start(placement, config)

    def _start_cache(self, spec: CacheSpec) -> None:
        placement = self.backend.place(spec.name, "cache")
        origin = self.servers[spec.origin].placement
        monitoring = Monitoring(gstream=self.monitoring.gstream_for(placement)) if self.monitoring else Monitoring()
        config = render_cache(CacheConfig(_paths(placement), f"{origin.peer_host}:{origin.port}", spec.settings,
                                          monitoring))
        self._start(placement, config)

    def _start(self, placement: Placement, config: str) -> None:
        extras = self.extras(placement, {name: s.placement for name, s in self.servers.items()})
        config += extras.config
        for path, content in extras.files.items():
            write_private(placement.on_host(path), content)
        self.on_config(placement.name, config)
        service = self.backend.start(placement, config, extras.env)
        try:
            self.ready(service, self.start_timeout_s)
        except TopologyError as exc:
            exc.add_note(f"--- last lines of the {placement.name} log ---\n" + _tail(service.log_text()))
            raise
        self.servers[placement.name] = Server(placement.name, service, config)


@dataclass(frozen=True)
class MonitorPorts:
    """Ports of the harness' UDP listeners; rendered into configs as the server sees us."""

    summary_port: int
    gstream_port: int

    def summary_for(self, placement: Placement) -> str:
        return f"{placement.monitor_host}:{self.summary_port}"

    def gstream_for(self, placement: Placement) -> str:
        return f"{placement.monitor_host}:{self.gstream_port}"


def write_private(path: Path, content: str | bytes) -> None:
    """Write a file only its owner reads (0600 from the start: it may be a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    path.chmod(0o600)  # an existing file keeps its mode through O_CREAT


def _paths(placement: Placement) -> ServerPaths:
    return ServerPaths(placement.port, placement.data_dir, placement.admin_dir)


def _tail(text: str) -> str:
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:]) or "(empty log)"
