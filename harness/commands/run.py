"""``run`` and ``demo``: run a scenario with live progress, then print the phase table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.commands import shipped
from harness.errors import CheckFailed
from harness.events import Events, OpDone, RunStopped
from harness.report.text import phase_table
from harness.runner import Runner
from harness.settings import Settings
from harness.spec import load_scenario


def default_scenario() -> Path:
    return shipped("smoke.yaml", "default scenario")


def run_scenario(path: Path, backend: str, settings: Settings, console: Console, xrootd: str | None = None,
                 scale: str | None = None) -> None:
    """Validate, run, report; raise CheckFailed if a phase missed its expectation."""
    scenario = load_scenario(path)
    runner = Runner(scenario, settings, backend, _progress(console), source=str(path), xrootd=xrootd, scale=scale)
    outcome = runner.run()
    console.print(phase_table(outcome.summary))
    console.print(f"results: {outcome.path}")
    missed = [p["phase"] for p in outcome.phases if p["truth"]["meets_expectation"] is False]
    if missed:
        raise CheckFailed(f"phases missed their cache expectation: {', '.join(missed)} (see {outcome.path})")


def _progress(console: Console) -> Events:
    events = Events()
    events.run_started.add(lambda e: console.print(f"[bold]run {e.run_id}[/] → {e.path}"))
    events.step.add(lambda e: console.print(f"  {e.text} …"))
    events.phase_started.add(lambda e: console.print(f"[cyan]▶ {e.phase}[/] {e.endpoint} ({e.files} files)"))
    events.op_done.add(lambda e: _op_line(console, e))
    events.phase_done.add(lambda e: console.print(f"  {e.phase}: {e.stats.mb_per_s:.0f} MB/s, "
                                                  f"{e.truth['note']}"))
    events.run_stopped.add(lambda e: _stopped(console, e))
    return events


def _stopped(console: Console, event: RunStopped) -> None:
    if event.status != "complete":
        console.print(f"run {event.status}: partial results in {event.path}")


def _op_line(console: Console, event: OpDone) -> None:
    r = event.record
    rate = r.bytes / r.duration_s / 1e6 if r.duration_s else 0.0
    state = "[red]FAILED[/]" if r.error else ("ok" if r.verified else "unverified")
    console.print(f"    {r.path}  {r.bytes / 1e6:.1f} MB  {rate:.0f} MB/s  {state}", highlight=False)

