from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.results import RESULTS_SCHEMA, RunDir, read_jsonl, read_run, write_json_atomic


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "a.json", {"x": 1})
    write_json_atomic(tmp_path / "a.json", {"x": 2})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    with RunDir(tmp_path, "r1") as run:
        run.append("ops.jsonl", {"n": 1})
        run.append("ops.jsonl", {"n": 2})
    with (tmp_path / "r1" / "ops.jsonl").open("a") as f:
        f.write('{"n": 3, "tru')
    assert read_jsonl(tmp_path / "r1" / "ops.jsonl") == [{"n": 1}, {"n": 2}]


def test_run_schema_is_checked(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "run.json", {"schema_version": RESULTS_SCHEMA, "status": "complete"})
    assert read_run(tmp_path)["status"] == "complete"
    write_json_atomic(tmp_path / "run.json", {"schema_version": 99})
    with pytest.raises(SpecError, match="schema 99"):
        read_run(tmp_path)
