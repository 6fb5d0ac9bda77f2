"""Scenario credentials and auth: which client reads with what, checked at the edge (file:line: field)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.clientproc import Job, PhaseWork, Staged
from harness.credentials import default_authdb, top_dirs
from harness.dataset import DataFile
from harness.errors import SpecError
from harness.spec import AuthSpec, PatternSpec, Scenario, load_scenario

from .specfiles import load_text, spec_error

REPO = Path(__file__).resolve().parents[2]
AUTHED = """\
name: t
topology:
  origins: [{name: o}]
  caches: [{name: c, origin: o}]
auth:
  cache_credential: robot-token
credentials:
  alice: {kind: x509, vo: escape, fqans: [/escape/reader]}
  tok: {kind: token, scopes: ["storage.read:/d"]}
dataset:
  files: [{path: "/d/f{i}", count: 2, size: 1MiB}]
workload:
  clients: 3
phases:
  - kind: cache-cold
    credentials: [alice, tok]
  - kind: cache-warm
    credentials: [tok, none]
    expect: deny
"""


def load(tmp_path: Path, text: str) -> Scenario:
    return load_text(load_scenario, tmp_path, text, "s.yaml")


def error_of(tmp_path: Path, text: str) -> SpecError:
    return spec_error(load_scenario, tmp_path, text, "s.yaml")


def test_clients_take_the_phase_credentials_in_turn(tmp_path: Path) -> None:
    scenario = load(tmp_path, AUTHED)
    cold, warm = scenario.phases
    assert [cold.credential_of(k) for k in range(3)] == ["alice", "tok", "alice"]
    assert [warm.credential_of(k) for k in range(2)] == ["tok", "none"] and warm.expect == "deny"
    assert scenario.auth is not None and scenario.auth.cache_credential == "robot-token"


def test_shipped_auth_scenario_loads() -> None:
    scenario = load_scenario(REPO / "scenarios" / "auth-read.yaml")
    kinds = {name: c.kind for name, c in scenario.credentials.items()}
    assert kinds == {"alice": "x509", "reader-token": "token", "other-token": "token", "plain-proxy": "x509"}
    assert [p.expect for p in scenario.phases] == ["allow", "allow", "deny"]


@pytest.mark.parametrize(("old", "new", "line", "field", "problem"), [
    ("    credentials: [alice, tok]", "    credentials: [alice, bob]", 16, "phases.0.credentials.1",
     "'bob' is not defined (known: alice, none, tok)"),
    ("auth:\n  cache_credential: robot-token\n", "", 6, "credentials.alice.kind",
     "needs the testbed's PKI and issuer: add 'auth:'"),
    ('  tok: {kind: token, scopes: ["storage.read:/d"]}', "  tok: {kind: token}", 9, "credentials.tok.scopes",
     "a token needs scopes"),
    ('  tok: {kind: token, scopes: ["storage.read:/d"]}', "  tok: {kind: token-file}", 9, "credentials.tok.path",
     "token-file credentials need a path"),
    ('  tok: {kind: token, scopes: ["storage.read:/d"]}', "  tok: {kind: proxy-file, path: /nonexistent/p}", 9,
     "credentials.tok.path", "/nonexistent/p does not exist"),
    ("  alice: {kind: x509, vo: escape, fqans: [/escape/reader]}", "  alice: {kind: token, vo: escape}", 8,
     "credentials.alice.vo", "vo and fqans are for x509 credentials"),
    ('  tok: {kind: token, scopes: ["storage.read:/d"]}', '  tok: {kind: token, scopes: [s], audience: [me]}', 9,
     "credentials.tok.audience.0", "use any, servers or an https:// URL"),
    ("  cache_credential: robot-token", "  cache_credential: robot-voms", 6, "auth.cache_credential",
     "'robot-proxy' or 'robot-token'"),
    ("  cache_credential: robot-token", "  authdb: ['h localhost /d/ rl']", 6, "auth.authdb",
     "host rules crash XRootD 5.5.3"),
    ("    expect: deny", "    expect: maybe", 19, "phases.1.expect", "'allow' or 'deny'"),
])
def test_mistakes_name_file_line_and_field(tmp_path: Path, old: str, new: str, line: int, field: str,
                                           problem: str) -> None:
    assert old in AUTHED
    error = error_of(tmp_path, AUTHED.replace(old, new))
    assert (error.line, error.field) == (line, field), str(error)
    assert problem in str(error) and "\n" not in str(error)


def test_auth_is_for_servers_the_harness_starts(tmp_path: Path) -> None:
    text = AUTHED.replace("  origins: [{name: o}]\n  caches: [{name: c, origin: o}]\n",
                          '  external: {cache: {root: "root://localhost:1095"}}\n')
    error = error_of(tmp_path, text.replace("  - kind: cache-cold", "  - kind: cache-warm\n    name: w0"))
    assert error.field == "auth" and "external endpoints have their own" in str(error)


def test_default_rules_grant_the_group_the_top_dirs_and_fresh_names_and_the_robot_everything() -> None:
    assert top_dirs(["/d/a", "/d/b/c", "/e/f"]) == ["/d", "/e"]
    rules = default_authdb(AuthSpec(), ["/d", "/e"])
    # one line per id: XrdAcc refuses a second rule for the same group
    assert rules == ("g /escape/reader /d/ rl /e/ rl /fresh- rl", "= xcache o: escape g: /escape/xcache",
                     "s xcache / rl")


def test_a_client_process_job_carries_no_credential_and_round_trips() -> None:
    work = PhaseWork("cold", "root", "root://localhost:1094", PatternSpec(kind="header"), 1, "local")
    job = Job(work, [Staged(DataFile("/d/f", 10, "raw", ("o",)), 42, "/fresh-1")], 7, "c0", "root://c0@h:1", 1024,
              2, 5, 3, "/ca")
    text = job.to_json()
    assert Job.from_json(text) == job
    assert set(json.loads(text)) == {"work", "files", "seed", "name", "base", "request_size", "in_flight",
                                     "timeout_s", "connection_window_s", "ca_path"}
