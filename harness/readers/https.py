"""Reads over http(s):// : Range requests of ``request_size``, ``in_flight`` of them in parallel over
kept-alive connections (``harness.readers.httpconn``); a whole file is read the same way. A vector
plan's many small ranges go as multi-range requests (``multipart/byteranges``, one readv for XrdHttp).

Socket reads and TLS decryption release the GIL, so the threads overlap, and each answer is
checked on the thread that received it (one TLS stream is bound to one core; several are not).
The server certificate is verified against ``ca_path`` (the run's CA) when given, and against the
target's ``tls_name`` when the URL's host is only where to connect (a container IP or a relay).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from functools import cached_property

from harness.measure import OpRecord
from harness.plan import Range, ReadPlan, ReadTarget
from harness.readers.httpconn import Connections, HttpError
from harness.readers.pieces import clipped, requests_for
from harness.readers.record import Timing, op_record
from harness.readers.verify import Checked, Verifier

FAILURES = (OSError, HttpError, ValueError)  # socket/TLS errors, HTTP answers, malformed responses


# A multi-range request is one readv for XrdHttp (5.5.3 and 5.8.1): more than 1024 ranges (kXR_readv's
# limit) get a truncated answer. Headers of 18 KB were taken; a long Range header is kept below that.
MAX_RANGES = 1024
MAX_RANGE_HEADER = 16_000
MIN_BATCH_BYTES = 256 * 1024  # below this, another request in flight costs more than it overlaps


@dataclass(frozen=True)
class HttpsReader:
    """Executes any ReadPlan over HTTP(S); vector plans are sent as parallel multi-range requests
    (``multirange``; else, or when the server answers otherwise, as parallel single-range requests)."""

    request_size: int = 8 * 1024 * 1024
    in_flight: int = 8
    timeout_s: int = 10
    ca_path: str | None = None
    multirange: bool = True
    token: str | None = field(default=None, repr=False)  # Authorization: Bearer (exact case: 5.5.3)
    cert: str | None = None  # a proxy file: certificate, key and chain in one

    name = "https"

    @cached_property
    def connections(self) -> Connections:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token is not None else {}
        return Connections(self.timeout_s, self.ca_path, cert=self.cert, headers=headers)

    def read(self, target: ReadTarget, plan: ReadPlan, phase: str, client_name: str) -> OpRecord:
        timing, verifier = Timing(), Verifier(target, plan)
        if plan.stat:
            self._stat(target, timing)
        if timing.error is None:
            self._ranges(target, plan, timing, verifier)
        if timing.error is None:
            timing.fail(verifier.finish())
        return op_record(self.name, target, plan, phase, client_name, timing, verifier.received,
                         verifier.checks_content)

    def _stat(self, target: ReadTarget, timing: Timing) -> None:
        timing.requests += 1
        try:
            self.connections.head(target.url, target.tls_name)
        except FAILURES as exc:
            timing.fail(f"{target.url}: HEAD: {_one_line(exc)}")
        timing.opened()

    def _ranges(self, target: ReadTarget, plan: ReadPlan, timing: Timing, verifier: Verifier) -> None:
        pieces = [r.pieces[0] for r in requests_for(replace(plan, vector=False), target.size, self.request_size)]
        batches = multirange_batches(pieces, target.size, self._batch_bytes(pieces)) if plan.vector and \
            self.multirange else [[(i, piece)] for i, piece in enumerate(pieces)]
        with ThreadPoolExecutor(self.in_flight) as pool:
            futures = [pool.submit(self._get_batch, verifier, batch) for batch in batches]
            for future in as_completed(futures):
                if future.cancelled():  # after an error
                    continue
                timing.requests += 1
                if timing.open_s is None:
                    timing.opened()
                timing.first_byte()
                for checked in future.result():
                    timing.fail(verifier.accept(checked))
                if timing.error is not None:
                    _cancel(futures)

    def _batch_bytes(self, pieces: list[Range]) -> int:
        """Spread a vector plan's bytes over ``in_flight`` requests, none larger than ``request_size``."""
        total = sum(n for _, n in pieces)
        return min(self.request_size, max(MIN_BATCH_BYTES, -(-total // self.in_flight)))

    def _get_batch(self, verifier: Verifier, batch: list[tuple[int, Range]]) -> list[Checked]:
        """Several ranges in one multi-range request; range by range if the server does not answer
        part by part (or for a lone range)."""
        if len(batch) == 1:
            return [self._get_range(verifier, batch[0][0], *batch[0][1])]
        url, (first, (offset, _)) = verifier.target.url, batch[0]
        try:
            parts = self.connections.get_ranges(url, [r for _, r in batch], verifier.target.tls_name)
        except FAILURES as exc:
            return [Checked(first, 0, error=f"{url}: {len(batch)} ranges from {offset}: {_one_line(exc)}")]
        if parts is None:
            return [self._get_range(verifier, i, o, n) for i, (o, n) in batch]
        return [verifier.inspect(i, o, n, data) for (i, (o, n)), data in zip(batch, parts, strict=True)]

    def _get_range(self, verifier: Verifier, index: int, offset: int, length: int) -> Checked:
        """One Range request, clipped to the file: XrdHttp 5.5.3 answers a range that crosses EOF with
        206 and the unclipped Content-Length, then closes the connection without sending a byte."""
        url, send = verifier.target.url, clipped(offset, length, verifier.target.size)
        if send == 0:
            return verifier.inspect(index, offset, length, b"")
        try:
            data = self.connections.get_range(url, offset, send, verifier.target.tls_name)
        except FAILURES as exc:
            return Checked(index, 0, error=f"{url}: range {offset}+{length}: {_one_line(exc)}")
        return verifier.inspect(index, offset, length, data)


def multirange_batches(pieces: list[Range], size: int, budget: int) -> list[list[tuple[int, Range]]]:
    """Consecutive (index, piece) pairs grouped into multi-range requests of at most ``MAX_RANGES``
    ranges, ``MAX_RANGE_HEADER`` characters and ``budget`` bytes. A piece is clipped to the file
    (XrdHttp 5.5.3 answers a range across EOF wrongly); one wholly past EOF goes alone (never sent)."""
    batches: list[list[tuple[int, Range]]] = []
    current: list[tuple[int, Range]] = []
    chars = held = 0
    for index, (offset, length) in enumerate(pieces):
        send = clipped(offset, length, size)
        text = len(f"{offset}-{offset + send - 1},")
        if current and (not send or len(current) == MAX_RANGES or chars + text > MAX_RANGE_HEADER
                        or held + send > budget):
            batches.append(current)
            current, chars, held = [], 0, 0
        if not send:
            batches.append([(index, (offset, length))])
            continue
        current.append((index, (offset, send)))
        chars, held = chars + text, held + send
    return batches + ([current] if current else [])


def _cancel(futures: list[Future[list[Checked]]]) -> None:
    for future in futures:
        future.cancel()


def _one_line(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).strip().replace("\n", " ")
