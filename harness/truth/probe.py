"""Collect the three truth sources around one phase and judge them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harness.truth.cinfo import CinfoAccess, read_cinfo
from harness.truth.gstream import GStreamCollector
from harness.truth.summary import LinkCounters, SummaryCollector
from harness.truth.verdict import CacheCounts, Expectation, Verdict, judge

Exec = Callable[[list[str]], str]


@dataclass(frozen=True)
class CacheView:
    """How to reach a cache's own records: its data dir and a way to run a command there."""

    data_dir: str
    run: Exec


@dataclass
class TruthProbe:
    """Remembers each origin's counters and each file's cinfo records between phases."""

    summary: SummaryCollector
    gstream: GStreamCollector
    timeout_s: float
    _origin: dict[int, LinkCounters] = field(default_factory=dict)
    _cinfo_seen: dict[str, int] = field(default_factory=dict)

    def baseline(self, origin_port: int, moment: float) -> None:
        self._origin[origin_port] = self._counters(origin_port, moment)

    def phase(self, expectation: Expectation, origin_port: int, start: float, end: float,
              bytes_read: int, lfns: set[str], cache: CacheView | None) -> Verdict:
        """Judge a finished phase: call after its last read returned."""
        now = self._counters(origin_port, end)
        before = self._origin.get(origin_port)
        self._origin[origin_port] = now
        origin_bytes = now.bytes_out - before.bytes_out if before else None
        if cache is None:
            return judge(expectation, bytes_read, origin_bytes, None, None)
        return judge(expectation, bytes_read, origin_bytes, self._gstream(lfns, start), self._cinfo(lfns, cache))

    def _counters(self, port: int, moment: float) -> LinkCounters:
        return self.summary.after(moment, self.timeout_s, port=port)

    def _gstream(self, lfns: set[str], start: float) -> CacheCounts | None:
        records = self.gstream.wait_for(lfns, start, self.timeout_s)
        if not records:
            return None
        return CacheCounts(sum(r.b_hit for r in records), sum(r.b_miss for r in records),
                           sum(r.b_bypass for r in records), len({r.lfn for r in records}), len(lfns))

    def _cinfo(self, lfns: set[str], cache: CacheView) -> CacheCounts | None:
        # An access record is written when the file detaches: files with no new record
        # since the last phase have not reported yet (the same lag as the g-stream).
        found: list[CinfoAccess] = []
        for lfn in sorted(lfns):
            access = read_cinfo(cache.run, cache.data_dir, lfn, self._cinfo_seen.get(lfn, 0))
            if access is not None and access.last_record > self._cinfo_seen.get(lfn, 0):
                self._cinfo_seen[lfn] = access.last_record
                found.append(access)
        if not found:
            return None
        return CacheCounts(sum(a.b_hit for a in found), sum(a.b_miss for a in found),
                           sum(a.b_bypass for a in found), len(found), len(lfns))
