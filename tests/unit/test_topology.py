from __future__ import annotations

import pytest

from harness.backends.base import Service
from harness.backends.fake import FakeBackend
from harness.errors import ServiceStartError
from harness.readiness import wait_log_ready
from harness.spec import CacheSpec, OriginSpec, TopologySpec
from harness.topology import MonitorPorts, Topology

SPEC = TopologySpec(origins=(OriginSpec(name="o"),), caches=(CacheSpec(name="c", origin="o"),))


def topology(backend: FakeBackend, **kw: object) -> Topology:
    return Topology(SPEC, backend, MonitorPorts(5001, 5002), 1.0, ready=lambda s, t: None, **kw)  # type: ignore[arg-type]


def test_origins_start_first_and_stop_last() -> None:
    backend = FakeBackend()
    with topology(backend):
        assert backend.events == ["start o", "start c"]
    assert backend.events[-2:] == ["stop c", "stop o"]


def test_cache_config_points_at_its_origin_and_monitoring() -> None:
    backend = FakeBackend()
    configs: dict[str, str] = {}
    with topology(backend, on_config=configs.__setitem__) as top:
        origin_port = top.origin_for(None).placement.port
    assert f"pss.origin localhost:{origin_port}" in configs["c"]
    assert "pfc.prefetch 0" in configs["c"]
    assert "xrd.report 127.0.0.1:5001 every 1s all" in configs["o"]
    assert "pfc 127.0.0.1:5002" in configs["c"]


def test_a_failed_cache_start_stops_the_origin_and_shows_the_log() -> None:
    backend = FakeBackend()

    def fail_cache(service: Service, timeout: float) -> None:
        if service.placement.role == "cache":
            service.log = "Config error: pfc.ram 512m below minimum\n------ xrootd c initialization failed.\n"  # type: ignore[attr-defined]
            wait_log_ready(service, "c", timeout)

    with pytest.raises(ServiceStartError, match=r"pfc\.ram 512m") as info:
        Topology(SPEC, backend, MonitorPorts(1, 2), 1.0, ready=fail_cache).__enter__()
    assert backend.services == []
    assert any("last lines of the c log" in note for note in info.value.__notes__)
