"""Scheduling, topology and extras of an auth check, without servers (fake backend)."""

from __future__ import annotations

from pathlib import Path

from harness.authcheck.matrix import load_matrix
from harness.authcheck.runner import schedule
from harness.authcheck.servers import topology_spec
from harness.backends.base import Placement
from harness.backends.fake import FakeBackend
from harness.topology import ServerExtras, Topology

DEFAULT = Path(__file__).resolve().parents[3] / "scenarios" / "auth-matrix.yaml"


def test_groups_share_server_and_path_and_run_cold_before_warm() -> None:
    matrix = load_matrix(DEFAULT)
    groups = schedule(matrix)
    assert sorted(c.id for g in groups for c in g) == sorted(c.id for c in matrix.cases)
    assert [len(g) for g in groups] == sorted((len(g) for g in groups), reverse=True)
    for group in groups:
        assert len({(matrix.config_of(c) if c.route != "origin" else "", c.path) for c in group}) == 1
        routes = [c.route for c in group]
        assert routes == sorted(routes, key=["origin", "cache-cold", "cache-warm"].index)
        cold = [c for c in group if c.route == "cache-cold"]
        caching = [i for i, c in enumerate(cold) if c.operation == "read" and c.expected == "allow"]
        assert caching in ([], [len(cold) - 1]), f"a cold read that caches the file must run last: {group}"


def test_one_origin_and_a_cache_per_used_configuration() -> None:
    spec = topology_spec(load_matrix(DEFAULT))
    assert [o.name for o in spec.origins] == ["origin"]
    assert [c.name for c in spec.caches] == ["protected", "token-robot", "no-authz"]
    assert {c.origin for c in spec.caches} == {"origin"}


def test_extras_reach_config_environment_and_files(tmp_path: Path) -> None:
    backend = FakeBackend()
    seen: dict[str, list[str]] = {}

    def extras(placement: Placement, started: dict[str, Placement]) -> ServerExtras:  # type: ignore[type-arg]
        seen[placement.name] = sorted(started)
        return ServerExtras(f"# extra for {placement.name}\n", {"X509_CERT_DIR": "/ca"},
                            {str(tmp_path / placement.name / "authdb"): "u * /data/public/ rl\n"})

    configs: dict[str, str] = {}
    spec = topology_spec(load_matrix(DEFAULT))
    with Topology(spec, backend, None, 1.0, configs.__setitem__, lambda s, t: None, extras):  # type: ignore[arg-type]
        assert next(s.env for s in backend.services) == {"X509_CERT_DIR": "/ca"}
    assert seen["origin"] == [] and seen["protected"] == ["origin"]
    assert configs["origin"].endswith("# extra for origin\n")
    assert "xrd.report" not in configs["origin"] and "xrootd.monitor" not in configs["protected"]
    assert (tmp_path / "no-authz" / "authdb").read_text() == "u * /data/public/ rl\n"
