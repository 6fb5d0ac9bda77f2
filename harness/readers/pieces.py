"""How a ``ReadPlan`` becomes the requests a reader sends: pieces of at most one request size,
vector requests of at most ``MAX_VECTOR_CHUNKS`` chunks. Pure, so the edge cases are unit-tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from harness.plan import MAX_VECTOR_CHUNKS, Range, ReadPlan

# The first request of a whole-file read is small so that time to first byte means what it says
# (open + 4 KiB), not the arrival of a whole 8 MiB piece; later requests stay aligned to request_size.
FIRST_READ = 4096
# kXR_readv limits (field notes): a chunk of more than 2,097,136 B fails with error 3008, and a
# request must stay below 2 GiB in total; the client does not split for us.
MAX_CHUNK_BYTES = 2_097_136
MAX_VECTOR_BYTES = 1024**3


@dataclass(frozen=True)
class Request:
    """One request on the wire: a plain read of one piece, or a vector read of several."""

    pieces: tuple[Range, ...]
    vector: bool = False


def clipped(offset: int, length: int, size: int) -> int:
    """Bytes a correct server returns for ``length`` at ``offset`` of a ``size``-byte file."""
    return max(0, min(offset + length, size) - offset)


def requests_for(plan: ReadPlan, size: int, request_size: int) -> list[Request]:
    """The requests that execute ``plan`` on a file of ``size`` bytes, in issue order."""
    if plan.whole_file:
        return [Request((piece,)) for piece in whole_file(size, request_size)]
    if plan.vector:
        return vector_requests(plan.ranges, size)
    return [Request((piece,)) for offset, length in plan.ranges for piece in split_range(offset, length, size,
                                                                                          request_size)]


def whole_file(size: int, request_size: int) -> list[Range]:
    if size <= FIRST_READ or request_size <= FIRST_READ:
        return [(o, min(request_size, size - o)) for o in range(0, size, request_size)]
    pieces = [(0, FIRST_READ), (FIRST_READ, min(request_size, size) - FIRST_READ)]
    return pieces + [(o, min(request_size, size - o)) for o in range(request_size, size, request_size)]


def split_range(offset: int, length: int, size: int, request_size: int) -> list[Range]:
    """Pieces of one range. A range past EOF is still sent once (a reader asks, the server answers
    short); pieces wholly past EOF after the first are not, they would only repeat that answer."""
    pieces = [(o, min(request_size, offset + length - o)) for o in range(offset, offset + length, request_size)]
    return [p for i, p in enumerate(pieces) if i == 0 or p[0] < size]


def vector_requests(ranges: tuple[Range, ...], size: int) -> list[Request]:
    """Chunks clipped to the file (a readv chunk past EOF fails the whole request), then batched."""
    return [Request(batch, vector=True) for batch in _batches(_chunks(ranges, size))]


def _chunks(ranges: tuple[Range, ...], size: int) -> Iterator[Range]:
    for offset, length in ranges:
        end = offset + clipped(offset, length, size)
        yield from ((o, min(MAX_CHUNK_BYTES, end - o)) for o in range(offset, end, MAX_CHUNK_BYTES))


def _batches(chunks: Iterator[Range]) -> Iterator[tuple[Range, ...]]:
    batch: list[Range] = []
    for chunk in chunks:
        if len(batch) == MAX_VECTOR_CHUNKS or sum(length for _, length in batch) + chunk[1] > MAX_VECTOR_BYTES:
            yield tuple(batch)
            batch = []
        batch.append(chunk)
    if batch:
        yield tuple(batch)
