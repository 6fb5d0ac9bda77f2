"""The faults file model, the classification of reads, and the command's input errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import SpecError, UserError
from harness.faults.outcome import CaseVerdict, ReadResult, classify
from harness.faults.spec import load_faults

FAULTS = Path(__file__).resolve().parents[3] / "scenarios" / "faults.yaml"
CASE = """\
name: f
cases:
  - name: a
    fault: {fault}
    expect: recovered
{extra}"""


def write(tmp_path: Path, fault: str, extra: str = "") -> Path:
    path = tmp_path / "faults.yaml"
    path.write_text(CASE.format(fault=fault, extra=extra))
    return path


def test_shipped_file_declares_every_fault_and_coalescing_bound() -> None:
    faults = load_faults(FAULTS)
    assert {c.fault for c in faults.cases} == {"origin-kill", "origin-stall", "cache-restart", "disk-fill",
                                               "corrupt-block", "link-cut", "coalescing", "token-expiry"}
    coalescing = next(c for c in faults.cases if c.fault == "coalescing")
    assert coalescing.readers == 16 and coalescing.max_origin_ratio == 1.1
    assert all(c.why for c in faults.cases)


def test_disk_fill_needs_a_disk_named_at_its_case(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_faults(write(tmp_path, "disk-fill"))
    assert (info.value.line, info.value.field) == (3, "cases.0.disk")


def test_a_hold_longer_than_the_bound_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="hold_s"):
        load_faults(write(tmp_path, "origin-stall", "    hold_s: 30\n    bound_s: 20\n"))


def test_unknown_only_names_the_known_cases(tmp_path: Path) -> None:
    faults = load_faults(write(tmp_path, "origin-kill"))
    with pytest.raises(UserError, match=r"no case named zz \(known: a\)"):
        faults.select(("zz",))


@pytest.mark.parametrize(("reads", "outcome"), [
    ([ReadResult("r", 10, 1.0)], "recovered"),
    ([ReadResult("r", 10, 1.0), ReadResult("r", 0, 1.0, error="refused")], "failed-cleanly"),
    ([ReadResult("r", 0, 1.0, error="expired", expired=True), ReadResult("r", 0, 1.0, error="x")], "hung"),
    ([None, ReadResult("r", 10, 1.0)], "hung"),
    ([None, ReadResult("r", 0, 1.0, error="differs", wrong_at=5)], "wrong-data"),
])
def test_the_most_severe_read_decides(reads: list[ReadResult | None], outcome: str) -> None:
    assert classify(reads) == outcome


def test_a_failed_check_fails_a_matching_outcome() -> None:
    verdict = CaseVerdict("recovered", "recovered", {"served warm": False, "other": True})
    assert not verdict.ok and verdict.failed_checks == ["served warm"]


def test_faults_refuse_the_local_backend(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["faults", str(FAULTS), "--backend", "local", "--results", "/tmp/xh-none"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "faults run on the docker backend only" in err and err.count("\n") == 1
