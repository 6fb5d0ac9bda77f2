"""Reads over http(s):// : Range requests of ``request_size``, ``in_flight`` of them in parallel over
kept-alive connections (``harness.readers.httpconn``); a whole file is read the same way.

Socket reads and TLS decryption release the GIL, so the threads overlap, and each answer is
checked on the thread that received it (one TLS stream is bound to one core; several are not).
The server certificate is verified against ``ca_path`` (the run's CA) when given, and against the
target's ``tls_name`` when the URL's host is only where to connect (a container IP or a relay).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import cached_property

from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget
from harness.readers.httpconn import Connections, HttpError
from harness.readers.pieces import clipped, requests_for
from harness.readers.record import Timing, op_record
from harness.readers.verify import Checked, Verifier

FAILURES = (OSError, HttpError, ValueError)  # socket/TLS errors, HTTP answers, malformed responses


@dataclass(frozen=True)
class HttpsReader:
    """Executes any ReadPlan over HTTP(S); vector plans are sent as parallel single-range requests."""

    request_size: int = 8 * 1024 * 1024
    in_flight: int = 8
    timeout_s: int = 10
    ca_path: str | None = None

    name = "https"

    @cached_property
    def connections(self) -> Connections:
        return Connections(self.timeout_s, self.ca_path)

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
        with ThreadPoolExecutor(self.in_flight) as pool:
            futures = [pool.submit(self._get_range, verifier, i, o, n) for i, (o, n) in enumerate(pieces)]
            for future in as_completed(futures):
                if future.cancelled():  # after an error
                    continue
                timing.requests += 1
                if timing.open_s is None:
                    timing.opened()
                timing.first_byte()
                timing.fail(verifier.accept(future.result()))
                if timing.error is not None:
                    _cancel(futures)

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


def _cancel(futures: list[Future[Checked]]) -> None:
    for future in futures:
        future.cancel()


def _one_line(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).strip().replace("\n", " ")
