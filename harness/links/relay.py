"""An asyncio TCP relay that emulates a WAN link: one-way delay each way and a rate cap.

Used where the kernel has no netem. Clients at the near site connect to the relay instead
of the far server (in Docker the relay gets the far server's hostname as a network alias,
so this is transparent by name); the relay forwards each connection to its target.

* **Delay**: every byte is released ``rtt_ms / 2`` after it was serialised, in each direction.
  The TCP handshake is emulated too: the relay dials the target one one-way delay after
  accepting, and the client's first bytes are held until its handshake would have completed
  (``rtt_ms`` after accept), so a new connection costs a round trip as on a real link.
* **Rate**: one token bucket per direction, shared by every connection and every listen
  port of this relay (one relay process = one link), like a real link's capacity.
* **Bounded buffering**: the queue waiting for the rate is bounded link-wide to ~5 ms of
  traffic (``shaping.queue_limit_bytes``), and each direction of each connection stops
  reading its source once it holds about one bandwidth-delay product plus a margin
  (``shaping.buffer_limit_bytes``, against slow receivers). The relay then stops reading,
  so the sender's TCP window closes (backpressure) instead of the relay buffering without
  bound. Its sockets' receive buffers are capped too, so little hides in the kernel.
* **Probe endpoint** (``--probe-port``): a built-in measurement service reached *through
  the same shaping*, so the link can be measured with no server on the far side.
  Protocol: the client sends one line, ``PING\\n`` (then every byte is echoed back) or
  ``BULK <seconds>\\n`` (zeros are streamed for that long, at most 30 s, then EOF).
  ``harness.links.probe.measure_link`` speaks it.

Run standalone (standard library only; copied into a minimal container)::

    python3 -m harness.links.relay --listen 0.0.0.0:1094=origin-far:1094 \\
        --rtt-ms 30 --rate-mbit 100 --probe-port 0.0.0.0:1095

It prints exactly one line to stdout when listening, ``relay ready {json}`` with the bound
addresses, and stops cleanly on SIGTERM/SIGINT, writing ``relay stopped {json}`` (bytes per
direction, connections) to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import socket
import struct
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, cast

from .shaping import (
    DelayLine,
    TokenBucket,
    buffer_limit_bytes,
    mbit_to_bytes_per_s,
    piece_size,
    queue_limit_bytes,
    socket_buffer_bytes,
)

READY_PREFIX = "relay ready "
STOPPED_PREFIX = "relay stopped "

#: Items due within this much of now are released together: epoll sleeps in whole
#: milliseconds (rounded up), so without it every release would be ~0.5 ms late on average.
SLACK_S = 0.0005
#: Longest bulk stream the probe endpoint serves, whatever the client asks.
MAX_BULK_S = 30.0
_ZEROS = bytes(64 * 1024)


def parse_address(text: str, default_host: str = "0.0.0.0") -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``PORT`` → (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"bad address {text!r}: expected [HOST]:PORT")
    elif ":" in text:
        host, _, port = text.rpartition(":")
    else:
        host, port = default_host, text
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"bad port in {text!r}")
    return host or default_host, int(port)


@dataclass(frozen=True)
class Forward:
    """Listen on ``listen`` and forward each connection to ``target``."""

    listen: tuple[str, int]
    target: tuple[str, int]

    @classmethod
    def parse(cls, text: str) -> Forward:
        """``[HOST:]PORT=TARGETHOST:TPORT``, e.g. ``0.0.0.0:1094=origin:1094``."""
        listen, sep, target = text.partition("=")
        if not sep:
            raise ValueError(f"bad forward {text!r}: expected [HOST:]PORT=TARGETHOST:TPORT")
        target_addr = parse_address(target, default_host="")
        if not target_addr[0] or target_addr[1] == 0:
            raise ValueError(f"bad forward {text!r}: the target needs a host and a port")
        return cls(parse_address(listen), target_addr)


@dataclass(frozen=True)
class RelayConfig:
    """What one relay (one emulated link) does. ``rate_mbit=None`` means no rate cap."""

    forwards: tuple[Forward, ...]
    rtt_ms: float
    rate_mbit: float | None
    probe: tuple[str, int] | None = None
    emulate_handshake: bool = True
    buffer_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.rtt_ms < 0:
            raise ValueError(f"rtt_ms must be >= 0, got {self.rtt_ms}")
        if self.rate_mbit is not None and self.rate_mbit <= 0:
            raise ValueError(f"rate_mbit must be > 0 or None, got {self.rate_mbit}")
        if not self.forwards and self.probe is None:
            raise ValueError("nothing to listen on: give at least one forward or a probe port")


class _Direction:
    """One direction of the link: the shared bucket, its queue bound, per-pipe settings.

    Connections that find the bottleneck queue full stop reading and wait here; one timer
    resumes them all when the queue has drained to its bound, so the queue stays bounded
    link-wide however many connections share the link (as a router buffer would).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, config: RelayConfig) -> None:
        rate = mbit_to_bytes_per_s(config.rate_mbit) if config.rate_mbit else None
        self.loop = loop
        self.bucket = TokenBucket(rate, now=loop.time()) if rate else None
        self.queue = queue_limit_bytes(rate) if rate else 0
        self.delay_s = config.rtt_ms / 2000.0
        self.piece = piece_size(rate)
        self.limit = config.buffer_bytes or buffer_limit_bytes(rate, config.rtt_ms / 1000.0)
        self.bytes = 0
        self.waiting: set[_Pipe] = set()
        self.timer: asyncio.TimerHandle | None = None

    def congested(self, now: float) -> bool:
        return self.bucket is not None and self.bucket.backlog(now) > self.queue

    def wait(self, pipe: _Pipe, now: float) -> None:
        self.waiting.add(pipe)
        if self.timer is None and self.bucket is not None:
            self.timer = self.loop.call_at(self.bucket.when_backlog_at_most(self.queue, now), self.wake)

    def wake(self) -> None:
        self.timer = None
        waiting, self.waiting = self.waiting, set()
        for pipe in waiting:
            pipe.maybe_resume_source()

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.waiting.clear()


class _End(asyncio.BufferedProtocol):
    """One socket of a relayed connection (the client's or the target's).

    Reads at most one piece at a time (``get_buffer``), so one read never overshoots the
    link's queue by more than a piece.
    """

    def __init__(self, conn: _Conn, piece: int) -> None:
        self.conn = conn
        self.transport: asyncio.Transport | None = None
        self.reading_paused = False
        self.view = memoryview(bytearray(piece))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        _set_buffer(transport, socket.SO_RCVBUF, self.conn.relay.rcvbuf)
        self.conn.made(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        self.conn.pipe_from(self).feed(bytes(self.view[:nbytes]))

    def eof_received(self) -> bool:
        self.conn.pipe_from(self).feed_eof()
        return True  # keep the write half open: TCP half-close passes through

    def resume_writing(self) -> None:
        self.conn.pipe_to(self).maybe_resume_source()

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.lost(self)

    def pause_source(self) -> None:
        if self.transport is not None and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_source(self) -> None:
        if self.transport is not None and self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()


class _Pipe:
    """One direction of one connection: src → (shared bucket) → own delay line → dst."""

    def __init__(self, direction: _Direction, src: _End, dst: _End) -> None:
        self.loop, self.direction, self.src, self.dst = direction.loop, direction, src, dst
        self.line: DelayLine[bytes | None] = DelayLine(direction.delay_s)
        self.not_before = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.eof_queued = False
        self.done = False

    def inflight(self) -> int:
        t = self.dst.transport
        return self.line.queued_bytes + (t.get_write_buffer_size() if t is not None else 0)

    def feed(self, data: bytes) -> None:
        if self.done or self.eof_queued:
            return
        d, now, n = self.direction, self.loop.time(), len(data)
        departed = d.bucket.reserve(n, now) if d.bucket is not None else now
        self.line.push(data, n, max(departed, self.not_before))
        if self.inflight() > d.limit:
            self.src.pause_source()  # resumed by flush() or the receiver's resume_writing()
        elif d.congested(now):
            self.src.pause_source()
            d.wait(self, now)
        self.arm()

    def feed_eof(self) -> None:
        if self.done or self.eof_queued:
            return
        self.eof_queued = True
        self.line.push(None, 0, max(self.loop.time(), self.not_before))
        self.arm()

    def arm(self) -> None:
        if self.timer is None and not self.done and self.dst.transport is not None:
            due = self.line.next_due()
            if due is not None:
                self.timer = self.loop.call_at(due - SLACK_S, self.flush)

    def flush(self) -> None:
        self.timer = None
        t = self.dst.transport
        if self.done or t is None:
            return
        items = self.line.pop_due(self.loop.time() + SLACK_S)
        eof = bool(items) and items[-1] is None  # EOF is always the last item ever pushed
        data = [x for x in items if x is not None]
        if data:
            chunk = data[0] if len(data) == 1 else b"".join(data)
            self.direction.bytes += len(chunk)
            t.write(chunk)
        if eof:
            self.done = True
            if t.can_write_eof():
                t.write_eof()
            else:
                t.close()
            self.dst.conn.check_done()
            return
        self.maybe_resume_source()
        self.arm()

    def maybe_resume_source(self) -> None:
        if not self.src.reading_paused or self.done or self.inflight() > self.direction.limit:
            return
        now = self.loop.time()
        if self.direction.congested(now):
            self.direction.wait(self, now)
        else:
            self.src.resume_source()

    def drop(self) -> None:
        """The receiver is gone: discard what is queued and stop."""
        self.done = True
        self.line.clear()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class _Conn:
    """A client connection relayed to its target, with one pipe per direction."""

    def __init__(self, relay: Relay, target: tuple[str, int]) -> None:
        self.relay, self.target = relay, target
        self.client, self.server = _End(self, relay.up.piece), _End(self, relay.down.piece)
        self.up = _Pipe(relay.up, self.client, self.server)
        self.down = _Pipe(relay.down, self.server, self.client)
        self.closed = False
        self.connect_timer: asyncio.TimerHandle | None = None

    def pipe_from(self, end: _End) -> _Pipe:
        return self.up if end is self.client else self.down

    def pipe_to(self, end: _End) -> _Pipe:
        return self.down if end is self.client else self.up

    def made(self, end: _End) -> None:
        if end is self.server:
            self.up.arm()
            return
        self.relay.conns.add(self)
        self.relay.connections += 1
        loop, delay = self.relay.loop, self.relay.up.delay_s
        if self.relay.config.emulate_handshake:
            # The SYN reaches the far side after one one-way delay; the client could only
            # send its first byte once the SYN-ACK came back, a full RTT after it connected.
            self.up.not_before = loop.time() + 2 * delay
            self.connect_timer = loop.call_later(delay, self.start_connect)
        else:
            self.start_connect()

    def start_connect(self) -> None:
        self.connect_timer = None
        if not self.closed:
            self.relay.spawn(self.connect())

    async def connect(self) -> None:
        try:
            await self.relay.loop.create_connection(lambda: self.server, *self.target)
        except OSError as exc:
            print(f"relay: connect to {self.target[0]}:{self.target[1]} failed: {exc}", file=sys.stderr)
            # A refused connection's RST travels back to the client like any packet.
            self.relay.loop.call_later(self.relay.down.delay_s, self.abort)

    def lost(self, end: _End) -> None:
        self.pipe_to(end).drop()
        self.pipe_from(end).feed_eof()
        self.check_done()

    def check_done(self) -> None:
        if self.up.done and self.down.done and not self.closed:
            self.closed = True
            for end in (self.client, self.server):
                if end.transport is not None:
                    end.transport.close()
            self.relay.conns.discard(self)

    def abort(self) -> None:
        if self.connect_timer is not None:
            self.connect_timer.cancel()
        self.up.drop()
        self.down.drop()
        self.closed = True
        for end in (self.client, self.server):
            if end.transport is not None:
                # Linger 0: close with an RST, as a refused or broken connection would.
                sock = end.transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                end.transport.abort()
        self.relay.conns.discard(self)


class _ProbeEndpoint(asyncio.Protocol):
    """The far end of the probe port: ``PING`` echoes, ``BULK <s>`` streams zeros."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.header = b""
        self.mode = "header"
        self.paused = False
        self.stop_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        _set_buffer(transport, socket.SO_SNDBUF, 64 * 1024)

    def data_received(self, data: bytes) -> None:
        t = self.transport
        assert t is not None
        if self.mode == "echo":
            t.write(data)
            return
        if self.mode != "header":
            return
        self.header += data
        line, sep, rest = self.header.partition(b"\n")
        if not sep:
            if len(self.header) > 64:
                t.close()
            return
        words = line.decode("ascii", "replace").split()
        if words == ["PING"]:
            self.mode = "echo"
            if rest:
                t.write(rest)
        elif len(words) == 2 and words[0] == "BULK" and _is_seconds(words[1]):
            self.mode = "bulk"
            loop = asyncio.get_running_loop()
            self.stop_timer = loop.call_later(min(float(words[1]), MAX_BULK_S), self.stop)
            self.pump()
        else:
            t.write(b"ERR expected PING or BULK <seconds>\n")
            t.close()

    def pump(self) -> None:
        t = self.transport
        # Bounded: once the relay stops reading, the socket buffer fills and write()
        # calls pause_writing() synchronously, which ends the loop.
        while t is not None and self.mode == "bulk" and not self.paused and not t.is_closing():
            t.write(_ZEROS)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.pump()

    def stop(self) -> None:
        self.mode = "done"
        t = self.transport
        if t is not None and not t.is_closing():
            if t.can_write_eof():
                t.write_eof()
            t.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.mode = "done"
        if self.stop_timer is not None:
            self.stop_timer.cancel()


def _set_buffer(transport: asyncio.BaseTransport, option: int, nbytes: int) -> None:
    """Cap a kernel socket buffer (this also stops Linux autotuning it to megabytes).

    Data in kernel buffers on the relay's side is invisible to the shaping: uncapped, the
    sender's data would sit in up to ~6 MB of them, seconds of queue at 10 Mbit/s.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and nbytes > 0:
        sock.setsockopt(socket.SOL_SOCKET, option, nbytes)


def _is_seconds(word: str) -> bool:
    try:
        return 0 < float(word) < float("inf")
    except ValueError:
        return False


class Relay:
    """The relay inside a running event loop: ``await start()``, then ``await close()``."""

    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self.loop = asyncio.get_running_loop()
        self.up, self.down = _Direction(self.loop, config), _Direction(self.loop, config)
        self.conns: set[_Conn] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.rcvbuf = socket_buffer_bytes(mbit_to_bytes_per_s(config.rate_mbit) if config.rate_mbit else None)
        self.listening: list[tuple[tuple[str, int], tuple[str, int]]] = []
        self.probe_address: tuple[str, int] | None = None
        self._servers: list[asyncio.Server] = []

    async def start(self) -> None:
        forwards = list(self.config.forwards)
        if self.config.probe is not None:
            endpoint = await self.loop.create_server(_ProbeEndpoint, "127.0.0.1", 0)
            self._servers.append(endpoint)
            forwards.append(Forward(self.config.probe, _bound(endpoint)))
        for fwd in forwards:
            server = await self.loop.create_server(
                lambda target=fwd.target: _Conn(self, target).client,  # type: ignore[misc]
                *fwd.listen,
                reuse_address=True,
                backlog=512,
            )
            self._servers.append(server)
            self.listening.append((_bound(server), fwd.target))
        if self.config.probe is not None:
            self.probe_address = self.listening.pop()[0]

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def ready_info(self) -> dict[str, object]:
        return {
            "listen": [{"listen": list(a), "target": list(t)} for a, t in self.listening],
            "probe": list(self.probe_address) if self.probe_address else None,
            "rtt_ms": self.config.rtt_ms,
            "rate_mbit": self.config.rate_mbit,
            "buffer_bytes": self.up.limit,
        }

    def stats(self) -> dict[str, int]:
        return {"bytes_up": self.up.bytes, "bytes_down": self.down.bytes, "connections": self.connections}

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for conn in list(self.conns):
            conn.abort()
        self.up.close()
        self.down.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for server in self._servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)


def _bound(server: asyncio.Server) -> tuple[str, int]:
    host, port = server.sockets[0].getsockname()[:2]
    return str(host), int(port)


async def serve(config: RelayConfig) -> int:
    """Run until SIGTERM/SIGINT; print the ready line once listening."""
    relay = Relay(config)
    try:
        await relay.start()
    except OSError as exc:
        print(f"relay: cannot listen: {exc}", file=sys.stderr)
        await relay.close()
        return 2
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        relay.loop.add_signal_handler(sig, stop.set)
    print(READY_PREFIX + json.dumps(relay.ready_info(), separators=(",", ":")), flush=True)
    await stop.wait()
    await relay.close()
    print(STOPPED_PREFIX + json.dumps(relay.stats(), separators=(",", ":")), file=sys.stderr, flush=True)
    return 0


def parse_args(argv: list[str] | None = None) -> RelayConfig:
    p = argparse.ArgumentParser(prog="python3 -m harness.links.relay", description="TCP relay emulating a WAN link")
    p.add_argument("--listen", action="append", default=[], type=Forward.parse, metavar="[HOST:]PORT=THOST:TPORT")
    p.add_argument("--rtt-ms", type=float, required=True, help="round-trip time added (half each way)")
    p.add_argument("--rate-mbit", type=float, default=0.0, help="rate cap per direction, Mbit/s (0: none)")
    p.add_argument("--probe-port", type=parse_address, default=None, metavar="[HOST:]PORT")
    p.add_argument("--buffer-bytes", type=int, default=None, help="in-flight limit per direction/connection")
    p.add_argument("--no-handshake-delay", action="store_true", help="do not emulate the TCP handshake RTT")
    a = p.parse_args(argv)
    try:
        return RelayConfig(
            forwards=tuple(a.listen),
            rtt_ms=a.rtt_ms,
            rate_mbit=a.rate_mbit or None,
            probe=a.probe_port,
            emulate_handshake=not a.no_handshake_delay,
            buffer_bytes=a.buffer_bytes,
        )
    except ValueError as exc:
        p.error(str(exc))


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
