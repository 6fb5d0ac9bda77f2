"""``bench readers``: run ``benchmarks/readers.py`` and print its ratios as a table.

The benchmark lives with the source in ``benchmarks/`` (like asv's suites), so it is loaded from
the checkout this package runs from. It is a measurement: a missed target is reported, not failed.
"""

from __future__ import annotations

import importlib.util
import json
import secrets
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.errors import EnvironmentMissing, UserError
from harness.results import write_json_atomic
from harness.settings import Settings

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
RESULT_FILE = "bench-readers.json"


def bench_readers(size: int, repeat: int, streams: int, settings: Settings, console: Console) -> Path:
    """Run the reader benchmark; print the table; return the JSON file with the raw figures."""
    if size < 1024 * 1024 or repeat < 1 or streams < 1:
        raise UserError(f"bench readers: --size must be at least 1MiB, --repeat and --streams at least 1 "
                        f"(got {size}, {repeat}, {streams})")
    bench = _load("readers")
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-bench-readers-{secrets.token_hex(2)}"
    config = bench.BenchConfig(size=size, repeat=repeat, streams=streams, timeout_s=settings.request_timeout_s)
    path = settings.results_dir / run_id / RESULT_FILE
    write_json_atomic(path, {"status": "running", "config": config.__dict__})
    try:
        result = bench.run_bench(config, settings.runtime_dir / run_id, settings.server_user,
                                 lambda text: console.print(f"  {text} …"),
                                 lambda partial: write_json_atomic(path, {"status": "running", **partial.to_dict()}))
    except BaseException as exc:
        _mark(path, "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
        console.print(f"partial figures (finished repetitions): {path}")
        raise
    write_json_atomic(path, {"status": "complete", **result.to_dict()})
    lines = bench.summarize(result)
    console.print(_table(lines, size, repeat))
    _verdict(lines, console)
    console.print(f"raw figures: {path}")
    return path


def _load(name: str) -> Any:
    source = BENCHMARKS / f"{name}.py"
    if not source.is_file():
        raise EnvironmentMissing(f"{source} not found: benchmarks run from a source checkout of xcache-harness")
    spec = importlib.util.spec_from_file_location(f"xcache_harness_benchmarks.{name}", source)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _table(lines: list[Any], size: int, repeat: int) -> Table:
    table = Table(title=f"reader benchmark: {size / 1e6:.0f} MB warm file via XCache, {repeat} repetition(s)")
    for header in ("measurement", "MB/s median", "spread (min-max)", "vs", "ratio (min-max)", "target", "",
                   "CPU s/GB"):
        table.add_column(header, justify="left" if header in ("measurement", "vs") else "right")
    for line in lines:
        table.add_row(line.name, f"{line.median_mb_s:.0f}", f"{line.min_mb_s:.0f}-{line.max_mb_s:.0f}",
                      line.reference or "", _ratio(line), f"≥ {line.target:.1f}x" if line.target else "",
                      {True: "[green]✓[/]", False: "[red]✗[/]", None: ""}[line.met],
                      f"{line.cpu_s_per_gb:.2f}" if line.cpu_s_per_gb is not None else "")
    return table


def _ratio(line: Any) -> str:
    if line.ratio_median is None:
        return ""
    return f"{line.ratio_median:.2f}x ({line.ratio_min:.2f}-{line.ratio_max:.2f})"


def _verdict(lines: list[Any], console: Console) -> None:
    errors = [f"{line.name} ({line.errors})" for line in lines if line.errors]
    if errors:
        console.print(f"[red]reads failed[/] in: {', '.join(errors)} — their figures are 0")
    missed = [line.name for line in lines if line.met is False]
    if missed:
        console.print(f"[yellow]targets missed on this machine:[/] {', '.join(missed)} (a measurement: exit 0)")
    else:
        console.print("[green]all targets met[/]")


def _mark(path: Path, status: str) -> None:
    """Keep the finished repetitions and say the run stopped early."""
    document = json.loads(path.read_text())
    write_json_atomic(path, {**document, "status": status})
