"""One verdict from three sources: origin bytes decide; the cache's accounting is compared.

Prefetch makes the cache count blocks it fetched ahead as hits, so a cold read can look
like 100 % hits in g-stream and cinfo; the verdict names the source that disagrees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Expectation = Literal["direct", "miss", "hit", "partial"]  # partial: part cached by an earlier phase
AGREE_TOLERANCE = 0.05
COLD_MIN_FRACTION = 0.98  # cold: the origin sent (almost) every byte read
WARM_MAX_FRACTION = 0.01  # warm: the origin sent (almost) nothing


@dataclass(frozen=True)
class CacheCounts:
    """Hit/miss byte counts as one cache-side source reports them."""

    b_hit: int
    b_miss: int
    b_bypass: int
    files: int  # files this source reported on
    expected_files: int = 0  # files the phase read

    @property
    def hit_ratio(self) -> float | None:
        total = self.b_hit + self.b_miss + self.b_bypass
        return self.b_hit / total if total else None


@dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    bytes_read: int
    origin_bytes: int | None
    origin_fraction: float | None
    gstream: CacheCounts | None
    cinfo: CacheCounts | None
    meets_expectation: bool | None
    agree: bool | None
    note: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def judge(expectation: Expectation, bytes_read: int, origin_bytes: int | None,
          gstream: CacheCounts | None, cinfo: CacheCounts | None) -> Verdict:
    """Combine the sources of one phase into a verdict."""
    fraction = origin_bytes / bytes_read if origin_bytes is not None and bytes_read else None
    meets = _meets(expectation, fraction)
    agree, note = _agreement(expectation, fraction, {"g-stream": gstream, "cinfo": cinfo})
    return Verdict(expectation, bytes_read, origin_bytes, fraction, gstream, cinfo, meets, agree, note)


def _meets(expectation: Expectation, fraction: float | None) -> bool | None:
    if fraction is None:
        return None
    if expectation == "hit":
        return fraction < WARM_MAX_FRACTION
    if expectation == "partial":
        return WARM_MAX_FRACTION <= fraction < COLD_MIN_FRACTION
    return fraction >= COLD_MIN_FRACTION


def _agreement(expectation: Expectation, fraction: float | None,
               sources: dict[str, CacheCounts | None]) -> tuple[bool | None, str]:
    if expectation == "direct":
        return None, "direct read: the cache is not involved"
    if fraction is None:
        return None, "no origin byte count: cannot judge"
    truth_hit = min(1.0, max(0.0, 1.0 - fraction))
    off = [f"{name} says {c.hit_ratio:.0%} hits" for name, c in sources.items()
           if c is not None and c.hit_ratio is not None and abs(c.hit_ratio - truth_hit) > AGREE_TOLERANCE]
    missing = [name for name, c in sources.items() if c is None or c.hit_ratio is None]
    partial = [f"{name} reported {c.files} of {c.expected_files} files" for name, c in sources.items()
               if c is not None and c.files < c.expected_files]
    lag = f" ({'; '.join(partial)}: the cache detaches files lazily)" if partial else ""
    if off:
        return False, f"origin bytes say {truth_hit:.0%} hits, but " + "; ".join(off) + lag
    if missing:
        return None, f"origin bytes say {truth_hit:.0%} hits; no data from {', '.join(missing)}" + lag
    return True, f"all sources agree: {truth_hit:.0%} hits" + lag
