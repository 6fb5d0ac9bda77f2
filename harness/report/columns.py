"""The figures every report shows per phase, defined once: Markdown, HTML, compare and exports share them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.report.model import Phase


@dataclass(frozen=True)
class Column:
    """One figure of a phase: its label, a metric name for exports, how to get it, how to print it."""

    label: str
    metric: str  # OpenMetrics name without the xcache_harness_ prefix, in base units
    value: Callable[[Phase], float | None]
    fmt: str
    higher_is_better: bool | None = None  # for compare: None = neither
    metric_scale: float = 1.0  # figure → metric in base units (bytes, seconds), as OpenMetrics wants


def _stat(name: str, scale: float = 1.0) -> Callable[[Phase], float | None]:
    def get(phase: Phase) -> float | None:
        value = getattr(phase.stats, name)
        return value * scale if isinstance(value, int | float) else None
    return get


def _truth(name: str, scale: float = 1.0) -> Callable[[Phase], float | None]:
    def get(phase: Phase) -> float | None:
        value: Any = phase.truth.get(name)
        return value * scale if isinstance(value, int | float) and not isinstance(value, bool) else None
    return get


FIGURES = (  # label, metric in base units, value, format, higher is better, metric = value x scale
    Column("MB/s", "throughput_bytes_per_second", _stat("mb_per_s"), "{:.1f}", True, 1e6),
    Column("ops/s", "operations_per_second", _stat("ops_per_s"), "{:.1f}", True),
    Column("TTFB p50 ms", "ttfb_p50_seconds", _stat("ttfb_median_ms"), "{:.2f}", False, 1e-3),
    Column("TTFB p90 ms", "ttfb_p90_seconds", _stat("ttfb_p90_ms"), "{:.2f}", False, 1e-3),
    Column("latency p50 ms", "latency_p50_seconds", _stat("latency_p50_ms"), "{:.1f}", False, 1e-3),
    Column("latency p90 ms", "latency_p90_seconds", _stat("latency_p90_ms"), "{:.1f}", False, 1e-3),
    Column("latency p99 ms", "latency_p99_seconds", _stat("latency_p99_ms"), "{:.1f}", False, 1e-3),
    Column("latency max ms", "latency_max_seconds", _stat("latency_max_ms"), "{:.1f}", False, 1e-3),
    Column("operations", "operations", _stat("ops"), "{:.0f}"),
    Column("errors", "errors", _stat("errors"), "{:.0f}", False),
    Column("read MB", "read_bytes", _stat("bytes", 1e-6), "{:.1f}", None, 1e6),
    Column("origin MB", "origin_bytes", _truth("origin_bytes", 1e-6), "{:.1f}", None, 1e6),
    Column("origin/read", "origin_read_ratio", _truth("origin_fraction"), "{:.1%}"),
)


def show(figure: Column, phase: Phase) -> str:
    value = figure.value(phase)
    return "-" if value is None else figure.fmt.format(value)


def spread_text(phase: Phase) -> str:
    """MB/s over repetitions as ``min-max (n)``; "-" for a single repetition."""
    spread = phase.stats.mb_per_s_spread
    if not spread or spread["n"] < 2:
        return "-"
    return f"{spread['min']:.0f}-{spread['max']:.0f} (n={spread['n']:.0f})"
