"""Authenticated read scenarios on real servers: a VOMS-proxy client (its own process) and a token
client (a thread) read through a robot-proxy cache over root:// and https://, clients without rights
are refused, and no key, proxy or token reaches the results or the logs."""

from __future__ import annotations

import re

import pytest

from harness.errors import ReadError
from harness.results import read_jsonl
from harness.runner import Runner
from harness.settings import Settings
from harness.spec import Scenario, load_scenario

from .helpers import REPO
from .test_auth_check import assert_no_secrets, minted  # noqa: F401 (minted is a fixture)

SCENARIO = REPO / "scenarios" / "auth-read.yaml"


def quick(settings: Settings) -> Settings:
    return settings.model_copy(update={"truth_timeout_s": 2.0})


def test_auth_read_scenario(settings: Settings, minted: list[str],  # noqa: F811 (the imported fixture)
                            capsys: pytest.CaptureFixture[str]) -> None:
    outcome = Runner(load_scenario(SCENARIO), quick(settings), scale="ci").run()
    phases = {p["phase"]: p for p in outcome.phases}
    assert outcome.status == "complete"
    for label in ("cache-cold", "cache-warm", "cache-cold-https", "cache-warm-https"):
        stats = phases[label]["stats"]
        assert stats["errors"] == 0 and stats["ops"] == stats["verified"] == 2, label
        assert phases[label]["truth"]["meets_expectation"] is True, label
        assert phases[label]["credentials"] == ["alice", "reader-token"]
    ops = read_jsonl(outcome.path / "ops.jsonl")
    denied = [op for op in ops if op["phase"].startswith("no-rights")]
    assert len(denied) == 4 and all(op["error"] and op["bytes"] == 0 for op in denied)
    assert all("permission denied" in op["error"] or "403" in op["error"] for op in denied)
    # The cache's log names each client's identity: the token's subject and the proxy's DN hash.
    log = (outcome.path / "logs" / "xcache.log").read_text()
    assert re.search(r"c1\.\d+:\d+@\S+ .*login as reader-token", log)
    assert re.search(r"grant gsi \w+\.0@\S+ read /authread/f00\.bin", log)
    assert "login as other-token" in log and "deny gsi" in log
    assert not any("authz=" in op["url"] or "authz=" in (op["error"] or "") for op in ops)
    assert_no_secrets(minted, capsys.readouterr().out, outcome.path, settings.runtime_dir)


def test_wrong_scope_token_fails_its_reads(settings: Settings) -> None:
    spec = load_scenario(SCENARIO).model_dump()
    spec["phases"] = [{"kind": "cache-cold", "credentials": ["other-token", "reader-token"]}]
    scenario = Scenario.model_validate(spec)
    with pytest.raises(ReadError, match=r"/authread/f00\.bin: cannot open: .*permission denied"):
        Runner(scenario, quick(settings), scale="ci").run()
    run_dir = next(settings.results_dir.iterdir())
    ops = {op["client"]: op for op in read_jsonl(run_dir / "ops.jsonl")}
    assert "[3010]" in ops["c0"]["error"]
