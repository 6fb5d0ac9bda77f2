"""Reads over http(s):// with ``requests``: one streamed GET for a whole file, Range requests for
partial plans with ``in_flight`` of them in parallel over a pool of kept-alive connections.

http.client reads straight into the socket buffer with the GIL released, so threads overlap; the
server certificate is verified against ``ca_path`` (the run's CA) when given.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from functools import cached_property

import requests
from requests.adapters import HTTPAdapter

from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget
from harness.readers.pieces import FIRST_READ, clipped, requests_for
from harness.readers.record import Timing, op_record
from harness.readers.verify import BackgroundCheck, Verifier

Answer = tuple[int, int, int, bytes | None, str | None]  # index, offset, length, data, error


@dataclass(frozen=True)
class HttpsReader:
    """Executes any ReadPlan over HTTP; vector plans are sent as parallel single-range requests."""

    request_size: int = 8 * 1024 * 1024
    in_flight: int = 8
    timeout_s: int = 10
    ca_path: str | None = None
    token: str | None = field(default=None, repr=False)  # Authorization: Bearer (exact case: 5.5.3)
    cert: str | None = None  # a proxy file: certificate, key and chain in one

    name = "https"

    @cached_property
    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("http", HTTPAdapter(pool_connections=1, pool_maxsize=self.in_flight, pool_block=True))
        # No environment: REQUESTS_CA_BUNDLE would override ``verify`` and a proxy variable would
        # send loopback traffic through a proxy.
        session.trust_env = False
        session.verify = self.ca_path if self.ca_path is not None else True
        if self.token is not None:
            session.headers["Authorization"] = f"Bearer {self.token}"
        if self.cert is not None:
            session.cert = (self.cert, self.cert)
        return session

    def read(self, target: ReadTarget, plan: ReadPlan, phase: str, client_name: str) -> OpRecord:
        timing, verifier = Timing(), Verifier(target, plan)
        try:
            self._execute(target, plan, timing, verifier)
        except requests.RequestException as exc:
            timing.fail(f"{target.url}: {_one_line(exc)}")
        if timing.error is None:
            timing.fail(verifier.finish())
        return op_record(self.name, target, plan, phase, client_name, timing, verifier.received,
                         verifier.checks_content)

    def _execute(self, target: ReadTarget, plan: ReadPlan, timing: Timing, verifier: Verifier) -> None:
        if plan.stat:
            timing.requests += 1
            head = self.session.head(target.url, timeout=self.timeout_s)
            timing.opened()
            if not head.ok:
                timing.fail(f"{target.url}: HEAD answered {head.status_code} {head.reason}")
                return
        if plan.whole_file:
            self._stream(target, timing, verifier)
        else:
            self._ranges(target, plan, timing, verifier)

    def _stream(self, target: ReadTarget, timing: Timing, verifier: Verifier) -> None:
        timing.requests += 1
        with self.session.get(target.url, stream=True, timeout=self.timeout_s) as response:
            if timing.open_s is None:
                timing.opened()
            if response.status_code != requests.codes.ok:
                timing.fail(f"{target.url}: GET answered {response.status_code} {response.reason}")
                return
            check = BackgroundCheck(verifier)
            try:
                self._receive(response, timing, check)
            finally:
                timing.fail(check.close())

    def _receive(self, response: requests.Response, timing: Timing, check: BackgroundCheck) -> None:
        offset, index, want = 0, 0, FIRST_READ
        while not check.failed and (data := response.raw.read(want)):
            timing.first_byte()
            check.submit(index, offset, len(data), data)
            offset, index, want = offset + len(data), index + 1, self.request_size

    def _ranges(self, target: ReadTarget, plan: ReadPlan, timing: Timing, verifier: Verifier) -> None:
        pieces = [r.pieces[0] for r in requests_for(replace(plan, vector=False), target.size, self.request_size)]
        with ThreadPoolExecutor(self.in_flight) as pool:
            futures = [pool.submit(self._get_range, target, i, o, n) for i, (o, n) in enumerate(pieces)]
            for future in as_completed(futures):
                if future.cancelled():  # after the first error: as_completed still yields the cancelled ones
                    continue
                self._accept(future, timing, verifier)
                if timing.error is not None:
                    _cancel(futures)

    def _accept(self, future: Future[Answer], timing: Timing, verifier: Verifier) -> None:
        index, offset, length, data, error = future.result()
        timing.requests += 1
        if timing.open_s is None:
            timing.opened()
        timing.first_byte()
        timing.fail(error or verifier.piece(index, offset, length, data or b""))

    def _get_range(self, target: ReadTarget, index: int, offset: int, length: int) -> Answer:
        """One Range request, clipped to the file: XrdHttp 5.5.3 answers a range that crosses EOF with
        206 and the unclipped Content-Length, then closes the connection without sending a byte."""
        send = clipped(offset, length, target.size)
        if send == 0:
            return index, offset, length, b"", None
        headers = {"Range": f"bytes={offset}-{offset + send - 1}"}
        try:
            response = self.session.get(target.url, headers=headers, timeout=self.timeout_s)
        except requests.RequestException as exc:
            return index, offset, length, None, f"{target.url}: range {offset}+{length}: {_one_line(exc)}"
        if response.status_code != requests.codes.partial_content:
            return index, offset, length, None, (f"{target.url}: range {offset}+{length} answered "
                                                 f"{response.status_code} {response.reason}")
        return index, offset, length, response.content, None


def _cancel(futures: list[Future[Answer]]) -> None:
    for future in futures:
        future.cancel()


def _one_line(exc: Exception) -> str:
    return str(exc).strip().replace("\n", " ")
