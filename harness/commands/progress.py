"""What a person sees while a run goes on: a live bar on a terminal, plain lines in CI logs.

On a terminal, rich's Progress shows the phase, files done of total and the phase's MB/s so far;
failed reads are printed above it as they happen, never hidden. Without a terminal (CI), a line per
tenth of the phase keeps logs short and readable, and every failure still gets its own line.
The line closing a phase counts errors and unverified reads.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from harness.events import Events, OpDone, PhaseDone, PhaseStarted, RunStopped


class RunProgress:
    """Listens to a run's events; a context manager so the live display always stops."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.bar = Progress(TextColumn("[cyan]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console)
        self.task: TaskID | None = None
        self.began, self.bytes, self.done, self.total = 0.0, 0, 0, 0
        self.events = self._events()

    def __enter__(self) -> RunProgress:
        if self.live:
            self.bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.live:  # stopping a display that never started would still print an empty line
            self.bar.stop()

    def _events(self) -> Events:
        events = Events()
        events.run_started.add(lambda e: self.console.print(f"[bold]run {e.run_id}[/] → {e.path}"))
        events.step.add(lambda e: self.console.print(f"  {e.text} …"))
        events.phase_started.add(self._phase_started)
        events.op_done.add(self._op_done)
        events.phase_done.add(self._phase_done)
        events.run_stopped.add(self._stopped)
        return events

    def _phase_started(self, event: PhaseStarted) -> None:
        self.began, self.bytes, self.done, self.total = time.monotonic(), 0, 0, event.files
        self.console.print(f"[cyan]▶ {event.phase}[/] {event.endpoint} ({event.files} files)")
        if self.live:
            self.task = self.bar.add_task(event.phase, total=event.files, rate="")

    def _op_done(self, event: OpDone) -> None:
        record = event.record
        self.done += 1
        self.bytes += record.bytes if record.error is None else 0
        if record.error is not None:
            self.console.print(f"    [red]FAILED[/] {record.url}{record.path}: {record.error}", highlight=False)
        if self.task is not None:
            self.bar.update(self.task, completed=self.done, rate=f"{self.rate():.0f} MB/s")
        elif self._tenth():
            self.console.print(f"    {self.done}/{self.total} files  {self.rate():.0f} MB/s", highlight=False)

    def _tenth(self) -> bool:
        """True when done crosses a tenth of the phase (every op for phases of up to ten files)."""
        step = max(self.total // 10, 1)
        return self.done % step == 0 or self.done == self.total

    def rate(self) -> float:
        elapsed = time.monotonic() - self.began
        return self.bytes / elapsed / 1e6 if elapsed > 0 else 0.0

    def _phase_done(self, event: PhaseDone) -> None:
        if self.task is not None:
            self.bar.remove_task(self.task)
            self.task = None
        # Unverified reads (data the harness did not stage) are counted, not listed: on an external endpoint
        # every read is one. Failed reads were each printed as they happened.
        unverified = event.stats.ops - event.stats.errors - event.stats.verified
        counts = f"{event.stats.errors} errors" + (f", [yellow]{unverified} unverified[/]" if unverified else "")
        self.console.print(f"  {event.phase}: {event.stats.mb_per_s:.0f} MB/s, {counts}, {event.truth['note']}")

    def _stopped(self, event: RunStopped) -> None:
        self._stop()
        if event.status != "complete":
            self.console.print(f"run {event.status}: partial results in {event.path}")
