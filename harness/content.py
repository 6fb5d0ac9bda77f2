"""Deterministic file content: any byte range of any staged file can be regenerated.

A file is a sequence of 64 KiB blocks, each a slice of one random pool chosen by a hash
of (path, block index). Generating and checking content is therefore memcpy-fast, so
verification never limits a reader, and a cache that returns the wrong block is caught.

Where an access pattern depends on the format, the file is shaped like it: ``fits`` files
start with real 2880-byte header blocks of 80-byte cards (and carry 16 extension headers, as
a raw LSST amplifier file does); ``root`` files carry a ROOT-like file header and a key
list/StreamerInfo region at the end. The shapes are small overlays on the pool bytes, so any
range still regenerates on its own.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

BLOCK = 64 * 1024
POOL = 8 * 1024 * 1024
FITS_BLOCK = 2880  # FITS headers and data units are multiples of 2880 bytes
FITS_CARD = 80
FITS_HEADER_BLOCKS = 4  # a primary header of 11520 bytes: within the 8-64 KiB a metadata scan reads
FITS_EXTENSIONS = 16  # a raw LSST CCD file: one image extension per amplifier
ROOT_HEADER = 100  # ROOT's fBEGIN: the first key starts after the 100-byte file header
ROOT_FOOTER = 64 * 1024  # key list and StreamerInfo at the end, read at open
Format = Literal["raw", "fits", "root"]
Overlay = tuple[tuple[int, bytes], ...]  # (offset, bytes) regions that replace pool bytes


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
    format: Format = "raw"

    def block(self, index: int) -> bytes:
        start = zlib.crc32(f"{self.path}\0{index}".encode()) % POOL
        length = min(BLOCK, self.size - index * BLOCK)
        data = _pool(self.seed)[start : start + length]
        if self.format == "raw":
            return data
        return _patch(data, index * BLOCK, _overlay(self.format, self.path, self.size))

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
        if end > self.size and data:
            return False
        shaped = _overlay(self.format, self.path, self.size) if self.format != "raw" else ()
        for index in range(offset // BLOCK, -(-end // BLOCK)):
            lo, hi = max(offset, index * BLOCK), min(end, (index + 1) * BLOCK)
            if any(o < hi and o + len(piece) > lo for o, piece in shaped):  # FITS/ROOT header bytes: not the pool's
                if not data.startswith(self.expected(lo, hi - lo), lo - offset):
                    return False
                continue
            start = zlib.crc32(f"{self.path}\0{index}".encode()) % POOL + lo - index * BLOCK
            if not data.startswith(pool[start : start + hi - lo], lo - offset):
                return False
        return True

    def adler32(self) -> int:
        checksum = 1
        for chunk in self.chunks():
            checksum = zlib.adler32(chunk, checksum)
        return checksum


def _patch(data: bytes, at: int, overlay: Overlay) -> bytes:
    end = at + len(data)
    hits = [(offset, piece) for offset, piece in overlay if offset < end and offset + len(piece) > at]
    if not hits:
        return data
    buffer = bytearray(data)
    for offset, piece in hits:
        lo, hi = max(offset, at), min(offset + len(piece), end)
        buffer[lo - at : hi - at] = piece[lo - offset : hi - offset]
    return bytes(buffer)


@lru_cache(maxsize=1024)
def _overlay(fmt: Format, path: str, size: int) -> Overlay:
    regions = _fits_overlay(path, size) if fmt == "fits" else _root_overlay(path, size)
    # A small file keeps what fits: a region never runs past the end.
    return tuple((offset, piece[: size - offset]) for offset, piece in regions if offset < size)


def fits_header(cards: list[tuple[str, str]], blocks: int = 1) -> bytes:
    """A FITS header unit: 80-byte cards, END, padded with spaces to ``blocks`` x 2880 bytes."""
    lines = [f"{key:<8}= {value:>20}".ljust(FITS_CARD) for key, value in cards] + ["END".ljust(FITS_CARD)]
    text = "".join(lines).encode("ascii")
    blocks = max(blocks, -(-len(text) // FITS_BLOCK))
    return text.ljust(blocks * FITS_BLOCK, b" ")


def _fits_overlay(path: str, size: int) -> list[tuple[int, bytes]]:
    name = path.rsplit("/", 1)[-1][:60].replace("'", "_")
    primary = fits_header([("SIMPLE", "T"), ("BITPIX", "16"), ("NAXIS", "0"), ("EXTEND", "T"),
                           ("ORIGIN", "'xcache-harness'"), ("FILENAME", f"'{name}'"),
                           ("NEXTEND", str(FITS_EXTENSIONS))], FITS_HEADER_BLOCKS)
    regions = [(0, primary)]
    unit = (size - len(primary)) // FITS_EXTENSIONS // FITS_BLOCK * FITS_BLOCK
    for k in range(FITS_EXTENSIONS if unit >= 2 * FITS_BLOCK else 0):
        regions.append((len(primary) + k * unit, fits_header(
            [("XTENSION", "'IMAGE'"), ("BITPIX", "16"), ("NAXIS", "2"), ("EXTNAME", f"'AMP{k:02d}'")])))
    return regions


def _root_overlay(path: str, size: int) -> list[tuple[int, bytes]]:
    # Shaped like ROOT's small-file header: magic, version, fBEGIN, fEND, fSeekFree, fNbytesFree,
    # nfree, fNbytesName, fUnits, fCompress, fSeekInfo, fNbytesInfo; the rest is the file name.
    footer_at = max(ROOT_HEADER, size - ROOT_FOOTER)
    fields = struct.pack(">4siiiiiiibiii", b"root", 62206, ROOT_HEADER, size, footer_at, 64, 1, 60, 4, 101,
                         footer_at + 1024, 4096)
    header = (fields + path.encode()[: ROOT_HEADER - len(fields)]).ljust(ROOT_HEADER, b"\0")
    marker = b"KeysList" + struct.pack(">q", footer_at) + b"StreamerInfo TList TTree TBranch TBasket "
    return [(0, header), (footer_at, marker)]


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
