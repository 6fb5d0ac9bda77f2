"""A scenario naming the endpoints of an already running testbed: same kind of results, nothing started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.backends import make_backend
from harness.commands.clean import server_pids
from harness.dataset import dataset_files, parse_scale
from harness.results import read_jsonl
from harness.runner import Runner
from harness.settings import Settings
from harness.spec import CacheSpec, OriginSpec, TopologySpec, load_scenario
from harness.tlsserver import TlsServers, https_url
from harness.topology import Topology

SPEC = TopologySpec(origins=(OriginSpec(name="origin"),), caches=(CacheSpec(name="xcache", origin="origin"),))


@pytest.fixture
def testbed(settings: Settings) -> Iterator[tuple[Topology, str]]:
    """Someone else's running origin and cache (started here with the harness' own Topology)."""
    runtime = settings.runtime_dir / "testbed"
    runtime.mkdir(mode=0o755)
    tls = TlsServers.create(runtime / "pki")
    with Topology(SPEC, make_backend("local", runtime), None, 15.0, extras=tls) as top:
        yield top, tls.ca_file


def external_scenario(tmp_path: Path, top: Topology, ca_file: str, allow_staging: bool) -> Path:
    origin, cache = top.servers["origin"].placement, top.servers["xcache"].placement
    data = {
        "name": "external", "profile": "lsst",
        "topology": {"external": {
            "origin": {"root": origin.root_url, "https": https_url(origin)},
            "cache": {"root": cache.root_url, "https": https_url(cache)},
            "ca_path": ca_file, "allow_staging": allow_staging}},
        "workload": {"clients": 2, "popularity": "each"},
        "phases": [{"kind": "direct-remote", "protocols": ["root", "https"]},
                   {"kind": "cache-cold", "protocols": ["root", "https"]},
                   {"kind": "cache-warm", "protocols": ["root", "https"]}],
    }
    path = tmp_path / "external.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_external_endpoints_give_phase_results_without_starting_anything(
        testbed: tuple[Topology, str], settings: Settings, tmp_path: Path) -> None:
    top, ca_file = testbed
    scenario = load_scenario(external_scenario(tmp_path, top, ca_file, allow_staging=True))
    origin = top.servers["origin"].placement
    for data in dataset_files(scenario.dataset, parse_scale("ci", scenario.scale), "origin"):
        top.backend.stage(origin, data.path, data.content(scenario.dataset.seed).chunks())
    before = set(server_pids(settings.runtime_dir))
    outcome = Runner(scenario, settings, scale="ci").run()
    assert set(server_pids(settings.runtime_dir)) == before  # nothing started, nothing stopped
    phases = {p["phase"]: p for p in outcome.phases}
    assert set(phases) == {"direct-remote", "cache-cold", "cache-warm", "direct-remote-https", "cache-cold-https",
                           "cache-warm-https"}
    for phase in phases.values():
        assert phase["truth"]["origin_bytes"] is None and phase["truth"]["meets_expectation"] is None
        assert phase["stats"]["ops"] == 8 and phase["stats"]["verified"] == 8 and phase["stats"]["errors"] == 0
    assert phases["cache-cold-https"]["endpoint"].startswith("https://")
    ops = read_jsonl(outcome.path / "ops.jsonl")
    # the https cold phase needed fresh names: staged over root:// because the file allows it
    assert any(op["path"].startswith("/fresh-1/lsst/") for op in ops if op["phase"] == "cache-cold-https")


def test_external_endpoints_are_read_only_by_default(testbed: tuple[Topology, str], tmp_path: Path) -> None:
    top, ca_file = testbed
    with pytest.raises(Exception, match="allow_staging"):
        load_scenario(external_scenario(tmp_path, top, ca_file, allow_staging=False))
