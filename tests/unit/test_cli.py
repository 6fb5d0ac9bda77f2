from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def test_bad_scenario_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntopology:\n  origins: []\ndataset: {files: []}\nphases: []\n")
    code, out, err = run_cli(capsys, "run", str(bad))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {bad}:3: topology.origins: ")
    assert "Traceback" not in out + err


def test_missing_scenario_and_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "run", "/nonexistent.yaml")[0] == 2
    code, _, err = run_cli(capsys, "run")
    assert code == 2 and "Missing argument" in err
    assert run_cli(capsys, "frobnicate")[0] == 2


def test_unknown_backend_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "smoke.yaml"
    code, _, err = run_cli(capsys, "run", str(scenario), "--backend", "nowhere", "--results", "/tmp/x-h-none")
    assert code == 2 and "unknown backend 'nowhere': choose one of local" in err
