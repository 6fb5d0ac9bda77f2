"""Progress without a terminal: short lines for CI logs, and every failed read on its own line."""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console

from harness.commands.progress import RunProgress
from harness.events import OpDone, PhaseDone, PhaseStarted, RunStopped
from harness.measure import OpRecord, phase_stats


def record(n: int, error: str | None = None) -> OpRecord:
    return OpRecord("cold", "c", "root://h:1", f"/f{n}", "full", 0, 0, 0, 1, 0 if error else 1_000_000, 1,
                    error is None, error)


def test_lines_per_tenth_and_every_failure() -> None:
    buffer = io.StringIO()
    with RunProgress(Console(file=buffer, force_terminal=False, width=200)) as progress:
        events = progress.events
        events.phase_started.fire(PhaseStarted("cold", "cache-cold", "root://h:1", 20))
        ops = [record(n, "[ERROR] Server responded with an error" if n == 3 else None) for n in range(19)]
        ops.append(replace(record(19), verified=False))
        for op in ops:
            events.op_done.fire(OpDone(op))
        events.phase_done.fire(PhaseDone("cold", phase_stats("cold", ops), {"note": "miss"}))
        events.run_stopped.fire(RunStopped("r", "/results/r", "failed"))
    lines = buffer.getvalue().splitlines()
    assert [line.split()[0] for line in lines if "files" in line and "MB/s" in line] == \
        [f"{n}/20" for n in range(2, 21, 2)]
    assert "    FAILED root://h:1/f3: [ERROR] Server responded with an error" in lines
    assert "  cold: 19 MB/s, 1 errors, 1 unverified, miss" in lines  # 19 good 1 MB reads within one second
    assert lines[-1] == "run failed: partial results in /results/r"
    assert not progress.live


def test_live_display_on_a_terminal_still_prints_failures() -> None:
    buffer = io.StringIO()
    with RunProgress(Console(file=buffer, force_terminal=True, width=120, highlight=False)) as progress:
        assert progress.live
        progress.events.phase_started.fire(PhaseStarted("warm", "cache-warm", "root://h:1", 2))
        progress.events.op_done.fire(OpDone(record(0)))
        progress.events.op_done.fire(OpDone(record(1, "[FATAL] Socket timeout")))
        progress.bar.refresh()
        progress.events.phase_done.fire(PhaseDone("warm", phase_stats("warm", [record(0)]), {"note": "hit"}))
    text = buffer.getvalue()
    assert "FAILED" in text and "root://h:1/f1: [FATAL] Socket timeout" in text
    assert "2/2" in text and "MB/s" in text  # the bar: files done of total, rate
