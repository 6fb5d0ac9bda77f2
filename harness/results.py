"""The run directory: one place that knows the layout, versioned files, atomic writes.

``results/<run-id>/``: run.json (what ran, where, with what: schema_version first),
ops.jsonl (one raw record per read operation, appended as they happen), truth.jsonl,
summary.json, configs/, logs/. A run that is interrupted still leaves run.json with
``status: interrupted`` and every operation that finished.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import IO, Any

RESULTS_SCHEMA = 1
RUN_FILE, OPS_FILE, TRUTH_FILE, SUMMARY_FILE = "run.json", "ops.jsonl", "truth.jsonl", "summary.json"


def new_run_id(scenario: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{scenario}-{secrets.token_hex(2)}"


def write_json_atomic(path: Path, document: Any) -> None:
    """Write JSON so that readers only ever see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        json.dump(document, tmp, indent=2, sort_keys=False, default=str)
        tmp.write("\n")
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


def read_run(path: Path) -> dict[str, Any]:
    """Load run.json of a run directory, upgrading older schema versions in memory."""
    document: dict[str, Any] = json.loads((path / RUN_FILE).read_text())
    version = document.get("schema_version")
    if version != RESULTS_SCHEMA:
        raise ValueError(f"{path / RUN_FILE}: results schema {version} is not supported (this is {RESULTS_SCHEMA})")
    return document


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
