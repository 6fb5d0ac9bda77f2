"""Checking what a reader received, piece by piece, at memcpy speed.

A whole-file read is folded into adler32 in file order and compared with the checksum recorded at
staging; a partial read is compared with the regenerated content of each range. A target with
neither (data the harness did not stage) is read and timed but reported as unverified.
"""

from __future__ import annotations

import queue
import threading
import zlib

from harness.plan import ReadPlan, ReadTarget
from harness.readers.pieces import clipped


class Verifier:
    """Accepts pieces in any order (``index`` = issue order) and says what is wrong, if anything."""

    def __init__(self, target: ReadTarget, plan: ReadPlan) -> None:
        self.target, self.plan = target, plan
        self.by_adler32 = plan.whole_file and target.adler32 is not None
        self.by_content = not self.by_adler32 and target.content is not None
        self.received = 0
        self._checksum, self._next = 1, 0
        self._pending: dict[int, bytes] = {}

    @property
    def checks_content(self) -> bool:
        return self.by_adler32 or self.by_content

    def piece(self, index: int, offset: int, length: int, data: bytes) -> str | None:
        """One answer to a request of ``length`` at ``offset``; None when it is right."""
        self.received += len(data)
        expected = clipped(offset, length, self.target.size)
        if len(data) != expected:
            return f"{self.target.url}: short read at {offset}: {len(data)} of {expected} bytes"
        if self.by_content and self.target.content is not None and data != self.target.content.expected(offset,
                                                                                                        length):
            return f"{self.target.url}: content differs from what was staged in {offset}+{length}"
        if self.by_adler32:
            self._fold(index, data)
        return None

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

    def _fold(self, index: int, data: bytes) -> None:
        self._pending[index] = data
        while self._next in self._pending:
            self._checksum = zlib.adler32(self._pending.pop(self._next), self._checksum)
            self._next += 1


class BackgroundCheck:
    """Checks pieces on one worker thread, in arrival order, so checking overlaps the next read:
    zlib releases the GIL while it checksums, so a reader keeps receiving at the same time.

    ``submit`` blocks while ``depth`` pieces wait, which bounds the memory held; the first error
    is kept and returned by ``error`` (all checks done) once ``close`` has been called.
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
