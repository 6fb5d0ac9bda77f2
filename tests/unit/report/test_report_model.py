"""Reports rebuilt from raw files: phases, ratios, side-by-side tables, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UserError
from harness.measure import Warmup
from harness.report.markdown import summary_markdown
from harness.report.model import load_run, load_runs
from harness.report.ratios import ratios
from harness.report.settings import differing, run_settings

from .runs import write_run


def test_figures_come_from_ops_even_without_summary_json(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path, "r"))
    assert [(p.name, p.kind, p.protocol) for p in run.phases][:2] == [("remote", "direct-remote", "root"),
                                                                        ("near", "direct-near", "root")]
    assert {p.name: p.stats.mb_per_s for p in run.phases} == pytest.approx(
        {"remote": 100, "near": 400, "cold": 50, "warm": 200, "warm-https": 80})
    assert run.phases[3].truth["origin_bytes"] == 0


def test_ratios_per_protocol(tmp_path: Path) -> None:
    found = {(r.name, r.protocol): r.value for r in ratios(load_run(write_run(tmp_path, "r")).phases)}
    # warm/remote = 200/100, warm/cold = 200/50, overhead = 400/200 - 1; https has a warm phase only.
    assert found == pytest.approx({("warm/remote", "root"): 2.0, ("warm/cold", "root"): 4.0,
                                   ("cache overhead", "root"): 1.0})


def test_missing_phases_leave_ratios_out_and_direct_stands_in_for_remote(tmp_path: Path) -> None:
    phases = {"d": ("direct", "root", 100.0), "w": ("cache-warm", "root", 300.0)}
    found = ratios(load_run(write_run(tmp_path, "r", phases=phases)).phases)
    assert [(r.name, r.value, r.denominator) for r in found] == [("warm/remote", pytest.approx(3.0), "d")]


def test_markdown_puts_phases_side_by_side(tmp_path: Path) -> None:
    text = summary_markdown(load_run(write_run(tmp_path, "r")))
    assert "|  | remote | near | cold | warm | warm-https |" in text
    assert "| MB/s | 100.0 | 400.0 | 50.0 | 200.0 | 80.0 |" in text
    assert "| cache overhead | root | +100% | near / warm |" in text
    assert "| pfc.blocksize (xcache) | 1 MiB |" in text


def test_settings_that_differ(tmp_path: Path) -> None:
    a = run_settings(load_run(write_run(tmp_path, "a")).meta)
    b = run_settings(load_run(write_run(tmp_path, "b", blocksize=4 * 1024**2)).meta)
    assert differing(a, b) == [("pfc.blocksize (xcache)", "1 MiB", "4 MiB")]


def test_warmup_trimming_reaches_the_report(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path, "r"), Warmup(ops=1))
    assert all(p.stats.trimmed == 1 and p.stats.bytes == 0 for p in run.phases)


def test_repeated_runs_merge_into_one_report_with_their_spread(tmp_path: Path) -> None:
    run = load_runs([write_run(tmp_path, "a"), write_run(tmp_path, "b", scale=2.0)])
    warm = next(p for p in run.phases if p.name == "warm")
    # 100 MB in 0.5 s and 100 MB in 0.25 s: 200 MB / 0.75 s; the runs read at 200 and 400 MB/s.
    assert warm.stats.mb_per_s == pytest.approx(266.67, abs=0.01)
    assert warm.stats.mb_per_s_spread == pytest.approx({"n": 2, "min": 200, "median": 300, "max": 400})
    cold = next(p for p in run.phases if p.name == "cold")
    assert (cold.truth["origin_bytes"], cold.truth["origin_fraction"]) == (200_000_000, 1.0)
    assert run.run_id == "a + 1 more" and run.meta["merged_runs"] == ["a", "b"]


def test_runs_with_different_settings_are_not_merged(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"settings differ \(pfc.blocksize \(xcache\)\)"):
        load_runs([write_run(tmp_path, "a"), write_run(tmp_path, "b", blocksize=4 * 1024**2)])
