"""What every reader measures while it reads, and the ``OpRecord`` it becomes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget


@dataclass
class Timing:
    """Clock of one operation: wall-clock start for records, a monotonic clock for intervals."""

    start: float = field(default_factory=time.time)
    t0: float = field(default_factory=time.perf_counter)
    open_s: float | None = None
    ttfb_s: float | None = None
    requests: int = 0
    error: str | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def opened(self) -> None:
        self.open_s = self.elapsed()

    def first_byte(self) -> None:
        if self.ttfb_s is None:
            self.ttfb_s = self.elapsed()

    def fail(self, error: str | None) -> None:
        """Keep the first error: later ones are usually its consequences."""
        self.error = self.error or error


def op_record(reader: str, target: ReadTarget, plan: ReadPlan, phase: str, client: str, timing: Timing,
              received: int, checked: bool) -> OpRecord:
    """The record of a finished operation; ``checked``: the content was compared with what was staged."""
    duration = timing.elapsed()
    return OpRecord(
        phase=phase, client=client, url=target.base_url, path=target.path, pattern=plan.pattern,
        start=timing.start, open_s=timing.open_s if timing.open_s is not None else duration, ttfb_s=timing.ttfb_s,
        duration_s=duration, bytes=received, requests=timing.requests, error=timing.error,
        verified=timing.error is None and checked, reader=reader,
    )
