"""Pure link-shaping logic: a token bucket for the rate and a delay line for latency.

No I/O and no clock of its own: every method takes ``now`` (seconds, any monotonic origin),
so the relay drives it with ``loop.time()`` and unit tests drive it with plain numbers.

A chunk of ``n`` bytes crossing one direction of an emulated link is modelled as a real link
does it: first it is *serialised* at the link rate (``TokenBucket.reserve`` gives the time
its last byte leaves), then it *propagates* for the one-way delay (``DelayLine.push`` turns
that departure time into a release time). The bucket is shared by every connection using
that direction of the link; each connection has its own delay line, so one slow receiver
never blocks another connection (head-of-line blocking would not happen on a real link).

Standard library only: this module is copied into a minimal relay container.

>>> bucket = TokenBucket(rate_bytes_per_s=1000.0, burst_bytes=100.0)
>>> bucket.reserve(100, now=0.0)     # fits in the burst: leaves at once
0.0
>>> bucket.reserve(500, now=0.0)     # 500 bytes more at 1000 B/s
0.5
>>> line: DelayLine[str] = DelayLine(delay_s=0.015)
>>> line.push("hello", 5, departed_at=0.5)
0.515
>>> line.pop_due(now=0.6)
['hello']
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")

#: Smallest margin over the bandwidth-delay product that one relay connection may hold.
MIN_MARGIN_BYTES = 256 * 1024


def mbit_to_bytes_per_s(rate_mbit: float) -> float:
    """Convert a link rate in Mbit/s (10**6 bit/s, as tc and iperf count) to bytes/s."""
    return rate_mbit * 1_000_000.0 / 8.0


def default_burst_bytes(rate_bytes_per_s: float) -> float:
    """Bucket depth: 2 ms of traffic, at least 16 KiB (a few segments), like a tbf burst."""
    return max(16 * 1024.0, rate_bytes_per_s * 0.002)


def piece_size(rate_bytes_per_s: float | None) -> int:
    """Most bytes the relay reads (and so shapes) at once: ~2 ms of link time.

    Small pieces keep the output smooth at low rates (a 256 KiB read would arrive as one
    lump every 200 ms at 10 Mbit/s) and bound how far one read can overshoot the link's
    queue; at high rates they stay large enough to keep per-read overhead low.
    Bounded to [8 KiB, 256 KiB].
    """
    if rate_bytes_per_s is None:
        return 256 * 1024
    return int(min(256 * 1024, max(8 * 1024, rate_bytes_per_s * 0.002)))


def queue_limit_bytes(rate_bytes_per_s: float) -> int:
    """Bytes a link direction may hold waiting for the rate (its bottleneck queue).

    About 5 ms of traffic, at least two pieces: enough that the link never idles while the
    relay refills from a source, small enough that queueing adds little to the RTT of other
    connections sharing the link (a clean link, not a bloated one).
    """
    return int(max(2 * piece_size(rate_bytes_per_s), rate_bytes_per_s * 0.005))


def socket_buffer_bytes(rate_bytes_per_s: float | None) -> int:
    """SO_RCVBUF for the relay's sockets: four pieces, at least 64 KiB (0: leave the default).

    Enough for full speed over loopback or a bridge, where the round trip is microseconds,
    while keeping the hidden queue in front of the shaping to a few milliseconds.
    """
    if rate_bytes_per_s is None:
        return 0
    return max(64 * 1024, 4 * piece_size(rate_bytes_per_s))


def buffer_limit_bytes(rate_bytes_per_s: float | None, rtt_s: float) -> int:
    """In-flight bytes one direction of one connection may hold before the relay stops reading.

    One bandwidth-delay product of the *round trip* (the delay line needs half of it) plus
    a margin of 10 ms of traffic, at least ``MIN_MARGIN_BYTES``. It bounds what a slow
    receiver can make the relay hold; past it, the sender's TCP window closes
    (backpressure). Unlimited rate: 64 MiB, a sanity bound rather than a link property.
    """
    if rate_bytes_per_s is None:
        return 64 * 1024 * 1024
    bdp = rate_bytes_per_s * rtt_s
    return int(bdp + max(MIN_MARGIN_BYTES, rate_bytes_per_s * 0.010))


class TokenBucket:
    """A token bucket that may go into debt, so it *schedules* rather than refuses.

    ``reserve(n, now)`` takes ``n`` tokens at ``now`` and returns when the last of those
    bytes has left the link: ``now`` if the bucket held enough tokens, otherwise the moment
    the debt is paid back at ``rate``. Calls must come with non-decreasing ``now``.
    Long-run output never exceeds ``burst + rate * elapsed``.
    """

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate_bytes_per_s: float, burst_bytes: float | None = None, now: float = 0.0) -> None:
        if rate_bytes_per_s <= 0:
            raise ValueError(f"rate must be > 0 bytes/s, got {rate_bytes_per_s}")
        self.rate = float(rate_bytes_per_s)
        self.burst = float(default_burst_bytes(self.rate) if burst_bytes is None else burst_bytes)
        if self.burst < 0:
            raise ValueError(f"burst must be >= 0 bytes, got {self.burst}")
        self._tokens = self.burst
        self._last = now

    @property
    def tokens(self) -> float:
        """Tokens at the last update; negative means bytes are already scheduled ahead."""
        return self._tokens

    def reserve(self, nbytes: int, now: float) -> float:
        """Take ``nbytes`` tokens at ``now``; return when those bytes have left the link."""
        if nbytes < 0:
            raise ValueError(f"nbytes must be >= 0, got {nbytes}")
        if now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
        self._tokens -= nbytes
        if self._tokens >= 0:
            return self._last
        return self._last + (-self._tokens) / self.rate

    def backlog(self, now: float) -> float:
        """Bytes reserved but not yet departed at ``now`` (the queue at the bottleneck)."""
        return max(0.0, -(self._tokens + max(0.0, now - self._last) * self.rate))

    def when_backlog_at_most(self, nbytes: float, now: float) -> float:
        """Earliest time >= ``now`` at which ``backlog`` is down to ``nbytes``."""
        return max(now, self._last + (-self._tokens - nbytes) / self.rate)


class DelayLine(Generic[T]):
    """A FIFO that releases each item a fixed delay after it departed.

    Release times never go backwards (``max`` with the previous one), so items leave in the
    order they were pushed even if departure times jitter: a byte stream stays intact.
    """

    __slots__ = ("_items", "_last_release", "_queued_bytes", "delay")

    def __init__(self, delay_s: float) -> None:
        if delay_s < 0:
            raise ValueError(f"delay must be >= 0 s, got {delay_s}")
        self.delay = float(delay_s)
        self._items: deque[tuple[float, T, int]] = deque()
        self._queued_bytes = 0
        self._last_release = float("-inf")

    def __len__(self) -> int:
        return len(self._items)

    @property
    def queued_bytes(self) -> int:
        """Sum of the sizes of the items not yet released."""
        return self._queued_bytes

    def push(self, item: T, size: int, departed_at: float) -> float:
        """Queue ``item`` (``size`` bytes) that left at ``departed_at``; return its release time."""
        release = max(departed_at + self.delay, self._last_release)
        self._last_release = release
        self._items.append((release, item, size))
        self._queued_bytes += size
        return release

    def next_due(self) -> float | None:
        """Release time of the oldest item, or None when empty."""
        return self._items[0][0] if self._items else None

    def pop_due(self, now: float) -> list[T]:
        """Remove and return, in order, every item whose release time is <= ``now``."""
        out: list[T] = []
        items = self._items
        while items and items[0][0] <= now:
            _, item, size = items.popleft()
            self._queued_bytes -= size
            out.append(item)
        return out

    def clear(self) -> None:
        """Drop everything queued (the receiver is gone)."""
        self._items.clear()
        self._queued_bytes = 0
