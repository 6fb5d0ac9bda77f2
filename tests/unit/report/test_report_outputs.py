"""What report, compare and export write, checked on hand-made runs (the e2e test renders real ones)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from rich.console import Console

from harness.cli import main
from harness.report.compare import changes, figures_table, ratios_table, settings_table
from harness.report.export import export_json, export_openmetrics
from harness.report.html import report_html
from harness.report.model import load_run

from .runs import write_run

TITLES = ("Throughput per phase and site", "Latency CDF (open to close)", "Time to first byte CDF",
          "Origin vs cache bytes", "Ratios")


def test_html_embeds_every_plot_as_inline_svg_and_fetches_nothing(tmp_path: Path) -> None:
    page = report_html(load_run(write_run(tmp_path, "r")))
    assert re.findall(r'data-title="([^"]+)"><svg', page) == list(TITLES)
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    # No scripts, stylesheets or images from anywhere: the page renders offline (url(#…) is inside the page).
    assert not re.search(r'<script|<link|<img|src=|url\((?!#)|href="(?!#)', page)


def test_openmetrics_parses_and_carries_the_labels(tmp_path: Path) -> None:
    text = export_openmetrics(load_run(write_run(tmp_path, "r")))
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert all(name.startswith("xcache_harness_") for name in families)
    rates = {(s.labels["phase"], s.labels["site"], s.labels["protocol"]): s.value
             for s in families["xcache_harness_throughput_bytes_per_second"].samples}
    assert rates[("warm", "all", "root")] == pytest.approx(200e6)
    assert rates[("warm-https", "near-site", "https")] == pytest.approx(80e6)
    ratio = {s.labels["ratio"]: s.value for s in families["xcache_harness_ratio"].samples}
    assert ratio["warm/cold"] == pytest.approx(4.0)


def test_json_export_has_stats_truth_and_ratios(tmp_path: Path) -> None:
    document = json.loads(export_json(load_run(write_run(tmp_path, "r"))))
    warm = next(p for p in document["phases"] if p["phase"] == "warm")
    assert warm["stats"]["mb_per_s"] == pytest.approx(200) and warm["truth"]["origin_bytes"] == 0
    assert {r["name"] for r in document["ratios"]} == {"warm/remote", "warm/cold", "cache overhead"}


def test_compare_shows_changed_figures_and_settings(tmp_path: Path) -> None:
    a = load_run(write_run(tmp_path, "a"))
    b = load_run(write_run(tmp_path, "b", blocksize=4 * 1024**2, scale=1.5))
    mb = [c for c in changes(a, b) if c.figure.label == "MB/s"]
    assert [c.relative for c in mb] == pytest.approx([0.5] * 5)
    console = Console(width=200, record=True)
    console.print(figures_table(a, b))
    console.print(settings_table(a, b))
    console.print(ratios_table(a, b))
    text = console.export_text()
    assert re.search(r"warm\s+│ MB/s\s+│\s+200\.0 │\s+300\.0 │\s+\+50\.0%", text)
    assert re.search(r"pfc\.blocksize \(xcache\)\s+│ 1 MiB\s+│ 4 MiB", text)
    assert re.search(r"warm/cold\s+│ root\s+│\s+4\.00x │\s+4\.00x", text)  # both phases 1.5x faster
    assert settings_table(a, a) == "settings: identical (run ids and times aside)"


def test_cli_report_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path, "r")
    with pytest.raises(SystemExit) as done:
        main(["report", str(run), "--out", str(tmp_path / "out"), "--warmup-ops", "0"])
    assert done.value.code == 0
    assert (tmp_path / "out" / "report.html").read_text().count("<svg") == len(TITLES)
    assert "| MB/s |" in (tmp_path / "out" / "summary.md").read_text()
    with pytest.raises(SystemExit) as done:
        main(["export", str(run), "--format", "openmetrics"])
    assert done.value.code == 0 and capsys.readouterr().out.endswith("# EOF\n")


@pytest.mark.parametrize("argv", [["report", "{tmp}"], ["export", "{tmp}/nowhere"],
                                  ["report", "{run}", "--warmup-s", "-1"], ["report", "{run}", "{run}"]])
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    run = write_run(tmp_path, "r")
    with pytest.raises(SystemExit) as done:
        main([arg.format(tmp=tmp_path, run=run) for arg in argv])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
