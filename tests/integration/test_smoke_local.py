"""The walking skeleton's acceptance on real xrootd processes (local backend)."""

from __future__ import annotations

import json
import time

import pytest

from harness.commands.clean import server_pids
from harness.errors import ReadError
from harness.events import Events, PhaseStarted
from harness.results import RESULTS_SCHEMA
from harness.runner import Runner
from harness.settings import Settings
from harness.spec import load_scenario

from .helpers import SMOKE, assert_smoke_truth, kill_server


def test_smoke_cold_pulls_everything_warm_pulls_nothing(settings: Settings) -> None:
    # The probe returns as soon as the records are in; a longer bound only matters on a loaded machine,
    # where the cache's deferred detach (pss.ciosync 10 s) plus scheduling can pass the default 12 s.
    patient = settings.model_copy(update={"truth_timeout_s": 40.0})
    phases = assert_smoke_truth(Runner(load_scenario(SMOKE), patient).run())
    # The cache's own account arrives when it detaches files, which it may delay under load.
    warm = phases["cache-warm"]["truth"]
    assert warm["gstream"]["files"] >= 1 and warm["gstream"]["b_miss"] == 0
    assert warm["agree"] in (True, None)


def test_run_leaves_results_and_no_processes(settings: Settings) -> None:
    outcome = Runner(load_scenario(SMOKE), settings).run()
    run = json.loads((outcome.path / "run.json").read_text())
    assert run["status"] == "complete" and run["schema_version"] == RESULTS_SCHEMA
    assert run["software"]["xrootd-server"].startswith("5.")
    assert run["topology"]["xcache"]["cache_settings"]["prefetch"] == 0
    assert {p.name for p in (outcome.path / "configs").iterdir()} == {"origin.cfg", "xcache.cfg"}
    assert {p.name for p in (outcome.path / "logs").iterdir()} == {"origin.log", "xcache.log"}
    assert server_pids(settings.runtime_dir) == []
    # data, cache and keys go with the servers; configs and logs stay in the results
    assert not (settings.runtime_dir / outcome.run_id).exists()


def test_origin_down_fails_fast_naming_the_endpoint(settings: Settings) -> None:
    events = Events()
    runner = Runner(load_scenario(SMOKE), settings, events=events)
    run_dir = settings.runtime_dir / runner.run_id
    events.phase_started.add(lambda e: kill_server(run_dir, "origin") if e.kind == "direct" else None)
    started = time.monotonic()
    with pytest.raises(ReadError) as info:
        runner.run()
    assert time.monotonic() - started < 10 + 5  # 5 s of server start and staging
    message = str(info.value)
    assert "\n" not in message and message.startswith("root://localhost:") and "/smoke/file-00.bin" in message
    assert server_pids(settings.runtime_dir) == []
    assert json.loads((settings.results_dir / runner.run_id / "run.json").read_text())["status"] == "failed"


def test_cache_with_dead_origin_fails_within_bounds(settings: Settings) -> None:
    events = Events()
    runner = Runner(load_scenario(SMOKE), settings, events=events)
    run_dir = settings.runtime_dir / runner.run_id
    marks: dict[str, float] = {}

    def on_phase(event: PhaseStarted) -> None:
        if event.kind == "cache-cold":
            kill_server(run_dir, "origin")
            marks["killed"] = time.monotonic()

    events.phase_started.add(on_phase)
    with pytest.raises(ReadError, match="root://localhost:"):
        runner.run()
    assert time.monotonic() - marks["killed"] < 10

