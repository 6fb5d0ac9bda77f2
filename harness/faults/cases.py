"""One procedure per fault: read, inject at a known moment, read on; return every read's result.

A procedure records what it saw in ``bench.notes`` and its own pass/fail conditions in
``bench.checks`` (e.g. "served warm after restart"); ``outcome.classify`` judges the reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from harness.backends.docker import DockerBackend
from harness.content import FileContent
from harness.errors import ServiceNotReady
from harness.faults import inject
from harness.faults.outcome import ReadResult
from harness.faults.read import VerifiedRead, together, within
from harness.faults.spec import FaultCase
from harness.readiness import wait_for
from harness.topology import Server, Topology
from harness.truth.summary import SummaryCollector

Reads = list[ReadResult | None]
PURGE_WAIT_S = 80.0  # pfc purges every purgeinterval (>= 60 s, XrdPfcConfiguration) after a first pass at start
WARM_RATIO = 0.01  # a warm read may re-send a few protocol bytes, never blocks


@dataclass
class Bench:
    """What a procedure works with: one case on its own fresh topology, its staged files."""

    case: FaultCase
    backend: DockerBackend
    top: Topology
    summary: SummaryCollector
    files: list[FileContent]
    reader: VerifiedRead
    wait_s: float  # bound of every wait that is not a read (restart, cinfo, monitoring)
    notes: dict[str, object] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    restarts: int = 0  # reads after a restart go on a fresh XrdCl channel (user "r<restarts>")

    @property
    def cache(self) -> Server:
        return self.top.cache_for(None)

    @property
    def origin(self) -> Server:
        return self.top.origin_for(None)

    def url(self, content: FileContent) -> str:
        placement = self.cache.placement
        return f"root://r{self.restarts}@{placement.host}:{placement.port}//{content.path.lstrip('/')}"

    def restart_cache(self) -> None:
        self.restarts += 1
        inject.restart(self.backend, self.cache, self.wait_s, f"r{self.restarts}")

    def read(self, label: str, content: FileContent, between: Callable[[], None] | None = None) -> ReadResult | None:
        """Read through the cache within the case's bound; with ``between`` injected half way."""
        url = self.url(content)  # taken now: a restart may have moved the cache
        return within(self.case.bound_s, lambda: self.reader.read(label, url, content, content.size // 2, between))

    def origin_sent(self) -> int:
        """The origin's bytes sent so far, from a summary report stamped after this moment."""
        port = self.origin.placement.port
        return self.summary.after(time.time(), self.wait_s, port=port).bytes_out

    def ratio(self, name: str, sent: int, content: FileContent) -> float:
        ratio = round(sent / content.size, 4)
        self.notes[name] = ratio
        return ratio


def origin_kill(bench: Bench) -> Reads:
    return [bench.read("read", bench.files[0], lambda: bench.backend.kill(bench.origin.service))]


def origin_stall(bench: Bench) -> Reads:
    return _held(bench, bench.origin.name)


def link_cut(bench: Bench) -> Reads:
    (relay,) = bench.backend.relay_names()
    return _held(bench, relay)


def cache_restart(bench: Bench) -> Reads:
    content = bench.files[0]
    cold = bench.read("cold", content)
    inject.wait_cached(bench.backend, bench.cache, content.path, bench.wait_s)
    bench.restart_cache()
    before = bench.origin_sent()
    warm = bench.read("after-restart", content)
    ratio = bench.ratio("origin_ratio_after_restart", bench.origin_sent() - before, content)
    bench.checks["served warm after the restart"] = ratio <= (bench.case.max_origin_ratio or WARM_RATIO)
    return [cold, warm]


def corrupt_block(bench: Bench) -> Reads:
    content = bench.files[0]
    cold = bench.read("cold", content)
    inject.wait_cached(bench.backend, bench.cache, content.path, bench.wait_s)
    offset = content.size // 2
    inject.corrupt(bench.backend, bench.cache, content.path, offset)
    bench.notes["corrupted"] = {"offset": offset, "bytes": 4096}
    # A restart drops the blocks the cache may still hold in RAM: the next read comes from disk.
    bench.restart_cache()
    before = bench.origin_sent()
    again = bench.read("after-corruption", content)
    bench.ratio("origin_ratio_after_corruption", bench.origin_sent() - before, content)
    return [cold, again]


def disk_fill(bench: Bench) -> Reads:
    first, second = bench.files[0], bench.files[1]
    assert bench.case.disk is not None  # the spec requires it for disk-fill
    cold = bench.read("cold", first)
    inject.wait_cached(bench.backend, bench.cache, first.path, bench.wait_s)
    bench.notes["filler_bytes"] = inject.fill_disk(bench.backend, bench.cache, bench.case.disk, bench.case.fill)
    during = bench.read("disk-full", second)
    t0 = time.monotonic()
    try:
        wait_for(lambda: not inject.is_cached(bench.backend, bench.cache, first.path), PURGE_WAIT_S, "purge")
        bench.notes["purged_after_s"] = round(time.monotonic() - t0, 1)
        bench.checks["purge removed the oldest file"] = True
    except ServiceNotReady:
        bench.checks["purge removed the oldest file"] = False
    before = bench.origin_sent()
    again = bench.read("after-purge", first)
    ratio = bench.ratio("origin_ratio_after_purge", bench.origin_sent() - before, first)
    bench.checks["purged file fetched again"] = ratio >= 0.9
    return [cold, during, again]


def coalescing(bench: Bench) -> Reads:
    content = bench.files[0]
    url = bench.url(content)
    before = bench.origin_sent()
    reads = [lambda i=i: bench.reader.read(f"reader-{i}", url, content) for i in range(bench.case.readers)]
    results = together(bench.case.bound_s, reads)
    sent = bench.origin_sent() - before
    bench.notes.update(origin_bytes=sent, file_bytes=content.size)
    ratio = bench.ratio("origin_ratio", sent, content)
    bench.checks[f"origin bytes <= {bench.case.max_origin_ratio} x size"] = (
        bench.case.max_origin_ratio is None or ratio <= bench.case.max_origin_ratio)
    return list(results)


def _held(bench: Bench, name: str) -> Reads:
    """Freeze ``name`` half way through a read for ``hold_s``, then let it go on."""
    with ExitStack() as stack:
        hold = lambda: stack.enter_context(inject.held(bench.backend, name, bench.case.hold_s))  # noqa: E731
        result = bench.read("read", bench.files[0], hold)
    bench.notes["held_s"] = bench.case.hold_s
    return [result]


# token-expiry is not here: its topology is an origin with token auth, no cache (harness.faults.tokencase).
PROCEDURES: dict[str, Callable[[Bench], Reads]] = {
    "origin-kill": origin_kill, "origin-stall": origin_stall, "link-cut": link_cut, "cache-restart": cache_restart,
    "corrupt-block": corrupt_block, "disk-fill": disk_fill, "coalescing": coalescing,
}
