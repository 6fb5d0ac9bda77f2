"""``compare RUN_A RUN_B``: the figures of phases with the same name side by side, and the settings that differ."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from harness.report.columns import FIGURES, Column, show
from harness.report.model import Phase, Run
from harness.report.ratios import format_ratio, ratios
from harness.report.settings import differing, run_settings

NOISE = 0.05  # changes under 5 % are not coloured: run-to-run noise on a shared machine is at least that


@dataclass(frozen=True)
class Change:
    phase: str
    figure: Column
    a: Phase
    b: Phase

    @property
    def relative(self) -> float | None:
        """(B - A) / A; None when either is missing or A is 0."""
        a, b = self.figure.value(self.a), self.figure.value(self.b)
        return (b - a) / a if a is not None and b is not None and a != 0 else None


def changes(a: Run, b: Run) -> list[Change]:
    """Every figure of every phase both runs have, in A's phase order."""
    b_phases = {p.name: p for p in b.phases}
    return [Change(p.name, f, p, b_phases[p.name]) for p in a.phases if p.name in b_phases for f in FIGURES]


def figures_table(a: Run, b: Run) -> Table:
    table = Table(title="figures per phase")
    for column in ("phase", "figure", "A", "B", "change"):
        table.add_column(column, justify="left" if column in ("phase", "figure") else "right")
    previous = None
    for change in changes(a, b):
        phase = change.phase if change.phase != previous else ""
        previous = change.phase
        table.add_row(phase, change.figure.label, show(change.figure, change.a), show(change.figure, change.b),
                      _change(change))
    return table


def ratios_table(a: Run, b: Run) -> Table:
    """Ratios either run has (warm/remote, warm/cold, cache overhead) per protocol, A vs B."""
    in_a = {(r.name, r.protocol): r for r in ratios(a.phases)}
    in_b = {(r.name, r.protocol): r for r in ratios(b.phases)}
    table = Table(title="ratios")
    for column in ("ratio", "protocol", "A", "B"):
        table.add_column(column, justify="left" if column in ("ratio", "protocol") else "right")
    for key in dict.fromkeys([*in_a, *in_b]):
        table.add_row(*key, *(format_ratio(r) if (r := side.get(key)) else "-" for side in (in_a, in_b)))
    return table


def settings_table(a: Run, b: Run) -> Table | str:
    """The settings that differ, or a sentence saying none do (figures then differ by noise alone)."""
    rows = differing(run_settings(a.meta), run_settings(b.meta))
    if not rows:
        return "settings: identical (run ids and times aside)"
    table = Table(title="settings that differ")
    for column in ("setting", "A", "B"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table


def only_in_one(a: Run, b: Run) -> list[str]:
    """Phases that ran in one run only, as notes: they cannot be compared."""
    names_a, names_b = [p.name for p in a.phases], [p.name for p in b.phases]
    return [f"phase {n} only in A" for n in names_a if n not in names_b] + \
           [f"phase {n} only in B" for n in names_b if n not in names_a]


def _change(change: Change) -> str:
    relative = change.relative
    if relative is None:
        return "-"
    text = f"{relative:+.1%}"
    if change.figure.higher_is_better is None or abs(relative) < NOISE:
        return text
    better = (relative > 0) == change.figure.higher_is_better
    return f"[green]{text}[/]" if better else f"[red]{text}[/]"
