"""Exports of a run's figures: JSON (everything, for notebooks) and OpenMetrics text (for Prometheus tools).

OpenMetrics: one gauge family per figure, named ``xcache_harness_<figure>`` in base units (bytes, seconds),
labelled ``run``, ``phase``, ``site`` and ``protocol``. ``site="all"`` is the phase with every client site
merged (do not add it to the per-site series); truth figures (origin bytes) exist only for ``site="all"``.
Ratios are ``xcache_harness_ratio{ratio=…, protocol=…, phase=<numerator>/<denominator>}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

from harness.report.columns import FIGURES, Column
from harness.report.model import Run
from harness.report.ratios import ratios
from harness.report.settings import run_settings
from harness.results import RESULTS_SCHEMA

PREFIX = "xcache_harness_"


def export_json(run: Run) -> str:
    document = {
        "schema_version": RESULTS_SCHEMA, "run_id": run.run_id, "status": run.status,
        "settings": run_settings(run.meta),
        "phases": [{"phase": p.name, "kind": p.kind, "protocol": p.protocol, "endpoint": p.endpoint,
                    "stats": p.stats.to_dict(), "truth": p.truth} for p in run.phases],
        "ratios": [r.to_dict() for r in ratios(run.phases)],
    }
    return json.dumps(document, indent=2) + "\n"


def export_openmetrics(run: Run) -> str:
    lines: list[str] = []
    for figure in FIGURES:
        samples = list(_samples(run, figure))
        if samples:
            lines += [f"# TYPE {PREFIX}{figure.metric} gauge", f"# HELP {PREFIX}{figure.metric} {figure.label}"]
            lines += samples
    found = ratios(run.phases)
    if found:
        lines += [f"# TYPE {PREFIX}ratio gauge", f"# HELP {PREFIX}ratio ratios between phases (see the report)"]
        lines += [_sample("ratio", {"run": run.run_id, "ratio": r.name, "protocol": r.protocol,
                                    "phase": f"{r.numerator}/{r.denominator}"}, r.value) for r in found]
    return "\n".join([*lines, "# EOF"]) + "\n"


def _samples(run: Run, figure: Column) -> Iterator[str]:
    for phase in run.phases:
        views = [("all", phase)] + [(site, replace(phase, stats=s, truth={})) for site, s in phase.stats.sites.items()]
        for site, view in views:
            value = figure.value(view)
            if value is not None:
                labels = {"run": run.run_id, "phase": phase.name, "site": site, "protocol": phase.protocol}
                yield _sample(figure.metric, labels, value * figure.metric_scale)


def _sample(metric: str, labels: dict[str, str], value: float) -> str:
    text = ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())
    return f"{PREFIX}{metric}{{{text}}} {value!r}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
