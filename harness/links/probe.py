"""Measure an emulated link through the relay's probe endpoint: RTT and throughput.

Always measure a link before a run and record measured next to configured values
(architecture.md, "Links"). The probe speaks the relay's probe protocol (see
``harness.links.relay``): ``PING`` for round trips, ``BULK <seconds>`` for a far → near
stream. Plain blocking sockets with a timeout on every call; nothing here can hang.

>>> m = measure_link("127.0.0.1", 1095)                     # doctest: +SKIP
>>> m.agrees_with(rtt_ms=30, rate_mbit=100)                 # doctest: +SKIP
True
"""

from __future__ import annotations

import socket
import statistics
import struct
import time
from dataclasses import asdict, dataclass

from harness.errors import TopologyError

#: Bytes received in the first part of a bulk read are not counted: the relay's bucket
#: starts full (a small burst) and the first reads include connection set-up.
WARMUP_FRACTION = 0.1


@dataclass(frozen=True)
class LinkMeasurement:
    """What a link measured as, far → near for the rate. Times in ms, rates in Mbit/s."""

    host: str
    port: int
    rtt_ms: float
    rtt_min_ms: float
    rtt_max_ms: float
    pings: int
    rate_mbit: float
    bulk_bytes: int
    bulk_seconds: float

    def deviation(self, rtt_ms: float, rate_mbit: float) -> tuple[float, float]:
        """Relative error of RTT and rate against configured values (0.05 = 5 % off).

        The RTT error is taken relative to at least 1 ms, so a configured 0 ms link that
        measures 0.3 ms (loopback plus relay overhead) is 30 % off, not infinitely.
        """
        rtt_dev = abs(self.rtt_ms - rtt_ms) / max(rtt_ms, 1.0)
        return rtt_dev, abs(self.rate_mbit - rate_mbit) / rate_mbit

    def agrees_with(self, rtt_ms: float, rate_mbit: float, tolerance: float = 0.10) -> bool:
        """True when both RTT and rate are within ``tolerance`` of the configured values."""
        return all(d <= tolerance for d in self.deviation(rtt_ms, rate_mbit))

    def as_dict(self) -> dict[str, object]:
        """Plain dict for run.json."""
        return asdict(self)


def measure_link(
    host: str,
    probe_port: int,
    duration_s: float = 1.5,
    pings: int = 10,
    timeout_s: float = 10.0,
) -> LinkMeasurement:
    """Median RTT of ``pings`` round trips, then the rate of a ``duration_s`` bulk read.

    Raises ``TopologyError`` naming the endpoint when the probe cannot connect, the far
    side answers wrongly, or any single step exceeds ``timeout_s``.
    """
    where = f"link probe {host}:{probe_port}"
    try:
        rtts = ping_rtts_ms(host, probe_port, pings, timeout_s)
        nbytes, seconds = bulk_read(host, probe_port, duration_s, timeout_s)
    except OSError as exc:  # socket.timeout is an OSError
        raise TopologyError(f"{where}: {exc}") from exc
    if seconds <= 0 or nbytes <= 0:
        raise TopologyError(f"{where}: bulk read returned no usable data ({nbytes} bytes)")
    return LinkMeasurement(
        host=host,
        port=probe_port,
        rtt_ms=statistics.median(rtts),
        rtt_min_ms=min(rtts),
        rtt_max_ms=max(rtts),
        pings=len(rtts),
        rate_mbit=nbytes * 8 / seconds / 1e6,
        bulk_bytes=nbytes,
        bulk_seconds=seconds,
    )


def _connect(host: str, port: int, timeout_s: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout_s)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        got = sock.recv(n - len(buf))
        if not got:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += got
    return bytes(buf)


def ping_rtts_ms(host: str, port: int, pings: int, timeout_s: float) -> list[float]:
    """Round-trip times of ``pings`` 8-byte echoes, after one unmeasured warm-up echo.

    The warm-up absorbs the emulated TCP handshake, which holds a new connection's first
    bytes for one extra RTT.
    """
    if pings < 1:
        raise ValueError(f"pings must be >= 1, got {pings}")
    rtts: list[float] = []
    with _connect(host, port, timeout_s) as sock:
        sock.sendall(b"PING\n")
        for i in range(pings + 1):
            msg = struct.pack("!Q", i)
            t0 = time.perf_counter()
            sock.sendall(msg)
            if _recv_exactly(sock, len(msg)) != msg:
                raise ConnectionError("echo does not match what was sent: not a relay probe port?")
            if i:
                rtts.append((time.perf_counter() - t0) * 1000.0)
    return rtts


def bulk_read(host: str, port: int, duration_s: float, timeout_s: float) -> tuple[int, float]:
    """Ask for ``duration_s`` of bulk data; return (bytes, seconds) counted after a warm-up.

    The far end stops after ``duration_s`` and closes; the reader gives up at
    ``duration_s + timeout_s`` at the latest.
    """
    if duration_s <= 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    first = last = mark_t = 0.0
    mark_bytes = -1
    with _connect(host, port, timeout_s) as sock:
        sock.sendall(f"BULK {duration_s:g}\n".encode())
        deadline = time.monotonic() + duration_s + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"bulk read still running after {duration_s + timeout_s:.1f} s")
            sock.settimeout(min(timeout_s, remaining))
            n = sock.recv_into(view)
            now = time.perf_counter()
            if not n:
                break
            if not total:
                first = now
            total += n
            last = now
            if mark_bytes < 0 and now - first >= WARMUP_FRACTION * duration_s:
                mark_t, mark_bytes = now, total
    if mark_bytes < 0 or last <= mark_t:
        return total, last - first
    return total - mark_bytes, last - mark_t
