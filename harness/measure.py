"""Per-operation records and the statistics of a phase. Pure: no I/O.

Throughput of a phase is bytes over the phase's wall time (first start to last end), the
figure a user sees; per-operation rates are kept for the spread.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class OpRecord:
    """One read operation (open, reads, close) as the reader saw it. Times in seconds."""

    phase: str
    client: str
    url: str
    path: str
    pattern: str
    start: float  # wall-clock epoch, so records from several hosts line up
    open_s: float
    ttfb_s: float | None
    duration_s: float
    bytes: int
    requests: int
    verified: bool
    error: str | None = None
    site: str = "local"  # the client's site: statistics are kept per site
    reader: str = "xroot"  # xroot | https | xrdcp | curl
    repetition: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class PhaseStats:
    phase: str
    ops: int
    errors: int
    bytes: int
    wall_s: float
    mb_per_s: float
    ttfb_median_ms: float | None
    ttfb_max_ms: float | None
    op_mb_per_s_median: float | None
    verified: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def phase_stats(phase: str, ops: list[OpRecord]) -> PhaseStats:
    """Summarise the operations of one phase."""
    good = [op for op in ops if op.error is None]
    wall = (max(op.start + op.duration_s for op in ops) - min(op.start for op in ops)) if ops else 0.0
    total = sum(op.bytes for op in good)
    ttfbs = [op.ttfb_s * 1000 for op in good if op.ttfb_s is not None]
    rates = [op.bytes / op.duration_s / 1e6 for op in good if op.duration_s > 0]
    return PhaseStats(
        phase=phase, ops=len(ops), errors=len(ops) - len(good), bytes=total, wall_s=wall,
        mb_per_s=total / wall / 1e6 if wall > 0 else 0.0,
        ttfb_median_ms=statistics.median(ttfbs) if ttfbs else None,
        ttfb_max_ms=max(ttfbs) if ttfbs else None,
        op_mb_per_s_median=statistics.median(rates) if rates else None,
        verified=sum(op.verified for op in good),
    )
