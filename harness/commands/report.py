"""``report``, ``compare`` and ``export``: everything rebuilt offline from a run directory's raw files."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console

from harness.errors import UserError
from harness.measure import Warmup
from harness.report.compare import figures_table, only_in_one, ratios_table, settings_table
from harness.report.export import export_json, export_openmetrics
from harness.report.html import report_html
from harness.report.markdown import summary_markdown
from harness.report.model import load_run, load_runs
from harness.results import write_text_atomic

EXPORTS = {"json": export_json, "openmetrics": export_openmetrics}


def warmup(ops: int, seconds: float) -> Warmup:
    try:
        return Warmup(ops, seconds)
    except ValueError as exc:
        raise UserError(f"--warmup-ops/--warmup-s: {exc}") from None


def write_report(run_dirs: list[Path], out: Path | None, trim: Warmup, console: Console) -> None:
    """report.html and summary.md into OUT (default: the run directory; several runs need OUT)."""
    if out is None and len(run_dirs) > 1:
        raise UserError("--out: needed when several runs are merged into one report")
    began = time.perf_counter()
    run = load_runs(run_dirs, trim)
    target = out or run_dirs[0]
    write_text_atomic(target / "report.html", report_html(run))
    write_text_atomic(target / "summary.md", summary_markdown(run))
    console.print(f"report: {target / 'report.html'} and {target / 'summary.md'} "
                  f"({len(run.phases)} phases, {time.perf_counter() - began:.1f} s)")


def compare(a_dir: Path, b_dir: Path, trim: Warmup, console: Console) -> None:
    a, b = load_run(a_dir, trim), load_run(b_dir, trim)
    console.print(f"A = {a.run_id} ({a.status})\nB = {b.run_id} ({b.status})")
    console.print(figures_table(a, b))
    console.print(ratios_table(a, b))
    console.print(settings_table(a, b))
    for note in only_in_one(a, b):
        console.print(note)


def export(run_dir: Path, fmt: str, out: Path | None, trim: Warmup) -> None:
    """The run's figures as JSON or OpenMetrics text, to OUT or stdout."""
    text = EXPORTS[fmt](load_run(run_dir, trim))
    if out is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(out, text)
