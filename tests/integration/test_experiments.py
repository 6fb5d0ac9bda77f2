"""Experiment scenarios at CI scale on real servers: every phase meets its cache expectation,
every byte is verified, over root:// and https://."""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from harness.commands.clean import server_pids
from harness.results import read_jsonl
from harness.runner import Runner, RunOutcome
from harness.settings import Settings
from harness.spec import load_scenario

from .helpers import REPO

SCENARIOS = REPO / "scenarios"


def run_ci(name: str, settings: Settings, backend: str = "local") -> RunOutcome:
    # Origin bytes decide; the cache's own records only colour the report, so wait for them briefly.
    quick = settings.model_copy(update={"truth_timeout_s": 2.0})
    return Runner(load_scenario(SCENARIOS / f"{name}.yaml"), quick, backend, scale="ci").run()


def assert_phases_hold(outcome: RunOutcome) -> dict[str, dict[str, Any]]:
    phases = {p["phase"]: p for p in outcome.phases}
    assert outcome.status == "complete" and phases
    for label, phase in phases.items():
        assert phase["truth"]["meets_expectation"] is True, (label, phase["truth"]["note"])
        assert phase["stats"]["errors"] == 0 and phase["stats"]["verified"] == phase["stats"]["ops"], label
    ops = read_jsonl(outcome.path / "ops.jsonl")
    assert ops and all(op["verified"] and op["site"] != "" and op["pattern"] for op in ops)
    return phases


@pytest.mark.parametrize("name", ["cta", "lsst"])
def test_experiment_scenario_at_ci_scale(name: str, settings: Settings) -> None:
    phases = assert_phases_hold(run_ci(name, settings))
    assert {p["protocol"] for p in phases.values()} == {"root", "https"}
    assert server_pids(settings.runtime_dir) == []


def test_atlas_sparse_moves_fewer_origin_bytes_than_copies(settings: Settings) -> None:
    phases = assert_phases_hold(run_ci("atlas", settings))
    for suffix in ("", "-https"):
        sparse, copy = phases[f"sparse-cold{suffix}"], phases[f"copy-cold{suffix}"]
        assert sparse["pattern"] == "sparse" and copy["pattern"] == "full"
        assert sparse["truth"]["origin_bytes"] < 0.7 * copy["truth"]["origin_bytes"]
        partial = phases[f"copy-after-sparse{suffix}"]["truth"]
        assert 0 < partial["origin_bytes"] < copy["truth"]["origin_bytes"]
    assert phases["copy-near"]["endpoint"] != phases["copy-remote"]["endpoint"]


def test_magic_names_round_trip_through_the_cache(settings: Settings) -> None:
    outcome = run_ci("magic", settings.model_copy(update={"keep_server_dirs": True}))
    assert {p["protocol"] for p in assert_phases_hold(outcome).values()} == {"root", "https"}
    ops = read_jsonl(outcome.path / "ops.jsonl")
    through_cache = {(op["reader"], op["path"]) for op in ops
                     if op["phase"].startswith("cache-warm") and op["verified"]}
    odd = [path for _, path in through_cache if " " in path and "+" in path]
    assert {reader for reader, _ in through_cache} == {"xroot", "https"} and odd
    cache_dir = settings.runtime_dir / outcome.run_id / "lapp-xcache"
    stored = {str(p) for p in cache_dir.rglob("*CrabNebula-W 0.40+215.raw.gz")}
    assert stored, "the cache stored the files under their literal names"


@pytest.mark.docker
def test_magic_on_docker_with_an_emulated_link(settings: Settings) -> None:
    outcome = run_ci("magic", settings, "docker")
    phases = assert_phases_hold(outcome)
    run = json.loads((outcome.path / "run.json").read_text())
    assert len(run["links"]) == 1 and "25" in json.dumps(run["links"][0])
    # https too: each container holds the run's certificate, which names the servers by peer name; the
    # harness connects to container IPs and the link relay, and verifies those names
    assert {p["protocol"] for p in phases.values()} == {"root", "https"}
    https = [op for op in read_jsonl(outcome.path / "ops.jsonl") if op["reader"] == "https"]
    assert {op["phase"] for op in https} == {f"{k}-https" for k in ("direct-remote", "cache-cold", "cache-warm")}
    assert all(ipaddress.ip_address(urlsplit(op["url"]).hostname or "") for op in https)  # by address
    assert phases["cache-warm-https"]["truth"]["origin_bytes"] == 0


@pytest.mark.docker
def test_data_lake_on_docker(settings: Settings) -> None:
    phases = assert_phases_hold(run_ci("data-lake", settings, "docker"))
    assert phases["lapp-cold"]["truth"]["origin_bytes"] >= phases["lapp-cold"]["stats"]["bytes"] * 0.98
    assert phases["cern-warm"]["truth"]["origin_bytes"] == 0
    assert phases["lapp-warm"]["endpoint"] != phases["cern-warm"]["endpoint"]
