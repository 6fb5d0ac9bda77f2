"""report, compare and export on real runs: two smoke runs that differ only in pfc.blocksize (1 MiB vs 4 MiB)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLOTS = ("Throughput per phase and site", "Latency CDF (open to close)", "Time to first byte CDF",
         "Origin vs cache bytes", "Ratios")


def harness(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Two real runs of a 2-file smoke scenario, blocksize 1 MiB and 4 MiB."""
    runtime = Path("/tmp/xcache-harness-tests") / uuid.uuid4().hex[:8]
    runtime.mkdir(parents=True, mode=0o755)
    os.chmod(runtime.parent, 0o755)  # the unprivileged xrootd user must reach its directories
    found = {}
    for blocksize in ("1MiB", "4MiB"):
        scenario = yaml.safe_load((REPO / "scenarios" / "smoke.yaml").read_text())
        scenario["dataset"]["files"][0]["count"] = 2
        scenario["topology"]["caches"][0]["settings"]["blocksize"] = blocksize
        path = tmp_path_factory.mktemp(blocksize) / "smoke2.yaml"
        path.write_text(yaml.safe_dump(scenario))
        results = path.parent / "results"
        harness("run", str(path), "--results", str(results), env={"HARNESS_RUNTIME_DIR": str(runtime)})
        (found[blocksize],) = results.iterdir()
    yield found
    shutil.rmtree(runtime, ignore_errors=True)


def test_compare_names_blocksize_and_shows_the_changed_figures(runs: dict[str, Path]) -> None:
    out = harness("compare", str(runs["1MiB"]), str(runs["4MiB"])).stdout
    assert re.search(r"pfc\.blocksize \(xcache\)\s+│ 1 MiB\s+│ 4 MiB", out), out
    a, b = (_rates(runs[key]) for key in ("1MiB", "4MiB"))
    for phase in ("direct-origin", "cache-cold", "cache-warm"):
        change = f"{(b[phase] - a[phase]) / a[phase]:+.1%}"
        row = rf"{phase}\s+│ MB/s\s+│\s+{a[phase]:.1f} │\s+{b[phase]:.1f} │\s+{re.escape(change)}"
        assert re.search(row, out), out


def _rates(run: Path) -> dict[str, float]:
    """MB/s per phase as the run itself wrote them (compare recomputes them from ops.jsonl)."""
    summary = json.loads((run / "summary.json").read_text())
    return {p["phase"]: p["stats"]["mb_per_s"] for p in summary["phases"]}


def test_report_renders_its_plots_in_headless_chromium(runs: dict[str, Path], tmp_path: Path) -> None:
    assert shutil.which("chromium"), "chromium is missing: run scripts/bootstrap"
    out = tmp_path / "report"
    harness("report", str(runs["4MiB"]), "--out", str(out))
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}/ud",
                          "--dump-dom", (out / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    figures = re.findall(r'<figure class="plot" data-title="([^"]+)"><svg', dom)
    assert figures == list(PLOTS)
    for title in PLOTS:  # the title is drawn inside the plot, as SVG text
        assert re.search(rf"<text[^>]*>{re.escape(title)}</text>|>{re.escape(title)}<", dom)
    assert "| MB/s |" in (out / "summary.md").read_text()


def test_export_openmetrics_of_a_real_run(runs: dict[str, Path]) -> None:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    text = harness("export", str(runs["1MiB"]), "--format", "openmetrics").stdout
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {"xcache_harness_throughput_bytes_per_second", "xcache_harness_origin_bytes"} <= names
