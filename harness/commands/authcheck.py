"""``auth-check``: run an auth matrix, print the verdict table, write JUnit XML and results/<run-id>/."""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.authcheck.matrix import load_matrix
from harness.authcheck.outcome import CaseResult
from harness.authcheck.runner import AuthCheck, AuthCheckOutcome, AuthEvents
from harness.commands import shipped
from harness.errors import CheckFailed
from harness.settings import Settings

COLUMNS = ("case", "route", "config", "proto", "op", "credential", "path", "expected", "actual", "verdict")
VERDICT_STYLE = {"pass": "✓", "fail": "[red]✗ unexpected[/]", "error": "[red]✗ error[/]",
                 "xfail": "[yellow]xfail[/]", "xpass": "[red]✗ xpass[/]"}


def default_matrix() -> Path:
    return shipped("auth-matrix.yaml", "default auth matrix")


def run_auth_check(path: Path, backend: str, settings: Settings, console: Console, junit: Path | None,
                   xrootd: str | None = None) -> None:
    """Validate, run, report; raise CheckFailed if any case did not end as expected."""
    matrix = load_matrix(path)
    check = AuthCheck(matrix, settings, backend, _progress(console), source=str(path), xrootd=xrootd)
    outcome = check.run()
    console.print(result_table(outcome))
    console.print(_summary(outcome))
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(outcome.junit)
        console.print(f"junit: {junit}")
    console.print(f"results: {outcome.path}")
    bad = outcome.unexpected
    if bad:
        names = ", ".join(f"{r.case.id} ({r.actual}, expected {r.case.expected})" for r in bad)
        raise CheckFailed(f"{len(bad)} case(s) did not end as expected: {names}")


def result_table(outcome: AuthCheckOutcome) -> Table:
    rows = [_row(r) for r in outcome.results]
    table = Table(title=f"auth-check on XRootD {outcome.version} ({outcome.backend} backend)", title_justify="left",
                  box=box.SIMPLE, pad_edge=False)
    for i, column in enumerate(COLUMNS):
        width = max([len(column), *(len(Text.from_markup(row[i]).plain) for row in rows)])
        table.add_column(column, no_wrap=True, min_width=width)
    table.add_column("name", no_wrap=True, overflow="ellipsis")
    for row, result in zip(rows, outcome.results, strict=True):
        table.add_row(*row, result.case.name)
    return table


def _row(r: CaseResult) -> list[str]:
    c = r.case
    return [c.id, c.route, r.config if r.server != "origin" else "-", c.protocol, c.operation, c.credential, c.path,
            c.expected, r.actual, VERDICT_STYLE[r.judgement.verdict]]


def _summary(outcome: AuthCheckOutcome) -> str:
    counts = ", ".join(f"{outcome.count(v)} {v}" for v in ("pass", "xfail", "fail", "xpass", "error")
                       if outcome.count(v) or v == "pass")
    return f"{len(outcome.results)} cases in {outcome.duration_s:.0f} s: {counts}"


def _progress(console: Console) -> AuthEvents:
    events = AuthEvents()
    events.step.add(lambda e: console.print(f"  {e.text} …"))
    events.case_done.add(lambda r: _case_line(console, r))
    return events


def _case_line(console: Console, result: CaseResult) -> None:
    if not result.judgement.ok:
        console.print(f"    [red]{result.case.id}[/] {result.judgement.reason}: {result.detail}", markup=True,
                      highlight=False)
