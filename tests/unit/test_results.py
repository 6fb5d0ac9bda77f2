from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import SpecError, UserError
from harness.measure import OpRecord
from harness.report.model import load_run
from harness.results import RESULTS_SCHEMA, RunDir, read_jsonl, read_results, read_run, write_json_atomic


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


V1_RUN = Path(__file__).parent / "fixtures" / "results-v1" / "20261125-013213-smoke-1fd6"


def test_v1_run_is_upgraded_in_memory_and_left_untouched_on_disk() -> None:
    before = {p.name: p.read_bytes() for p in V1_RUN.iterdir()}
    files = read_results(V1_RUN)
    assert files.run["schema_version"] == RESULTS_SCHEMA == 2
    assert {(op["site"], op["reader"], op["repetition"]) for op in files.ops} == {("local", "xroot", 0)}
    assert all(p["protocol"] == "root" and p["client_sites"] == ["local"] for p in files.summary["phases"])
    assert [r.site for r in files.records()] == ["local"] * 12
    assert {p.name: p.read_bytes() for p in V1_RUN.iterdir()} == before


def test_v1_run_reports_like_a_current_one() -> None:
    run = load_run(V1_RUN)
    assert [(p.name, p.kind) for p in run.phases] == [("direct-origin", "direct"), ("cache-cold", "cache-cold"),
                                                      ("cache-warm", "cache-warm")]
    # Same figure the run printed at the time (summary.json), now recomputed from ops.jsonl.
    assert run.phases[2].stats.mb_per_s == pytest.approx(983.7, abs=0.1)


def test_fields_from_a_later_version_are_ignored(tmp_path: Path) -> None:
    with RunDir(tmp_path, "r") as run:
        run.write("run.json", {"schema_version": RESULTS_SCHEMA, "status": "complete"})
        run.append("ops.jsonl", {**OpRecord("p", "c", "u", "/f", "full", 0, 0, None, 1, 1, 1, True).to_dict(),
                                 "new_field": 1})
    assert read_results(tmp_path / "r").records()[0].path == "/f"


def test_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a run directory"):
        read_results(tmp_path)
