from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_bad_scale_is_one_line_exit_2_before_anything_starts(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", str(SCENARIOS / "magic.yaml"), "--scale", "huge", "--results", str(tmp_path)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1
    assert "--scale: 'huge' is not ci, full or a factor" in err
    assert not list(tmp_path.iterdir())  # no run directory: nothing was started


def test_scale_default_in_a_file_is_checked_with_its_line(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text((SCENARIOS / "smoke.yaml").read_text() + "scale:\n  default: huge\n")
    with pytest.raises(SystemExit) as info:
        main(["run", str(path)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"{path}:32: scale.default: 'huge' is not ci, full or a factor" in err
