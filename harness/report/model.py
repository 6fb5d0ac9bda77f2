"""A run as reports see it, rebuilt from the raw files: ops.jsonl, truth.jsonl and run.json.

summary.json, when present, only contributes what the raw files lack (a phase's kind, protocol and
endpoint as the runner resolved them); every figure is computed again from the operations, so a
report can trim warm-up or use a newer statistic than the run that wrote the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.measure import NO_WARMUP, OpRecord, PhaseStats, Warmup, group, phase_stats
from harness.results import read_results


@dataclass(frozen=True)
class Phase:
    """One phase: what it was (kind, protocol, endpoint), its operations, figures and truth."""

    name: str
    kind: str  # direct | direct-remote | direct-near | cache-cold | cache-warm | partial-warm | ?
    protocol: str  # root | https
    endpoint: str
    ops: list[OpRecord]
    stats: PhaseStats
    truth: dict[str, Any]


@dataclass(frozen=True)
class Run:
    run_id: str
    path: Path
    meta: dict[str, Any]  # run.json, upgraded
    phases: list[Phase]

    @property
    def status(self) -> str:
        return str(self.meta.get("status", "?"))


def load_run(path: Path, warmup: Warmup = NO_WARMUP) -> Run:
    """Read a run directory (any schema version) and compute every phase's figures from its operations."""
    files = read_results(path)
    described = _described_phases(files.run, files.summary)
    by_phase = group(files.records(), lambda op: op.phase)
    truth = {t["phase"]: t for t in files.truth}
    names = list(described) + [name for name in by_phase if name not in described]
    phases = [_phase(name, described.get(name, {}), by_phase.get(name, []), truth.get(name, {}), warmup)
              for name in names if name in by_phase or name in truth]
    return Run(str(files.run.get("run_id", path.name)), path, files.run, phases)


def _phase(name: str, about: dict[str, Any], ops: list[OpRecord], truth: dict[str, Any], warmup: Warmup) -> Phase:
    return Phase(name, str(about.get("kind", "?")), str(about.get("protocol") or "root"),
                 str(about.get("endpoint", ops[0].url if ops else "")), ops, phase_stats(name, ops, warmup), truth)


def _described_phases(run: dict[str, Any], summary: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Phase name → what is known about it, in scenario order: the scenario first, then summary.json."""
    described: dict[str, dict[str, Any]] = {}
    for spec in run.get("scenario", {}).get("phases", []):
        name = spec.get("name") or spec.get("kind")
        described[name] = {k: v for k, v in spec.items() if v is not None}
    for entry in (summary or {}).get("phases", []):
        described.setdefault(entry["phase"], {}).update({k: v for k, v in entry.items() if k not in ("stats",)})
    return described
