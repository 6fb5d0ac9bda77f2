"""An in-memory backend for unit tests of the layers above the backends.

It starts nothing: services are records, staged files are kept in a dict, and the log
says ``initialization completed`` at once so readiness logic can be exercised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.backends.base import Placement, Role, Service


@dataclass
class FakeService:
    placement: Placement
    config: str
    env: dict[str, str]
    running: bool = True
    log: str = "------ xrootd fake initialization completed.\n"

    def log_text(self) -> str:
        return self.log

    def is_running(self) -> bool:
        return self.running


@dataclass
class FakeBackend:
    """Records what the layers above ask for; ``files`` maps (service, path) to content."""

    name: str = "fake"
    monitor_bind: str = "127.0.0.1"
    services: list[FakeService] = field(default_factory=list)
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    next_port: int = 31094

    def __enter__(self) -> FakeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def place(self, name: str, role: Role) -> Placement:
        self.next_port += 1
        return Placement(name, role, "localhost", self.next_port, "localhost",
                         f"/fake/{name}/data", f"/fake/{name}/adm", "127.0.0.1")

    def start(self, placement: Placement, config: str, env: Mapping[str, str]) -> FakeService:
        service = FakeService(placement, config, dict(env))
        self.services.append(service)
        self.events.append(f"start {placement.name}")
        return service

    def stage(self, placement: Placement, path: str, chunks: Iterable[bytes]) -> None:
        self.files[(placement.name, path)] = b"".join(chunks)

    def exec(self, service: Service, argv: list[str]) -> str:
        self.events.append(f"exec {service.placement.name} {argv[0]}")
        return "{}"

    def stop(self, service: Service) -> None:
        assert isinstance(service, FakeService)
        service.running = False
        self.events.append(f"stop {service.placement.name}")
        if service in self.services:
            self.services.remove(service)

    def save_logs(self, service: Service, dest_dir: str) -> None:
        self.events.append(f"logs {service.placement.name}")

    def measure_links(self) -> list[dict[str, object]]:
        return []

    def facts(self) -> dict[str, object]:
        return {}

    def close(self) -> None:
        for service in reversed(list(self.services)):
            self.stop(service)
