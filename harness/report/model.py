"""A run as reports see it, rebuilt from the raw files: ops.jsonl, truth.jsonl and run.json.

summary.json, when present, only contributes what the raw files lack (a phase's kind, protocol and
endpoint as the runner resolved them); every figure is computed again from the operations, so a
report can trim warm-up or use a newer statistic than the run that wrote the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UserError
from harness.measure import NO_WARMUP, OpRecord, PhaseStats, Warmup, as_repetitions, group, phase_stats
from harness.report.settings import differing, run_settings
from harness.results import RunFiles, read_results


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
    return load_runs([path], warmup)


def load_runs(paths: list[Path], warmup: Warmup = NO_WARMUP) -> Run:
    """One run, or repeated runs with identical settings merged: each run's repetitions stay distinct,
    so figures cover all of them and ``mb_per_s_spread`` shows how much they vary."""
    runs = [read_results(path) for path in paths]
    _same_settings(runs)
    first = runs[0]
    described = _described_phases(first.run, first.summary)
    by_phase = group(as_repetitions(files.records() for files in runs), lambda op: op.phase)
    truth = merged_truth([files.truth for files in runs])
    names = list(described) + [name for name in by_phase if name not in described]
    phases = [_phase(name, described.get(name, {}), by_phase.get(name, []), truth.get(name, {}), warmup)
              for name in names if name in by_phase or name in truth]
    run_id = str(first.run.get("run_id", paths[0].name))
    if len(runs) == 1:
        return Run(run_id, paths[0], first.run, phases)
    merged = [str(files.run.get("run_id")) for files in runs]
    return Run(f"{run_id} + {len(runs) - 1} more", paths[0], {**first.run, "merged_runs": merged}, phases)


def merged_truth(runs: list[list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per phase, the truth of several runs: bytes add up, a verdict holds only if it held in every run."""
    merged: dict[str, dict[str, Any]] = {}
    for records in runs:
        for record in records:
            merged[record["phase"]] = _add_truth(merged.get(record["phase"]), record)
    return merged


def _add_truth(total: dict[str, Any] | None, record: dict[str, Any]) -> dict[str, Any]:
    if total is None:
        return dict(record)
    out = dict(total)
    for key in ("bytes_read", "origin_bytes"):
        both = (total.get(key), record.get(key))
        out[key] = sum(both) if all(isinstance(v, int | float) for v in both) else None
    if out["bytes_read"] and out["origin_bytes"] is not None:
        out["origin_fraction"] = out["origin_bytes"] / out["bytes_read"]
    verdicts = (total.get("meets_expectation"), record.get("meets_expectation"))
    out["meets_expectation"] = False if False in verdicts else None if None in verdicts else True
    out["note"] = "merged over runs"
    return out


def _same_settings(runs: list[RunFiles]) -> None:
    """Merging runs whose settings differ would blur exactly what a reader wants to see: refuse."""
    first = run_settings(runs[0].run)
    for files in runs[1:]:
        differ = [key for key, _, _ in differing(first, run_settings(files.run))]
        if differ:
            raise UserError(f"{files.path}: cannot merge with {runs[0].path}: settings differ ({', '.join(differ)})")


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
