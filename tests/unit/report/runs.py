"""Run directories written by hand, with figures chosen so every expected value is easy to compute."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.measure import OpRecord
from harness.results import RESULTS_SCHEMA, write_json_atomic

# phase name → (kind, protocol, MB/s): one 100 MB read per phase, taking 100 / MB/s seconds.
PHASES = {
    "remote": ("direct-remote", "root", 100.0),
    "near": ("direct-near", "root", 400.0),
    "cold": ("cache-cold", "root", 50.0),
    "warm": ("cache-warm", "root", 200.0),
    "warm-https": ("cache-warm", "https", 80.0),
}
MB = 1_000_000


def write_run(root: Path, run_id: str, blocksize: int = 1024**2, scale: float = 1.0,
              phases: dict[str, tuple[str, str, float]] = PHASES) -> Path:
    """A complete run: run.json (scenario phases carry kind and protocol), ops.jsonl, truth.jsonl; no summary.json."""
    path = root / run_id
    path.mkdir(parents=True)
    write_json_atomic(path / "run.json", _run_json(run_id, blocksize, phases))
    start = 1000.0
    with (path / "ops.jsonl").open("w") as ops, (path / "truth.jsonl").open("w") as truth:
        for name, (kind, protocol, rate) in phases.items():
            duration = 100 / (rate * scale)
            record = OpRecord(name, "client", f"{protocol}://h:1", "/f", "full", start, 0.001, 0.002, duration,
                              100 * MB, 13, True, site="near-site", reader="xroot" if protocol == "root" else "https")
            ops.write(json.dumps(record.to_dict()) + "\n")
            origin = 0 if kind == "cache-warm" else 100 * MB
            truth.write(json.dumps({"phase": name, "expectation": "hit" if kind == "cache-warm" else "miss",
                                    "bytes_read": 100 * MB, "origin_bytes": origin,
                                    "origin_fraction": origin / (100 * MB), "meets_expectation": True}) + "\n")
            start += duration + 10
    return path


def _run_json(run_id: str, blocksize: int, phases: dict[str, tuple[str, str, float]]) -> dict[str, Any]:
    return {
        "schema_version": RESULTS_SCHEMA, "run_id": run_id, "status": "complete", "backend": "local",
        "scenario_file": "scenarios/two-site.yaml",
        "software": {"xcache-harness": "0.1.0", "xrootd-python": "5.8.1", "xrootd-server": "5.8.1"},
        "host": {"hostname": "testhost"},
        "topology": {"origin": {"role": "origin", "endpoint": "root://h:1", "cache_settings": None},
                     "xcache": {"role": "cache", "endpoint": "root://h:2",
                                "cache_settings": {"blocksize": blocksize, "prefetch": 0}}},
        "scenario": {"name": "two-site", "workload": {"pattern": "full", "request_size": 8 * 1024**2},
                     "phases": [{"name": n, "kind": k, "protocol": p} for n, (k, p, _) in phases.items()]},
    }
