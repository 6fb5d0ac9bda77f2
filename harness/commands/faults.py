"""``faults``: run fault cases (default ``scenarios/faults.yaml``), print one line per case and a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from harness.commands import shipped
from harness.errors import CheckFailed
from harness.faults.runner import FaultsRunner
from harness.faults.spec import load_faults
from harness.settings import Settings

MARK = {True: "✓", False: "[red]✗[/]"}


def default_faults() -> Path:
    return shipped("faults.yaml", "default faults file")


def run_faults(path: Path, backend: str, settings: Settings, console: Console, xrootd: str | None,
               only: tuple[str, ...]) -> None:
    """Validate, run, report; raise CheckFailed if a case ended otherwise than declared."""
    faults = load_faults(path)
    runner = FaultsRunner(faults, settings, backend, xrootd, str(path), only,
                          on_step=lambda text: console.print(f"  {text} …"),
                          on_case=lambda record: console.print(case_line(record), highlight=False))
    outcome = runner.run()
    console.print(result_table(outcome.records))
    console.print(f"results: {outcome.path}")
    bad = outcome.unexpected
    if bad:
        names = ", ".join(f"{r['case']} ({r['outcome']}, expected {r['expect']}"
                          + "".join(f"; failed: {c}" for c in r.get("failed_checks") or []) + ")" for r in bad)
        raise CheckFailed(f"{len(bad)} fault case(s) did not end as declared: {names}")


def case_line(record: dict[str, Any]) -> str:
    failed = record.get("failed_checks") or []
    extra = f" (failed: {', '.join(failed)})" if failed else ""
    error = f" error: {record['error']}" if record.get("error") else ""
    return f"{MARK[record['ok']]} {record['case']}: {record['outcome']} in {record['seconds']} s{extra}{error}"


def result_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="faults", title_justify="left", box=box.SIMPLE, pad_edge=False)
    for column in ("case", "fault", "expect", "outcome", "s", "bound s", "notes", ""):
        table.add_column(column, no_wrap=column != "notes")
    for r in records:
        notes = ", ".join(f"{k}={v}" for k, v in (r.get("notes") or {}).items())
        table.add_row(r["case"], r["fault"], r["expect"], r["outcome"], f"{r['seconds']}", f"{r['bound_s']:g}",
                      notes, MARK[r["ok"]])
    return table
