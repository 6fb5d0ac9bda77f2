"""The run directory: one place that knows the layout, versioned files, atomic writes.

``results/<run-id>/``: run.json (what ran, where, with what: schema_version first),
ops.jsonl (one raw record per read operation, appended as they happen), truth.jsonl,
summary.json, configs/, logs/. A run that is interrupted still leaves run.json with
``status: interrupted`` and every operation that finished.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

from harness.errors import SpecError, UserError
from harness.measure import OpRecord

RESULTS_SCHEMA = 2  # history and upgrades: UPGRADES below, results/README.md
RUN_FILE, OPS_FILE, TRUTH_FILE, SUMMARY_FILE = "run.json", "ops.jsonl", "truth.jsonl", "summary.json"


def new_run_id(scenario: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{scenario}-{secrets.token_hex(2)}"


def write_json_atomic(path: Path, document: Any) -> None:
    """Write JSON so that readers only ever see the old or the new file, never half of one."""
    write_text_atomic(path, json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file through a temporary sibling and a rename: the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False,
                                     encoding="utf-8") as tmp:
        tmp.write(text)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)


class RunDir:
    """Writes the files of one run; a context manager that closes the append streams."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.run_id = run_id
        self.path = root / run_id
        self.path.mkdir(parents=True, exist_ok=False)
        self._streams: dict[str, IO[str]] = {}

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in self._streams.values():
            stream.close()

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def configs(self) -> Path:
        return self.path / "configs"

    def write(self, name: str, document: Any) -> None:
        write_json_atomic(self.path / name, document)

    def append(self, name: str, record: dict[str, Any]) -> None:
        """Append one JSON line and flush it: a crash loses at most the line being written."""
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = (self.path / name).open("a", encoding="utf-8")
        stream.write(json.dumps(record, default=str) + "\n")
        stream.flush()

    def save_config(self, name: str, text: str) -> None:
        self.configs.mkdir(exist_ok=True)
        (self.configs / f"{name}.cfg").write_text(text)


@dataclass(frozen=True)
class RunFiles:
    """Every file of a run directory that reports are made from, upgraded to ``RESULTS_SCHEMA``."""

    path: Path
    run: dict[str, Any]
    ops: list[dict[str, Any]]
    truth: list[dict[str, Any]]
    summary: dict[str, Any] | None

    def records(self) -> list[OpRecord]:
        """ops.jsonl as OpRecords; fields a later version added are ignored, not fatal."""
        return [OpRecord(**{k: v for k, v in op.items() if k in OP_FIELDS}) for op in self.ops]


def read_results(path: Path) -> RunFiles:
    """Read a run directory written by this or any older version of the harness."""
    run = read_run_raw(path)
    summary_file = path / SUMMARY_FILE
    files = RunFiles(path, run, read_jsonl(path / OPS_FILE), read_jsonl(path / TRUTH_FILE),
                     json.loads(summary_file.read_text()) if summary_file.exists() else None)
    version = run.get("schema_version")
    while version != RESULTS_SCHEMA:
        assert isinstance(version, int)  # read_run_raw accepts only known versions
        files, version = UPGRADES[version](files), version + 1
    return files


def read_run(path: Path) -> dict[str, Any]:
    """Load run.json of a run directory, upgraded to this version's schema."""
    return read_results(path).run


def read_run_raw(path: Path) -> dict[str, Any]:
    """run.json as written, once its schema version is known to be one this harness can upgrade."""
    if not (path / RUN_FILE).is_file():
        raise UserError(f"{path}: not a run directory (no {RUN_FILE})")
    document: dict[str, Any] = json.loads((path / RUN_FILE).read_text())
    version = document.get("schema_version")
    if version != RESULTS_SCHEMA and version not in UPGRADES:
        raise SpecError(str(path / RUN_FILE), None, "schema_version",
                        f"results schema {version} is not supported (this harness reads 1..{RESULTS_SCHEMA})")
    return document


def _v1_to_v2(files: RunFiles) -> RunFiles:
    """v2 added per-operation site, reader and repetition, and per-phase protocol and client sites.

    v1 runs had one client on the local site reading over root://, so those are the defaults.
    """
    ops = [{"site": "local", "reader": "xroot", "repetition": 0, **op} for op in files.ops]
    summary = copy.deepcopy(files.summary)
    for phase in (summary or {}).get("phases", []):
        phase.setdefault("protocol", "root")
        phase.setdefault("client_sites", ["local"])
    return RunFiles(files.path, {**files.run, "schema_version": 2}, ops, files.truth, summary)


# How to read version k: upgrade it to k + 1, again until RESULTS_SCHEMA. Add one step per version bump.
UPGRADES: dict[int, Callable[[RunFiles], RunFiles]] = {1: _v1_to_v2}
OP_FIELDS = frozenset(f.name for f in fields(OpRecord))
def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines file; a torn last line (interrupted write) is skipped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
