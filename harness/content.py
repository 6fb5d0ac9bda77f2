"""Deterministic file content: any byte range of any staged file can be regenerated.

A file is a sequence of 64 KiB blocks, each a slice of one random pool chosen by a hash
of (path, block index). Generating and checking content is therefore memcpy-fast, so
verification never limits a reader, and a cache that returns the wrong block is caught.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

BLOCK = 64 * 1024
POOL = 8 * 1024 * 1024


@lru_cache(maxsize=4)
def _pool(seed: int) -> bytes:
    data = random.Random(seed).randbytes(POOL)
    return data + data[:BLOCK]  # a block may start near the end and wrap


@dataclass(frozen=True)
class FileContent:
    """The content of one staged file, defined by the dataset seed, its path and size."""

    seed: int
    path: str
    size: int

    def block(self, index: int) -> bytes:
        start = zlib.crc32(f"{self.path}\0{index}".encode()) % POOL
        length = min(BLOCK, self.size - index * BLOCK)
        return _pool(self.seed)[start : start + length]

    def chunks(self, chunk_size: int = 4 * 1024 * 1024) -> Iterator[bytes]:
        """Yield the whole file in pieces of about ``chunk_size`` bytes (block-aligned)."""
        per_chunk = max(1, chunk_size // BLOCK)
        n_blocks = -(-self.size // BLOCK)
        for first in range(0, n_blocks, per_chunk):
            last = min(first + per_chunk, n_blocks)
            yield b"".join(self.block(i) for i in range(first, last))

    def expected(self, offset: int, length: int) -> bytes:
        """The bytes a correct server returns for a read of ``length`` at ``offset``."""
        end = min(offset + length, self.size)
        if offset >= end:
            return b""
        first, last = offset // BLOCK, (end - 1) // BLOCK
        data = b"".join(self.block(i) for i in range(first, last + 1))
        skip = offset - first * BLOCK
        return data[skip : skip + end - offset]

    def matches(self, offset: int, data: bytes | bytearray) -> bool:
        """Whether ``data`` is this file's content at ``offset``: one memcmp per block against the
        pool (``startswith`` with a start index compares in place), ~4x faster than adler32."""
        end, pool = offset + len(data), memoryview(_pool(self.seed))
        for index in range(offset // BLOCK, -(-end // BLOCK)):
            lo, hi = max(offset, index * BLOCK), min(end, (index + 1) * BLOCK)
            start = zlib.crc32(f"{self.path}\0{index}".encode()) % POOL + lo - index * BLOCK
            if not data.startswith(pool[start : start + hi - lo], lo - offset):
                return False
        return not data or end <= self.size

    def adler32(self) -> int:
        checksum = 1
        for chunk in self.chunks():
            checksum = zlib.adler32(chunk, checksum)
        return checksum


class Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


class Adler32:
    """adler32 with hashlib's ``update`` shape, so one pass-through serves every checksum."""

    def __init__(self) -> None:
        self.value = 1

    def update(self, data: bytes, /) -> None:
        self.value = zlib.adler32(data, self.value)


def digesting(chunks: Iterable[bytes], digest: Digest) -> Iterator[bytes]:
    """Pass ``chunks`` on unchanged while feeding them to ``digest``: checksums come free with staging."""
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
