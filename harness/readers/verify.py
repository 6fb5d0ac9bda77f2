"""Checking what a reader received, piece by piece, at memcpy speed.

Where the content is known (``target.content``), every piece is compared in place with it, block
by block (a memcmp, ~13 GB/s here); a whole-file read of a file known only by its staged adler32
is checksummed piece by piece and the pieces' checksums are combined in file order (~3 GB/s).
Either runs on whichever thread received the piece, while the data is still in the CPU cache.
A target with neither (data the harness did not stage) is read and timed but reported unverified.
"""

from __future__ import annotations

import queue
import threading
import zlib
from dataclasses import dataclass

from harness.plan import ReadPlan, ReadTarget
from harness.readers.pieces import clipped

ADLER_BASE = 65521  # the largest prime below 2**16 (RFC 1950)


def adler32_concat(first: int, second: int, second_length: int) -> int:
    """adler32 of X+Y from adler32(X), adler32(Y) and len(Y).

    With adler = B << 16 | A, A = 1 + sum of bytes, B = sum of the running A values (mod 65521):
    A(XY) = A(X) + A(Y) - 1, and every one of Y's n steps adds A(X) - 1 more to B, so
    B(XY) = B(X) + B(Y) + n * (A(X) - 1).
    """
    a1, b1, a2, b2 = first & 0xFFFF, first >> 16, second & 0xFFFF, second >> 16
    a = (a1 + a2 - 1) % ADLER_BASE
    b = (b1 + b2 + second_length * (a1 - 1)) % ADLER_BASE
    return b << 16 | a


@dataclass(frozen=True)
class Checked:
    """The verdict on one answer, made on the thread that received it."""

    index: int
    received: int
    adler32: int = 1
    error: str | None = None


class Verifier:
    """``inspect`` is thread-safe and does the work; ``accept`` (one thread) keeps count and order."""

    def __init__(self, target: ReadTarget, plan: ReadPlan) -> None:
        self.target, self.plan = target, plan
        self.by_content = target.content is not None
        self.by_adler32 = plan.whole_file and target.adler32 is not None and not self.by_content
        self.received = 0
        self._checksum, self._next = 1, 0
        self._pending: dict[int, Checked] = {}

    @property
    def checks_content(self) -> bool:
        return self.by_adler32 or self.by_content

    def inspect(self, index: int, offset: int, length: int, data: bytes | bytearray) -> Checked:
        """Check one answer to a request of ``length`` at ``offset``."""
        expected = clipped(offset, length, self.target.size)
        if len(data) != expected:
            return Checked(index, len(data), error=f"{self.target.url}: short read at {offset}: "
                                                   f"{len(data)} of {expected} bytes")
        content = self.target.content
        if self.by_content and content is not None and not content.matches(offset, data):
            return Checked(index, len(data), error=f"{self.target.url}: content differs from what was staged "
                                                   f"in {offset}+{length}")
        return Checked(index, len(data), zlib.adler32(data) if self.by_adler32 else 1)

    def accept(self, checked: Checked) -> str | None:
        """Count a checked answer and fold its checksum in issue order; returns its error."""
        self.received += checked.received
        if self.by_adler32 and checked.error is None:
            self._pending[checked.index] = checked
            while self._next in self._pending:
                piece = self._pending.pop(self._next)
                self._checksum = adler32_concat(self._checksum, piece.adler32, piece.received)
                self._next += 1
        return checked.error

    def piece(self, index: int, offset: int, length: int, data: bytes) -> str | None:
        return self.accept(self.inspect(index, offset, length, data))

    def finish(self) -> str | None:
        """After the last piece: the total and, for whole files, the checksum."""
        want = self.plan.bytes_for(self.target.size)
        if self.received != want:
            return f"{self.target.url}: read {self.received} of {want} bytes"
        staged = self.target.adler32
        if self.by_adler32 and staged is not None and self._checksum != staged:
            return (f"{self.target.url}: content differs from what was staged "
                    f"(adler32 {self._checksum:08x}, staged {staged:08x})")
        return None


class BackgroundCheck:
    """Checks pieces on one worker thread, in arrival order, so checking overlaps the next read:
    zlib releases the GIL while it checksums, so a reader keeps receiving at the same time.

    ``submit`` blocks while ``depth`` pieces wait, which bounds the memory held; the first error
    is kept and returned by ``close`` (all checks done).
    """

    def __init__(self, verifier: Verifier, depth: int = 4) -> None:
        self.verifier = verifier
        self._error: str | None = None
        self._todo: queue.Queue[tuple[int, int, int, bytes] | None] = queue.Queue(depth)
        self._thread = threading.Thread(target=self._run, name="reader-check", daemon=True)
        self._thread.start()

    def submit(self, index: int, offset: int, length: int, data: bytes) -> None:
        self._todo.put((index, offset, length, data))

    @property
    def failed(self) -> bool:
        return self._error is not None

    def close(self) -> str | None:
        self._todo.put(None)
        self._thread.join()
        return self._error

    def _run(self) -> None:
        while (item := self._todo.get()) is not None:
            if self._error is None:
                self._error = self.verifier.piece(*item)
