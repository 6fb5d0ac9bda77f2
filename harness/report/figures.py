"""The report's plots, drawn with matplotlib as SVG text that the HTML page embeds inline (no files, no network).

Figures are built on ``matplotlib.figure.Figure`` directly, never pyplot: no global state, no GUI backend.
Text stays text in the SVG, so titles can be searched and checked in the page.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from harness.report.model import Phase, Run
from harness.report.ratios import Ratio, ratios

CDF_POINTS = 500


@dataclass(frozen=True)
class Plot:
    title: str
    svg: str


def plots(run: Run) -> list[Plot]:
    """Every plot the run's data allows, in reading order."""
    drawers: list[tuple[str, Callable[[Axes], bool]]] = [
        ("Throughput per phase and site", lambda ax: _throughput(ax, run.phases)),
        ("Latency CDF (open to close)", lambda ax: _cdf(ax, run.phases, lambda p: _latencies(p), "latency ms")),
        ("Time to first byte CDF", lambda ax: _cdf(ax, run.phases, lambda p: _ttfbs(p), "time to first byte ms")),
        ("Origin vs cache bytes", lambda ax: _bytes(ax, run.phases)),
        ("Ratios", lambda ax: _ratios(ax, ratios(run.phases))),
    ]
    return [plot for title, draw in drawers if (plot := _render(title, draw))]


def _render(title: str, draw: Callable[[Axes], bool]) -> Plot | None:
    # Text stays text (searchable titles); a fixed hash salt keeps ids stable from one rendering to the next.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "xcache-harness", "font.size": 9}):
        figure = Figure(figsize=(7, 3.4), layout="constrained")
        axes = figure.add_subplot()
        if not draw(axes):
            return None
        axes.set_title(title)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return Plot(title, text[text.index("<svg"):].strip())  # inline SVG: no XML declaration, no DOCTYPE


def _throughput(ax: Axes, phases: list[Phase]) -> bool:
    sites = sorted({site for p in phases for site in p.stats.sites})
    width = 0.8 / max(len(sites), 1)
    for i, site in enumerate(sites):
        rows = [(n, p.stats.sites[site]) for n, p in enumerate(phases) if site in p.stats.sites]
        spans = [_span(s.mb_per_s_spread, s.mb_per_s) for _, s in rows]
        ax.bar([n + i * width for n, _ in rows], [s.mb_per_s for _, s in rows], width, label=site,
               yerr=list(zip(*spans, strict=True)) if spans else None, capsize=3)
    ax.set_xticks([n + width * (len(sites) - 1) / 2 for n in range(len(phases))], [p.name for p in phases])
    ax.set_ylabel("MB/s (error bars: min-max over repetitions)")
    ax.legend(title="client site", fontsize="small")
    return bool(sites)


def _span(spread: dict[str, float] | None, value: float) -> tuple[float, float]:
    return (max(value - spread["min"], 0.0), max(spread["max"] - value, 0.0)) if spread else (0.0, 0.0)


def _cdf(ax: Axes, phases: list[Phase], values: Callable[[Phase], list[float]], label: str) -> bool:
    drawn = False
    for phase in phases:
        ordered = sorted(values(phase))
        if ordered:
            # At most CDF_POINTS steps: the page stays small for runs of many thousand operations.
            ranks = sorted({round(i * (len(ordered) - 1) / (CDF_POINTS - 1)) for i in range(CDF_POINTS)})
            fractions = [0.0] + [(r + 1) / len(ordered) for r in ranks]
            ax.step([ordered[0]] + [ordered[r] for r in ranks], fractions, where="post", label=phase.name)
            drawn = True
    ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("fraction of operations")
    if drawn:
        ax.legend(fontsize="small")
    return drawn


def _latencies(phase: Phase) -> list[float]:
    return [op.duration_s * 1000 for op in phase.ops if op.error is None and op.duration_s > 0]


def _ttfbs(phase: Phase) -> list[float]:
    return [op.ttfb_s * 1000 for op in phase.ops if op.error is None and op.ttfb_s]


def _bytes(ax: Axes, phases: list[Phase]) -> bool:
    known = [p for p in phases if isinstance(p.truth.get("origin_bytes"), int | float)]
    origin = [p.truth["origin_bytes"] / 1e6 for p in known]
    served = [max(p.stats.bytes / 1e6 - o, 0.0) for p, o in zip(known, origin, strict=True)]
    names = [p.name for p in known]
    ax.bar(names, origin, label="from the origin")
    ax.bar(names, served, bottom=origin, label="not from the origin (cache)")
    ax.set_ylabel("MB")
    ax.legend(fontsize="small")
    return bool(known)


def _ratios(ax: Axes, found: list[Ratio]) -> bool:
    labels = [f"{r.name}\n({r.protocol})" for r in found]
    ax.bar(labels, [r.value for r in found])
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_ylabel("ratio (overhead: fraction)")
    return bool(found)
