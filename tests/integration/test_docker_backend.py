"""The docker backend on the real engine: smoke truth, teardown (also on SIGINT), reaping, links.

Images are built on first use (about a minute from nothing) and reused afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.backends.engine import LABEL_HOST, LABEL_PID, LABEL_RUN, reap
from harness.events import Events
from harness.runner import Runner
from harness.settings import Settings
from harness.spec import load_scenario

from .helpers import REPO, SMOKE, assert_smoke_truth

pytestmark = pytest.mark.docker

TWO_SITE = REPO / "scenarios" / "two-site.yaml"


@pytest.fixture(scope="module")
def client() -> Any:
    return docker.from_env(timeout=60)


def labelled(client: Any, run_id: str) -> list[str]:
    """Names of the containers and networks that still carry the run's label."""
    label = {"label": f"{LABEL_RUN}={run_id}"}
    return [c.name for c in client.containers.list(all=True, filters=label)] + [
        n.name for n in client.networks.list(filters=label)]


def by_phase(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["phase"]: p for p in summary["phases"]}


@pytest.mark.parametrize("xrootd", ["5.5.3", "5.8.1"])
def test_smoke_on_docker_cold_pulls_everything_warm_nothing_and_leaves_nothing(
        settings: Settings, client: Any, xrootd: str) -> None:
    steps: list[tuple[float, str]] = []
    events = Events()
    events.step.add(lambda e: steps.append((time.monotonic(), e.text)))
    events.phase_started.add(lambda e: steps.append((time.monotonic(), f"phase {e.phase}")))
    runner = Runner(load_scenario(SMOKE), settings, backend="docker", events=events, xrootd=xrootd)
    outcome = runner.run()
    assert_smoke_truth(outcome)
    run = json.loads((outcome.path / "run.json").read_text())
    assert run["status"] == "complete" and run["backend"] == "docker"
    assert run["software"]["xrootd-server"] == xrootd
    assert set(run["backend_facts"]["images"]) == {"origin", "cache"}
    assert {p.name for p in (outcome.path / "logs").iterdir()} == {"origin.log", "xcache.log"}
    assert "initialization completed" in (outcome.path / "logs" / "origin.log").read_text()
    assert labelled(client, runner.run_id) == []
    up = next(t for t, s in steps if s == "starting servers")
    staged = next(t for t, s in steps if s.startswith("staging"))
    print(f"topology up in {staged - up:.2f} s")


def test_sigint_mid_run_removes_every_container_and_network(settings: Settings, client: Any) -> None:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(SMOKE), "--backend", "docker",
         "--results", str(settings.results_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # the containers are up once the cold phase starts
        if "▶ cache-cold" in line:
            proc.send_signal(signal.SIGINT)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    (run_dir,) = list(Path(settings.results_dir).iterdir())
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert labelled(client, run_dir.name) == []


def test_reap_removes_objects_of_dead_runs_only(client: Any) -> None:
    dead, live = f"reap-test-dead-{os.getpid()}", f"reap-test-live-{os.getpid()}"
    host = os.uname().nodename
    dead_pid = _dead_pid()
    client.networks.create(f"xh-{dead}", internal=True,
                           labels={LABEL_RUN: dead, LABEL_PID: str(dead_pid), LABEL_HOST: host})
    client.networks.create(f"xh-{live}", internal=True,
                           labels={LABEL_RUN: live, LABEL_PID: str(os.getpid()), LABEL_HOST: host})
    try:
        removed = reap(None, client)
        assert any(dead in line for line in removed)
        assert labelled(client, dead) == [] and labelled(client, live) == [f"xh-{live}"]
    finally:
        reap(live, client)
    assert labelled(client, live) == []


def _dead_pid() -> int:
    """The PID of a process that has exited (and was reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait(10)
    return proc.pid


def test_two_sites_link_is_measured_and_the_near_cache_beats_the_remote_origin(
        settings: Settings, client: Any) -> None:
    scenario = load_scenario(TWO_SITE)
    runner = Runner(scenario, settings, backend="docker")
    outcome = runner.run()
    run = json.loads((outcome.path / "run.json").read_text())
    (link,) = run["links"]
    assert link["method"] == "relay" and link["configured"] == {"rtt_ms": 30, "rate_mbit": 100, "loss": 0.0}
    assert link["measured"]["rtt_ms"] == pytest.approx(30, rel=0.10)
    assert link["measured"]["rate_mbit"] == pytest.approx(100, rel=0.10)
    assert link["agrees"] is True
    phases = by_phase(outcome.summary)
    remote, cold, warm = (phases[p]["stats"]["mb_per_s"] for p in ("direct-remote", "cache-cold", "cache-warm"))
    assert remote < 100 / 8 * 1.1  # the link caps it: at most 12.5 MB/s (+10 %)
    assert warm > 5 * remote
    read = phases["cache-cold"]["stats"]["bytes"]
    assert abs(phases["cache-cold"]["truth"]["origin_bytes"] - read) <= 0.02 * read
    assert phases["cache-warm"]["truth"]["origin_bytes"] < 0.01 * read
    assert labelled(client, runner.run_id) == []
    print(f"link {link['measured']['rtt_ms']:.1f} ms {link['measured']['rate_mbit']:.1f} Mbit/s; "
          f"remote {remote:.1f} MB/s, cold {cold:.1f} MB/s, warm {warm:.1f} MB/s")
