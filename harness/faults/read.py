"""Reads that check every byte against the staged content and never outlive their bound.

A fault case reads sequentially in chunks so that a fault can be injected at a known offset
(``between``), and every chunk is compared with ``FileContent.expected``: a cache serving a
corrupted block is caught at the offset where it differs. Each read runs in a daemon thread
joined with a deadline: a read still blocked at its bound is reported as ``None`` (hung) and
abandoned; tearing its servers down ends it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from XRootD import client
from XRootD.client.flags import OpenFlags

from harness.content import FileContent
from harness.faults.outcome import ReadResult

CHUNK = 1024**2
# XrdCl's status codes for "no answer in time": errOperationExpired, errSocketTimeout.
EXPIRED_CODES = {206, 103}
T = TypeVar("T")


@dataclass(frozen=True)
class VerifiedRead:
    """Sequential reads of ``chunk`` bytes, each with ``timeout_s`` (XrdCl's own bound per request)."""

    timeout_s: int
    chunk: int = CHUNK

    def read(self, label: str, url: str, content: FileContent, at: int = 0,
             between: Callable[[], None] | None = None) -> ReadResult:
        """Read the whole file; call ``between`` once the first ``at`` bytes are in."""
        t0 = time.perf_counter()
        handle = client.File()
        status, _ = handle.open(url, OpenFlags.READ, timeout=self.timeout_s)
        if not status.ok:
            return _failed(label, 0, t0, f"{url}: cannot open: {_message(status)}", status)
        try:
            return self._chunks(handle, label, url, content, at, between, t0)
        finally:
            handle.close(timeout=self.timeout_s)

    def _chunks(self, handle: client.File, label: str, url: str, content: FileContent, at: int,
                between: Callable[[], None] | None, t0: float) -> ReadResult:
        offset, wrong = 0, None
        while offset < content.size:
            if between is not None and offset >= at:
                between()
                between = None
            length = min(self.chunk, content.size - offset)
            status, data = handle.read(offset, length, timeout=self.timeout_s)
            if not status.ok:
                return _failed(label, offset, t0, f"{url}: read at {offset} failed: {_message(status)}", status)
            if len(data) != length:
                return _failed(label, offset, t0, f"{url}: short read at {offset}: {len(data)} of {length}", status)
            if wrong is None:
                wrong = _first_difference(data, content.expected(offset, length), offset)
            offset += length
        return ReadResult(label, content.size if wrong is None else 0, time.perf_counter() - t0, wrong_at=wrong,
                          error=None if wrong is None else f"{url}: content differs from the staged data at {wrong}")


def within(bound_s: float, work: Callable[[], T]) -> T | None:
    """``work()`` in a daemon thread; its result, or None if it is still running at ``bound_s``."""
    return together(bound_s, [work])[0]


def together(bound_s: float, works: Sequence[Callable[[], T]]) -> list[T | None]:
    """Start every ``work`` at the same moment (a barrier); results, None for those past ``bound_s``."""
    barrier = threading.Barrier(len(works))
    results: list[T | None] = [None] * len(works)
    errors: list[BaseException] = []

    def run(i: int, work: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=bound_s)
            results[i] = work()
        except BaseException as exc:  # handed to the caller: a fault that could not be injected
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, w), name=f"fault-read-{i}", daemon=True)
               for i, w in enumerate(works)]
    deadline = time.monotonic() + bound_s
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[0]
    return results


def _first_difference(got: bytes, expected: bytes, offset: int) -> int | None:
    if got == expected:
        return None
    return offset + next(i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b)


def _failed(label: str, offset: int, t0: float, error: str, status: object) -> ReadResult:
    expired = getattr(status, "code", None) in EXPIRED_CODES
    return ReadResult(label, offset, time.perf_counter() - t0, error=error, expired=expired)


def _message(status: object) -> str:
    return str(getattr(status, "message", status)).strip().replace("\n", " ")
