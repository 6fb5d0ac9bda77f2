"""Reads over root:// with the XRootD Python bindings, several requests in flight.

Requests (plain or vector reads, ``harness.readers.pieces``) are issued asynchronously: XrdCl
calls back from its own threads, with the GIL released while it waits, so ``in_flight`` requests
overlap. Answers complete out of order and are checked as they arrive (``harness.readers.verify``).
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field

from XRootD import client
from XRootD.client.flags import OpenFlags

from harness.credentials import process_ca_path
from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget
from harness.readers.pieces import Request, requests_for
from harness.readers.record import Timing, op_record
from harness.readers.verify import Checked, Verifier

Chunks = list[tuple[int, bytes]]  # (offset, data) of each piece of one answer


def configure_client(request_timeout_s: int, connection_window_s: int) -> None:
    """Bound every XrdCl wait: against a dead port XrdCl otherwise retries for minutes.

    Also fixes, unless the environment already does, where XrdCl's once-per-process TLS context
    will look for CA certificates (see ``harness.credentials.process_ca_path``)."""
    if "X509_CERT_DIR" not in os.environ:
        os.environ["X509_CERT_DIR"] = str(process_ca_path())
    client.EnvPutInt("ConnectionRetry", 1)
    client.EnvPutInt("ConnectionWindow", connection_window_s)
    client.EnvPutInt("RequestTimeout", request_timeout_s)
    client.EnvPutInt("StreamTimeout", request_timeout_s)


@dataclass(frozen=True)
class XrootReader:
    """Executes any ReadPlan with ``in_flight`` requests of up to ``request_size`` bytes outstanding."""

    request_size: int = 8 * 1024 * 1024
    in_flight: int = 8
    timeout_s: int = 10
    token: str | None = field(default=None, repr=False)  # sent as ?authz= CGI, never in messages
    token_file: str | None = None  # the same token for the ztn login (xrd.ztn, XrdCl >= 5.6)

    name = "xroot"

    def read(self, target: ReadTarget, plan: ReadPlan, phase: str, client_name: str) -> OpRecord:
        timing, verifier = Timing(), Verifier(target, plan)
        handle = client.File()
        status, _ = handle.open(self._open_url(target), OpenFlags.READ, timeout=self.timeout_s)
        timing.opened()
        if not status.ok:
            timing.fail(f"{target.url}: cannot open: {_message(status)}")
        else:
            try:
                self._execute(handle, target, plan, timing, verifier)
            finally:
                handle.close(timeout=self.timeout_s)
        return op_record(self.name, target, plan, phase, client_name, timing, verifier.received,
                         verifier.checks_content)

    def _open_url(self, target: ReadTarget) -> str:
        """A token rides on each URL's CGI: ``xrd.ztn`` names the file the channel's ztn login reads
        (a server that requires gsi or ztn refuses a login without credential, whatever the CGI), and
        ``authz`` authorises each open. XrdCl keys channels by user@host, not by CGI, so a client
        keeps one channel (one login) for all its files."""
        cgi = [f"xrd.ztn={self.token_file}"] if self.token_file else []
        cgi += [f"authz=Bearer%20{self.token}"] if self.token else []
        return f"{target.url}?{'&'.join(cgi)}" if cgi else target.url

    def _execute(self, handle: client.File, target: ReadTarget, plan: ReadPlan, timing: Timing,
                 verifier: Verifier) -> None:
        if plan.stat:
            timing.requests += 1
            status, _ = handle.stat(timeout=self.timeout_s)
            if not status.ok:
                timing.fail(f"{target.url}: stat failed: {_message(status)}")
                return
        self._pipeline(handle, requests_for(plan, target.size, self.request_size), timing, verifier)
        if timing.error is None:
            timing.fail(verifier.finish())

    def _pipeline(self, handle: client.File, requests: list[Request], timing: Timing, verifier: Verifier) -> None:
        done: queue.Queue[Checked] = queue.Queue()
        todo = iter(enumerate(requests))
        outstanding = sum(self._submit(handle, i, r, verifier, done) for i, r in _take(todo, self.in_flight))
        while outstanding:
            try:
                checked = done.get(timeout=self.timeout_s * 3)
            except queue.Empty:
                timing.fail(f"{verifier.target.url}: no answer within {self.timeout_s * 3} s")
                return
            outstanding -= 1
            timing.requests += 1
            timing.first_byte()
            if checked.error is None and timing.error is None:  # refill first: the next answer is on its way
                outstanding += sum(self._submit(handle, i, r, verifier, done) for i, r in _take(todo, 1))
            timing.fail(verifier.accept(checked))  # after an error: drain what is in flight, issue nothing

    def _submit(self, handle: client.File, index: int, request: Request, verifier: Verifier,
                done: queue.Queue[Checked]) -> int:
        """Send one request; its answer is checked on XrdCl's callback thread, while still in cache."""

        def on_answer(status: object, response: object, _hosts: object) -> None:
            try:
                done.put(_inspect(verifier, index, request, status, _chunks(request, response)))
            except Exception as exc:  # raised here, it would be lost in XrdCl's thread
                done.put(Checked(index, 0, error=f"{verifier.target.url}: checking an answer failed: {exc!r}"))

        if request.vector:
            status = handle.vector_read(list(request.pieces), timeout=self.timeout_s, callback=on_answer)
        else:
            offset, length = request.pieces[0]
            status = handle.read(offset, length, timeout=self.timeout_s, callback=on_answer)
        if not status.ok:
            done.put(_inspect(verifier, index, request, status, None))
        return 1


def _chunks(request: Request, response: object) -> Chunks | None:
    if request.vector:
        chunks = getattr(response, "chunks", None)
        return None if chunks is None else [(c.offset, c.buffer) for c in chunks]
    return [(request.pieces[0][0], response)] if isinstance(response, bytes) else None


def _inspect(verifier: Verifier, index: int, request: Request, status: object, chunks: Chunks | None) -> Checked:
    url, (first, _) = verifier.target.url, request.pieces[0]
    if not getattr(status, "ok", False):
        kind = "vector read" if request.vector else "read"
        return Checked(index, 0, error=f"{url}: {kind} at {first} failed: {_message(status)}")
    if chunks is None or [o for o, _ in chunks] != [o for o, _ in request.pieces]:
        return Checked(index, 0, error=f"{url}: answer to the request at {first} does not match its pieces")
    if not request.vector:
        (offset, length), (_, data) = request.pieces[0], chunks[0]
        return verifier.inspect(index, offset, length, data)
    verdicts = [verifier.inspect(index, o, n, data) for (o, n), (_, data) in zip(request.pieces, chunks, strict=True)]
    return Checked(index, sum(v.received for v in verdicts), error=next((v.error for v in verdicts if v.error), None))


def _take(items: Iterator[tuple[int, Request]], n: int) -> list[tuple[int, Request]]:
    return [item for _, item in zip(range(n), items, strict=False)]


def _message(status: object) -> str:
    return str(getattr(status, "message", status)).strip().replace("\n", " ")
