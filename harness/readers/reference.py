"""Reference readers: the stock clients, ``xrdcp`` and ``curl``, run as child processes.

They give the figures the harness' own readers are compared with, and they are what users run.
With ``check`` the data comes back through a pipe and is verified like any other read; without
it the client writes to /dev/null, its fastest path, and the read is reported unverified. Every
child is bounded: the clients' own stall timeouts, and a kill after ``budget_s``.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget
from harness.readers.pieces import Request, clipped, requests_for
from harness.readers.record import Timing, op_record
from harness.readers.verify import BackgroundCheck, Verifier

PIPE_BYTES = 1024 * 1024  # a 64 KiB pipe would cost a context switch per 64 KiB
CHUNK = 4 * 1024 * 1024
TIMING_MARK = "xch-timing"  # curl -w line on stderr: pretransfer and starttransfer seconds


@dataclass(frozen=True)
class Piece:
    offset: int
    length: int  # as asked
    sent: int  # what a correct server returns; 0: never sent (past EOF)


@dataclass(frozen=True)
class XrdcpReader:
    """``xrdcp -f --nopbar URL -`` (or ``/dev/null``); ``env`` tunes it, e.g. XRD_CPUSEPGWRTRD=0."""

    env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: int = 10
    check: bool = True
    name = "xrdcp"

    def read(self, target: ReadTarget, plan: ReadPlan, phase: str, client_name: str) -> OpRecord:
        timing, verifier = Timing(), Verifier(target, plan)
        if not plan.whole_file:
            timing.fail(f"{target.url}: xrdcp reads whole files only, not a {plan.pattern!r} plan")
        else:
            argv = ["xrdcp", "-f", "--nopbar", target.url, "-" if self.check else "/dev/null"]
            pieces = [Piece(0, target.size, target.size)] if self.check else None
            _run(argv, self._env(), timing, verifier, pieces, budget_s(target.size, self.timeout_s))
        return op_record(self.name, target, plan, phase, client_name, timing,
                         _received(verifier, timing, plan, target), self.check and verifier.checks_content)

    def _env(self) -> dict[str, str]:
        bounded = {"XRD_CONNECTIONRETRY": "1", "XRD_CONNECTIONWINDOW": str(self.timeout_s),
                   "XRD_REQUESTTIMEOUT": str(self.timeout_s), "XRD_STREAMTIMEOUT": str(self.timeout_s)}
        return os.environ | bounded | dict(self.env)


@dataclass(frozen=True)
class CurlReader:
    """``curl`` with one Range request per range (clipped to the file, as XrdHttp 5.5.3 needs)."""

    ca_path: str | None = None
    timeout_s: int = 10
    check: bool = True
    request_size: int = 8 * 1024 * 1024
    name = "curl"

    def read(self, target: ReadTarget, plan: ReadPlan, phase: str, client_name: str) -> OpRecord:
        timing, verifier = Timing(), Verifier(target, plan)
        pieces = _pieces(plan, target.size, self.request_size)
        argv = ["curl", *self._transfer(target, [p for p in pieces if p.sent] if pieces else None)]
        _run(argv, os.environ, timing, verifier, (pieces or [Piece(0, target.size, target.size)]) if self.check
             else None, budget_s(target.size, self.timeout_s))
        return op_record(self.name, target, plan, phase, client_name, timing,
                         _received(verifier, timing, plan, target), self.check and verifier.checks_content)

    def _transfer(self, target: ReadTarget, ranges: list[Piece] | None) -> list[str]:
        common = ["-sS", "--fail", "--noproxy", "*", "--connect-timeout", str(self.timeout_s),
                  "--speed-limit", "1", "--speed-time", str(self.timeout_s),
                  "-w", f"%{{stderr}}{TIMING_MARK} %{{time_pretransfer}} %{{time_starttransfer}}\\n",
                  "-o", "-" if self.check else "/dev/null"]
        common += ["--cacert", self.ca_path] if self.ca_path else []
        common += _resolve(target)
        url = target.named_url
        if ranges is None:
            return [*common, url]
        argv: list[str] = []
        for piece in ranges:
            argv += [*(["--next"] if argv else []), *common, "-r", f"{piece.offset}-{piece.offset + piece.sent - 1}",
                     url]
        return argv


def _resolve(target: ReadTarget) -> list[str]:
    """The URL names the server as its certificate does; ``--resolve`` sends curl to the address."""
    if target.tls_name is None:
        return []
    parts = urlsplit(target.url)
    address = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return ["--resolve", f"{target.tls_name}:{parts.port}:{address}"]


def budget_s(size: int, timeout_s: int) -> float:
    """The most a child may take: stall timeouts plus the file at 1 MB/s, so a hung child dies."""
    return 3 * timeout_s + size / 1e6


def _pieces(plan: ReadPlan, size: int, request_size: int) -> list[Piece] | None:
    if plan.whole_file:
        return None
    requests: list[Request] = requests_for(plan, size, request_size)
    return [Piece(o, n, clipped(o, n, size)) for r in requests for o, n in r.pieces]


def _run(argv: list[str], env: Mapping[str, str], timing: Timing, verifier: Verifier, pieces: list[Piece] | None,
         budget: float) -> None:
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
            argv, stdout=subprocess.PIPE if pieces is not None else subprocess.DEVNULL, stderr=errors,
            env=dict(env)) as proc:
        watchdog = threading.Timer(budget, proc.kill)
        watchdog.start()
        try:
            if pieces is not None and proc.stdout is not None:
                _consume(proc.stdout, pieces, timing, verifier)
            returncode = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
        errors.seek(0)
        _finish(argv, returncode, errors.read().decode(errors="replace"), timing, verifier, pieces is not None)


def _consume(stdout: IO[bytes], pieces: list[Piece], timing: Timing, verifier: Verifier) -> None:
    fcntl.fcntl(stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    check, index = BackgroundCheck(verifier), 0
    try:
        for piece in pieces:
            offset, left = piece.offset, piece.sent
            while left and not check.failed and (data := os.read(stdout.fileno(), min(CHUNK, left))):
                timing.first_byte()
                check.submit(index, offset, len(data), data)
                offset, left, index = offset + len(data), left - len(data), index + 1
            if piece.sent == 0:
                check.submit(index, piece.offset, piece.length, b"")
                index += 1
    finally:
        timing.fail(check.close())


def _finish(argv: list[str], returncode: int, stderr: str, timing: Timing, verifier: Verifier,
            checked: bool) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    marks = [line.split() for line in lines if line.startswith(TIMING_MARK)]
    if returncode == 0 and marks and timing.ttfb_s is None:  # /dev/null: curl's own clock (from its start)
        timing.open_s, timing.ttfb_s = float(marks[0][1]), float(marks[0][2])
    timing.requests = max(1, len(marks))
    message = next((line for line in lines if not line.startswith(TIMING_MARK)), "")
    if returncode != 0:
        timing.fail(f"{verifier.target.url}: {argv[0]} exited {returncode}: {message}".strip().rstrip(":"))
    elif checked:
        timing.fail(verifier.finish())


def _received(verifier: Verifier, timing: Timing, plan: ReadPlan, target: ReadTarget) -> int:
    """Bytes received: counted when piped; to /dev/null, what a successful read must have carried."""
    if verifier.received or timing.error is not None:
        return verifier.received
    return plan.bytes_for(target.size)
