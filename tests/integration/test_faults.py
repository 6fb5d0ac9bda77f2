"""Every case of scenarios/faults.yaml on docker (XRootD 5.5.3) ends as declared, within its bound.

One run of the whole file (about three minutes: the disk-fill case waits for pfc's 60 s purge
interval, the long stall for the cache's 45 s timeout) is shared by the per-case tests, which then
only read its records. The run records every token it mints (token-expired) and what it printed,
so that no token is found anywhere it wrote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.auth import TokenIssuer
from harness.backends.engine import LABEL_RUN
from harness.faults.runner import FAULTS_FILE, FaultsOutcome, FaultsRunner
from harness.faults.spec import load_faults
from harness.readiness import wait_for
from harness.results import read_jsonl
from harness.settings import Settings

from .helpers import REPO
from .test_auth_check import assert_no_secrets

pytestmark = pytest.mark.docker

FAULTS = REPO / "scenarios" / "faults.yaml"
CASES = [c.name for c in load_faults(FAULTS).cases]
# Set-up, staging and teardown come on top of a case's read bound.
SETUP_ALLOWANCE_S = 40


@dataclass
class Run:
    outcome: FaultsOutcome
    runtime: Path
    minted: list[str] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    runtime = Path("/tmp/xcache-harness-tests") / uuid.uuid4().hex[:8]
    runtime.mkdir(parents=True, mode=0o755)
    os.chmod(runtime.parent, 0o755)
    settings = Settings(results_dir=tmp_path_factory.mktemp("faults") / "results", runtime_dir=runtime)
    minted: list[str] = []
    printed: list[str] = []
    real = TokenIssuer.mint

    def recording(self: TokenIssuer, spec: Any, **kw: Any) -> str:
        minted.append(real(self, spec, **kw))
        return minted[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TokenIssuer, "mint", recording)
        runner = FaultsRunner(load_faults(FAULTS), settings, "docker", "5.5.3", str(FAULTS),
                              on_step=printed.append, on_case=lambda r: printed.append(json.dumps(r)))
        result = runner.run()
    for record in result.records:
        print(f"{record['case']:22} {record['outcome']:15} {record['seconds']:6} s  {record.get('notes')}")
    return Run(result, runtime, minted, printed)


@pytest.fixture(scope="module")
def outcome(run: Run) -> FaultsOutcome:
    return run.outcome


def record_of(outcome: FaultsOutcome, case: str) -> dict[str, Any]:
    return next(r for r in outcome.records if r["case"] == case)


@pytest.mark.parametrize("case", CASES)
def test_case_ends_as_declared_within_its_bound(outcome: FaultsOutcome, case: str) -> None:
    record = record_of(outcome, case)
    assert record["outcome"] == record["expect"], record
    assert record["ok"] and record["failed_checks"] == [], record
    assert record["seconds"] <= record["bound_s"] + SETUP_ALLOWANCE_S + (80 if record["fault"] == "disk-fill" else 0)


def test_coalescing_origin_sends_about_one_copy(outcome: FaultsOutcome) -> None:
    record = record_of(outcome, "coalescing")
    assert len(record["reads"]) == 16 and all(r["outcome"] == "recovered" for r in record["reads"])
    assert record["notes"]["origin_ratio"] <= 1.1


def test_corruption_is_caught_at_the_corrupted_offset(outcome: FaultsOutcome) -> None:
    record = record_of(outcome, "block-corrupted")
    after = record["reads"][-1]
    offset = record["notes"]["corrupted"]["offset"]
    assert offset <= after["wrong_at"] < offset + 4096


def test_token_outlives_its_expiry_only_on_the_open_file(run: Run) -> None:
    record = record_of(run.outcome, "token-expired")
    assert record["notes"]["backend"] == "docker" and record["xrootd"] == "5.5.3"
    size = next(c.size for c in load_faults(FAULTS).cases if c.name == "token-expired")
    assert record["reads"][0]["bytes_ok"] == size, record  # every byte, checked, the second half after expiry
    assert record["notes"]["read_on_after_expiry"] is True
    assert record["checks"]["the server refused the login as expired"], record  # not for anything else
    assert run.minted, "the case minted no token: the check below would prove little"
    assert_no_secrets(run.minted, "\n".join(run.printed), run.outcome.path, run.runtime)


def test_results_are_complete_and_nothing_is_left(outcome: FaultsOutcome) -> None:
    assert json.loads((outcome.path / "run.json").read_text())["status"] == "complete"
    assert [r["case"] for r in read_jsonl(outcome.path / FAULTS_FILE)] == CASES
    assert ours(docker.from_env(timeout=60), outcome.run_id) == []


def test_sigint_during_a_case_leaves_a_partial_result_and_nothing_running(settings: Settings) -> None:
    env = {**os.environ, "HARNESS_RUNTIME_DIR": str(settings.runtime_dir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "faults", "--only", "origin-killed", "--only", "origin-stalled",
         "--results", str(settings.results_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    client = docker.from_env(timeout=60)
    try:
        for line in proc.stdout:  # the second case is under way once its line appears and its servers run
            if "origin-stalled: origin-stall" in line:
                break
        (run_dir,) = list(Path(settings.results_dir).iterdir())
        wait_for(lambda: len(ours(client, run_dir.name)) >= 2, 60, "the case's containers")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert [r["case"] for r in read_jsonl(run_dir / FAULTS_FILE)] == ["origin-killed"]
    assert ours(client, run_dir.name) == []
    assert not any(p.name.startswith(run_dir.name) for p in settings.runtime_dir.iterdir())


def ours(client: Any, run_id: str) -> list[str]:
    """Containers of a faults run (labelled ``<run-id>-<case>``). Sparse: no inspect of each
    container, which fails when another run's container goes away meanwhile (a shared engine)."""
    return [c.id for c in client.containers.list(all=True, sparse=True, filters={"label": LABEL_RUN})
            if (c.attrs.get("Labels") or {}).get(LABEL_RUN, "").startswith(run_id)]
