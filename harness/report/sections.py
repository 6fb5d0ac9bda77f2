"""The tables of a run report as plain rows; ``markdown`` and ``html`` only render them."""

from __future__ import annotations

from dataclasses import dataclass

from harness.report.columns import FIGURES, show, spread_text
from harness.report.model import Run
from harness.report.ratios import format_ratio, ratios
from harness.report.settings import run_settings


@dataclass(frozen=True)
class Section:
    title: str
    header: list[str]
    rows: list[list[str]]


def sections(run: Run) -> list[Section]:
    """Phases side by side, ratios, per-site figures, settings; empty sections are left out."""
    found = [_phases(run), _ratios(run), _sites(run), _settings(run)]
    return [section for section in found if section.rows]


def _phases(run: Run) -> Section:
    rows = [["kind", *(p.kind for p in run.phases)], ["protocol", *(p.protocol for p in run.phases)]]
    rows += [[f.label, *(show(f, p) for p in run.phases)] for f in FIGURES]
    rows.append(["MB/s min-max", *(spread_text(p) for p in run.phases)])
    rows.append(["warm-up ops left out", *(str(p.stats.trimmed) for p in run.phases)])
    rows.append(["verdict", *(_verdict(p.truth) for p in run.phases)])
    return Section("Phases side by side", ["", *(p.name for p in run.phases)], rows if run.phases else [])


def _verdict(truth: dict[str, object]) -> str:
    meets = truth.get("meets_expectation")
    mark = "✓" if meets is True else "✗" if meets is False else "?"
    return f"{truth.get('expectation', '?')} {mark}" if truth else "-"


def _ratios(run: Run) -> Section:
    rows = [[r.name, r.protocol, format_ratio(r), f"{r.numerator} / {r.denominator}"] for r in ratios(run.phases)]
    return Section("Ratios", ["ratio", "protocol", "value", "phases"], rows)


def _sites(run: Run) -> Section:
    rows = [[p.name, site, f"{s.mb_per_s:.1f}", f"{s.ops_per_s:.1f}", _ms(s.ttfb_median_ms), _ms(s.latency_p50_ms),
             _ms(s.latency_p99_ms), str(s.errors)]
            for p in run.phases for site, s in p.stats.sites.items()]
    header = ["phase", "client site", "MB/s", "ops/s", "TTFB p50 ms", "latency p50 ms", "latency p99 ms", "errors"]
    return Section("Per client site", header, rows)


def _settings(run: Run) -> Section:
    return Section("Settings", ["setting", "value"], [[k, v] for k, v in run_settings(run.meta).items()])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
