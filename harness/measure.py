"""Per-operation records and the statistics of a phase. Pure: no I/O.

Throughput of a phase is bytes over the phase's wall time (first start to last end), the figure a
user sees; with repetitions, the wall times of the repetitions add up (the pauses between them are
not reading time), and the per-repetition rates give the spread. Per-operation rates are kept too.

Warm-up trimming leaves out the first operations of every repetition from the timing figures
(bytes, wall time, rates, latencies); ``ops``, ``errors`` and ``verified`` always count every
operation, so a failure during warm-up is never hidden.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import TypeVar

from harness.stats import Spread, distribution

K = TypeVar("K")


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

    @property
    def end(self) -> float:
        return self.start + self.duration_s


@dataclass(frozen=True)
class Warmup:
    """What counts as warm-up in each repetition: its first ``ops`` operations (by start time)
    and every operation starting less than ``seconds`` after the repetition's first start."""

    ops: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.ops < 0 or self.seconds < 0:
            raise ValueError("warm-up ops and seconds must not be negative")


NO_WARMUP = Warmup()


@dataclass(frozen=True)
class PhaseStats:
    """Figures of one phase (or one site of a phase). Times in ms, rates in MB/s (10^6 bytes)."""

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
    ops_per_s: float = 0.0
    ttfb_p90_ms: float | None = None
    ttfb_p99_ms: float | None = None
    latency_p50_ms: float | None = None  # latency: one operation from open to close
    latency_p90_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_max_ms: float | None = None
    trimmed: int = 0  # operations left out as warm-up
    repetitions: int = 0
    mb_per_s_spread: dict[str, float] | None = None  # min/median/max of the repetitions' MB/s
    sites: dict[str, PhaseStats] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def phase_stats(phase: str, ops: list[OpRecord], warmup: Warmup = NO_WARMUP, by_site: bool = True) -> PhaseStats:
    """Summarise the operations of one phase: all clients and repetitions merged, and per client site."""
    kept = trim_warmup(ops, warmup)
    good = [op for op in kept if op.error is None]
    reps = group(kept, lambda op: op.repetition)
    walls = [_wall(rep) for rep in reps.values()]
    wall, total = sum(walls), sum(op.bytes for op in good)
    ttfb = distribution(op.ttfb_s * 1000 for op in good if op.ttfb_s is not None)
    latency = distribution(op.duration_s * 1000 for op in good)
    rates = [op.bytes / op.duration_s / 1e6 for op in good if op.duration_s > 0]
    spread = Spread.of(_rate(rep, w) for rep, w in zip(reps.values(), walls, strict=True) if w > 0)
    sites = group(ops, lambda op: op.site) if by_site else {}
    return PhaseStats(
        phase=phase, ops=len(ops), errors=sum(op.error is not None for op in ops), bytes=total, wall_s=wall,
        mb_per_s=_per_s(total / 1e6, wall), ttfb_median_ms=ttfb["p50_ms"], ttfb_max_ms=ttfb["max_ms"],
        op_mb_per_s_median=statistics.median(rates) if rates else None,
        verified=sum(op.verified and op.error is None for op in ops), ops_per_s=_per_s(len(good), wall),
        ttfb_p90_ms=ttfb["p90_ms"], ttfb_p99_ms=ttfb["p99_ms"], latency_p50_ms=latency["p50_ms"],
        latency_p90_ms=latency["p90_ms"], latency_p99_ms=latency["p99_ms"], latency_max_ms=latency["max_ms"],
        trimmed=len(ops) - len(kept), repetitions=len(reps), mb_per_s_spread=spread.to_dict() if spread else None,
        sites={site: phase_stats(phase, site_ops, warmup, by_site=False) for site, site_ops in sorted(sites.items())},
    )


def trim_warmup(ops: Iterable[OpRecord], warmup: Warmup) -> list[OpRecord]:
    """The operations left once each repetition's warm-up is removed, in start order."""
    kept: list[OpRecord] = []
    for rep in group(ops, lambda op: op.repetition).values():
        ordered = sorted(rep, key=lambda op: op.start)
        first = ordered[0].start
        kept += [op for op in ordered[warmup.ops:] if op.start - first >= warmup.seconds]
    return sorted(kept, key=lambda op: op.start)


def as_repetitions(runs: Iterable[Iterable[OpRecord]]) -> list[OpRecord]:
    """Operations of repeated runs as one set whose repetitions stay distinct (run i's come after run i-1's)."""
    merged: list[OpRecord] = []
    for run in runs:
        ops = list(run)
        offset = 1 + max((op.repetition for op in merged), default=-1)
        merged += [replace(op, repetition=op.repetition + offset) for op in ops]
    return merged


def group(ops: Iterable[OpRecord], key: Callable[[OpRecord], K]) -> dict[K, list[OpRecord]]:
    groups: dict[K, list[OpRecord]] = defaultdict(list)
    for op in ops:
        groups[key(op)].append(op)
    return dict(groups)


def _wall(ops: list[OpRecord]) -> float:
    return max(op.end for op in ops) - min(op.start for op in ops) if ops else 0.0


def _rate(ops: list[OpRecord], wall: float) -> float:
    return sum(op.bytes for op in ops if op.error is None) / wall / 1e6


def _per_s(amount: float, wall: float) -> float:
    return amount / wall if wall > 0 else 0.0
