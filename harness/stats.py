"""The numbers behind every figure: percentiles, spread over repetitions. Pure, no I/O.

Percentiles interpolate linearly between closest ranks (Hyndman & Fan type 7, the default of numpy,
R and spreadsheets' PERCENTILE.INC): over the n values sorted ascending, x[0..n-1], the p-th percentile
sits at rank h = (n - 1) * p / 100 and is x[⌊h⌋] + (h - ⌊h⌋) * (x[⌊h⌋ + 1] - x[⌊h⌋]). It never leaves
[min, max], p0 is the minimum and p100 the maximum; with one value every percentile is that value.
With fewer than ~100 operations p99 is close to the maximum: read it as "the slowest ones".

Statistics merge exactly because nothing is averaged early: the raw values of every client and
repetition are kept (ops.jsonl), and merged figures are computed again from the union of values.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

PERCENTILES = (50, 90, 99)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0..100) of values by linear interpolation (type 7); None when empty."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is outside 0..100")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def distribution(values: Iterable[float], unit: str = "ms") -> dict[str, float | None]:
    """p50, p90, p99 and max of values, keyed e.g. ``p50_ms``; all None when there are none."""
    ordered = sorted(values)
    figures = {f"p{p}_{unit}": percentile(ordered, p) for p in PERCENTILES}
    figures[f"max_{unit}"] = ordered[-1] if ordered else None
    return figures


@dataclass(frozen=True)
class Spread:
    """How a figure varies over repetitions: the minimum, the median and the maximum of n values."""

    n: int
    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread | None:
        ordered = sorted(values)
        if not ordered:
            return None
        return cls(len(ordered), ordered[0], statistics.median(ordered), ordered[-1])

    def to_dict(self) -> dict[str, float]:
        return asdict(self)
