"""doctor on the real host: every facility is reported."""

from __future__ import annotations

import pytest

from harness.cli import main


def test_doctor_reports_every_facility(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["doctor"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for facility in ("local backend (xrootd)", "docker images 5.5.3", "link shaping"):
        assert facility in out
