"""The phase table a person reads at the end of a run (and ``report`` rebuilds offline)."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def phase_table(summary: dict[str, Any]) -> Table:
    """One row per phase: speed, latency, and what each truth source says about hits."""
    table = Table(title=f"run {summary.get('run_id', '?')}  [{summary.get('status', '?')}]")
    for column in ("phase", "MB/s", "TTFB ms", "read MB", "origin MB", "origin/read",
                   "g-stream hits", "cinfo hits", "verdict"):
        table.add_column(column, justify="left" if column in ("phase", "verdict") else "right")
    for phase in summary.get("phases", []):
        table.add_row(*_row(phase))
    return table


def _row(phase: dict[str, Any]) -> list[str]:
    stats, truth = phase["stats"], phase["truth"]
    return [
        phase["phase"],
        f"{stats['mb_per_s']:.0f}",
        _num(stats.get("ttfb_median_ms"), "{:.1f}"),
        f"{stats['bytes'] / 1e6:.1f}",
        _num(_mb(truth.get("origin_bytes")), "{:.1f}"),
        _num(truth.get("origin_fraction"), "{:.1%}"),
        _hits(truth.get("gstream")),
        _hits(truth.get("cinfo")),
        _verdict(truth),
    ]


def _verdict(truth: dict[str, Any]) -> str:
    expectation, meets, agree = truth["expectation"], truth.get("meets_expectation"), truth.get("agree")
    head = f"[green]{expectation} ✓[/]" if meets is True else f"[red]{expectation} ✗[/]" if meets is False \
        else f"{expectation} ?"
    tail = "sources agree" if agree is True else "[yellow]sources disagree[/]" if agree is False else ""
    return f"{head} {tail}".strip()


def _hits(counts: dict[str, Any] | None) -> str:
    if not counts:
        return "-"
    total = counts["b_hit"] + counts["b_miss"] + counts["b_bypass"]
    return f"{counts['b_hit'] / total:.0%}" if total else "-"


def _mb(value: Any) -> float | None:
    return value / 1e6 if isinstance(value, int | float) else None


def _num(value: Any, fmt: str) -> str:
    return fmt.format(value) if isinstance(value, int | float) else "-"
