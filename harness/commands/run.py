"""``run`` and ``demo``: run a scenario with live progress (``progress``), then print the phase table."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.commands import shipped
from harness.commands.progress import RunProgress
from harness.errors import CheckFailed
from harness.report.model import load_run
from harness.report.ratios import format_ratio, ratios
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
    with RunProgress(console) as progress:
        outcome = Runner(scenario, settings, backend, progress.events, source=str(path), xrootd=xrootd,
                         scale=scale).run()
    console.print(phase_table(outcome.summary))
    found = ratios(load_run(outcome.path).phases)
    if found:
        console.print("ratios: " + ", ".join(f"{r.name} {format_ratio(r)} ({r.protocol})" for r in found))
    console.print(f"results: {outcome.path}")
    missed = [p["phase"] for p in outcome.phases if p["truth"]["meets_expectation"] is False]
    if missed:
        raise CheckFailed(f"phases missed their cache expectation: {', '.join(missed)} (see {outcome.path})")
