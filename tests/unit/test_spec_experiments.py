"""Scenario files of the experiment scenarios: profiles, patterns, phases, external endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.schedule import Generations, expand, prefix, server_for
from harness.spec import load_scenario

from .specfiles import load_text, spec_error

PROFILED = """\
name: t
profile: magic
topology:
  origins: [{name: o}]
  caches: [{name: c, origin: o}]
workload:
  clients: 3
  patterns:
    sparse: {fraction: 0.05}
phases:
  - kind: direct-remote
  - kind: cache-cold
    pattern: sparse
    protocols: [root, https]
"""
EXTERNAL = """\
name: ext
profile: lsst
topology:
  external:
    origin: {root: "root://localhost:1094"}
    cache: {root: "root://localhost:1095", https: "https://localhost:1095"}
phases:
  - kind: direct-remote
  - kind: cache-warm
    protocols: [root, https]
"""


def load(tmp_path: Path, text: str) -> object:
    return load_text(load_scenario, tmp_path, text, "s.yaml")


def error_of(tmp_path: Path, text: str) -> SpecError:
    return spec_error(load_scenario, tmp_path, text, "s.yaml")


def test_profile_gives_defaults_the_file_overrides_key_by_key(tmp_path: Path) -> None:
    scenario = load(tmp_path, PROFILED)
    assert scenario.dataset.files[0].path.startswith("/magic/RAW/")  # type: ignore[attr-defined]
    workload = scenario.workload  # type: ignore[attr-defined]
    assert (workload.clients, workload.in_flight) == (3, 4)  # file, profile
    _, sparse = workload.pattern_spec("sparse")
    assert (sparse.kind, sparse.fraction, sparse.chunk_size) == ("sparse", 0.05, 16 * 1024)


@pytest.mark.parametrize(("old", "new", "line", "field", "problem"), [
    ("profile: magic", "profile: higgs", 2, "profile", "no profile 'higgs' (known: atlas, cta, lsst, magic)"),
    ("    pattern: sparse", "    pattern: zigzag", 13, "phases.1.pattern", "unknown pattern 'zigzag'"),
    ("    protocols: [root, https]", "    protocols: [root, gopher]", 14, "phases.1.protocols.1", "'root' or 'https'"),
    ("  - kind: direct-remote", "  - kind: direct-far", 11, "phases.0.kind", "direct-remote"),
    ("  clients: 3", "  clients: 0", 7, "workload.clients", "greater than or equal to 1"),
    ("    sparse: {fraction: 0.05}", "    skim: {fraction: 0.05}", 9, "workload.patterns.skim.kind", "needs a kind"),
])
def test_mistakes_name_file_line_and_field(tmp_path: Path, old: str, new: str, line: int, field: str,
                                           problem: str) -> None:
    error = error_of(tmp_path, PROFILED.replace(old, new))
    assert (error.line, error.field) == (line, field), str(error)
    assert problem in str(error) and "\n" not in str(error)


def test_external_endpoints_are_read_only_unless_staging_is_allowed(tmp_path: Path) -> None:
    assert load(tmp_path, EXTERNAL).topology.external.cache.https  # type: ignore[attr-defined]
    error = error_of(tmp_path, EXTERNAL.replace("kind: cache-warm", "kind: cache-cold"))
    assert (error.field, error.line) == ("phases.1.kind", 9) and "allow_staging" in str(error)
    error = error_of(tmp_path, EXTERNAL.replace(', https: "https://localhost:1095"', ""))
    assert error.field == "phases.1.protocols" and "no https URL" in str(error)
    error = error_of(tmp_path, EXTERNAL.replace("  external:", "  origins: [{name: o}]\n  external:"))
    assert error.field == "topology.external"


def test_phases_expand_per_protocol_and_repetition(tmp_path: Path) -> None:
    scenario = load(tmp_path, PROFILED)
    runs = expand(scenario.phases, 2)  # type: ignore[attr-defined]
    assert [r.label for r in runs] == ["direct-remote", "cache-cold", "cache-cold-https",
                                       "direct-remote-r2", "cache-cold-r2", "cache-cold-https-r2"]
    assert [r.expectation for r in runs[:3]] == ["direct", "miss", "miss"]
    both = scenario.phases[0].model_copy(update={"protocols": ("root", "https")})  # type: ignore[attr-defined]
    runs = expand((both, scenario.phases[1]), 1)  # type: ignore[attr-defined]
    assert [r.label for r in runs] == ["direct-remote", "cache-cold", "direct-remote-https", "cache-cold-https"]
    assert server_for(runs[1].spec, scenario.topology) == "c"  # type: ignore[attr-defined]


def test_cold_phases_get_fresh_names_once_their_cache_has_seen_the_current_ones() -> None:
    gens = Generations()
    assert gens.for_phase("origin", "direct-remote") == (0, False)
    assert gens.for_phase("c", "cache-cold") == (0, False)
    assert gens.for_phase("c", "cache-cold") == (1, True)  # e.g. the same phase over https
    assert gens.for_phase("c", "cache-warm") == (1, False)
    assert gens.for_phase("d", "cache-cold") == (0, False)  # another cache has not seen them
    assert gens.for_phase("c", "partial-warm") == (1, False)
    assert prefix(1) == "/fresh-1" and prefix(0) == ""


def test_direct_near_and_remote_pick_origins_by_the_client_site() -> None:
    scenario = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "atlas.yaml")
    kinds = {p.kind: p for p in scenario.phases}
    assert server_for(kinds["direct-near"], scenario.topology) == "lapp-origin"
    assert server_for(kinds["direct-remote"], scenario.topology) == "cern-origin"
    assert server_for(kinds["cache-cold"], scenario.topology) == "lapp-xcache"
