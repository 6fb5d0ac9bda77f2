"""Reads over root:// with the XRootD Python bindings, several requests in flight.

Requests are issued asynchronously (XrdCl calls back from its own threads, with the GIL
released while it waits), completed out of order, and folded into an adler32 in file
order, so every byte read is checked against the checksum recorded at staging.
"""

from __future__ import annotations

import queue
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from XRootD import client
from XRootD.client.flags import OpenFlags

from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget

Completion = tuple[int, object, bytes | None]
_Result = tuple[float | None, int, int, str | None]  # ttfb, bytes verified, requests, error
# The first request is small so that time to first byte means what it says (open + 4 KiB),
# not the arrival of a whole 8 MiB piece; later requests stay aligned to request_size.
FIRST_READ = 4096


def configure_client(request_timeout_s: int, connection_window_s: int) -> None:
    """Bound every XrdCl wait: against a dead port XrdCl otherwise retries for minutes."""
    client.EnvPutInt("ConnectionRetry", 1)
    client.EnvPutInt("ConnectionWindow", connection_window_s)
    client.EnvPutInt("RequestTimeout", request_timeout_s)
    client.EnvPutInt("StreamTimeout", request_timeout_s)


@dataclass(frozen=True)
class XrootReader:
    """Whole-file reads with ``in_flight`` requests of ``request_size`` bytes outstanding."""

    request_size: int = 8 * 1024 * 1024
    in_flight: int = 8
    timeout_s: int = 10

    name = "xroot"

    def read(self, target: ReadTarget, plan: ReadPlan, phase: str, client_name: str) -> OpRecord:
        if not plan.whole_file:
            raise NotImplementedError("partial plans: issue 5")
        start, t0 = time.time(), time.perf_counter()
        handle = client.File()
        status, _ = handle.open(target.url, OpenFlags.READ, timeout=self.timeout_s)
        opened = time.perf_counter() - t0
        if not status.ok:
            return self._record(target, phase, client_name, start, opened, None, 0, 0,
                                f"{target.url}: cannot open: {_message(status)}")
        try:
            ttfb, got, requests, error = self._pipeline(handle, target, t0)
        finally:
            handle.close(timeout=self.timeout_s)
        return self._record(target, phase, client_name, start, opened, ttfb, got, requests, error,
                            time.perf_counter() - t0)

    def _pipeline(self, handle: client.File, target: ReadTarget, t0: float) -> _Result:
        flow = _Flow(target, t0)
        offsets = iter(_offsets(target.size, self.request_size))
        for offset in _take(offsets, self.in_flight):
            flow.outstanding += self._submit(handle, offset, target, flow.done)
        while flow.outstanding:
            offset, status, data = flow.done.get(timeout=self.timeout_s * 3)
            flow.outstanding -= 1
            flow.accept(offset, data, self._check(status, data, offset, target))
            if flow.error is None:  # after an error: drain what is in flight, issue nothing new
                flow.outstanding += sum(self._submit(handle, o, target, flow.done) for o in _take(offsets, 1))
        return flow.result()

    def _submit(self, handle: client.File, offset: int, target: ReadTarget, done: queue.Queue[Completion]) -> int:
        length = _length(offset, target.size, self.request_size)

        def callback(status: object, response: object, _hosts: object) -> None:
            done.put((offset, status, response if isinstance(response, bytes) else None))

        status = handle.read(offset, length, timeout=self.timeout_s, callback=callback)
        if not status.ok:
            done.put((offset, status, None))
        return 1

    def _check(self, status: object, data: bytes | None, offset: int, target: ReadTarget) -> str | None:
        if not getattr(status, "ok", False):
            return f"{target.url}: read at {offset} failed: {_message(status)}"
        expected = _length(offset, target.size, self.request_size)
        if data is None or len(data) != expected:
            return f"{target.url}: short read at {offset}: {0 if data is None else len(data)} of {expected} bytes"
        return None

    def _record(self, target: ReadTarget, phase: str, client_name: str, start: float, opened: float,
                ttfb: float | None, got: int, requests: int, error: str | None,
                duration: float | None = None) -> OpRecord:
        return OpRecord(
            phase=phase, client=client_name, url=target.base_url, path=target.path, pattern="full",
            start=start, open_s=opened, ttfb_s=ttfb, duration_s=duration if duration is not None else opened,
            bytes=got, requests=requests, error=error,
            verified=error is None and got == target.size and target.adler32 is not None,
        )


class _Flow:
    """State of one pipelined read: out-of-order pieces folded into adler32 in file order."""

    def __init__(self, target: ReadTarget, t0: float) -> None:
        self.target, self.t0 = target, t0
        self.done: queue.Queue[Completion] = queue.Queue()
        self.pending: dict[int, bytes] = {}
        self.checksum, self.consumed, self.outstanding, self.requests = 1, 0, 0, 0
        self.ttfb: float | None = None
        self.error: str | None = None

    def accept(self, offset: int, data: bytes | None, error: str | None) -> None:
        self.requests += 1
        if self.ttfb is None:
            self.ttfb = time.perf_counter() - self.t0
        self.error = self.error or error
        if self.error is not None:
            return
        self.pending[offset] = data or b""
        while self.consumed in self.pending:
            piece = self.pending.pop(self.consumed)
            self.checksum = zlib.adler32(piece, self.checksum)
            self.consumed += len(piece)

    def result(self) -> _Result:
        staged = self.target.adler32
        if self.error is None and staged is not None and self.checksum != staged:
            self.error = (f"{self.target.url}: content differs from what was staged "
                          f"(adler32 {self.checksum:08x}, staged {staged:08x})")
        return self.ttfb, self.consumed if self.error is None else 0, self.requests, self.error


def _offsets(size: int, request_size: int) -> list[int]:
    if size <= FIRST_READ or request_size <= FIRST_READ:
        return list(range(0, size, request_size))
    return [0, FIRST_READ, *range(request_size, size, request_size)]


def _length(offset: int, size: int, request_size: int) -> int:
    """Requests end on request_size boundaries; the first one is FIRST_READ long."""
    if offset == 0 and request_size > FIRST_READ:
        return min(FIRST_READ, size)
    return min(request_size - offset % request_size, size - offset)


def _take(items: Iterator[int], n: int) -> list[int]:
    return [item for _, item in zip(range(n), items, strict=False)]


def _message(status: object) -> str:
    return str(getattr(status, "message", status)).strip().replace("\n", " ")
