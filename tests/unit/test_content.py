from __future__ import annotations

import zlib

import pytest

from harness.content import BLOCK, FileContent, Format


def test_any_range_matches_the_streamed_file() -> None:
    content = FileContent(7, "/a b+c.root", 3 * BLOCK + 123)
    whole = b"".join(content.chunks(chunk_size=BLOCK))
    assert len(whole) == content.size
    for offset, length in [(0, 1), (BLOCK - 5, 10), (5, 3 * BLOCK), (content.size - 3, 100), (content.size, 5)]:
        assert content.expected(offset, length) == whole[offset : offset + length]
    assert content.adler32() == zlib.adler32(whole)


def test_files_differ_by_path_and_seed_but_not_by_run() -> None:
    a, b, c = FileContent(1, "/x", BLOCK), FileContent(1, "/y", BLOCK), FileContent(2, "/x", BLOCK)
    assert len({a.expected(0, BLOCK), b.expected(0, BLOCK), c.expected(0, BLOCK)}) == 3
    assert FileContent(1, "/x", BLOCK).adler32() == a.adler32()


def test_blocks_within_a_file_differ() -> None:
    content = FileContent(1, "/x", 4 * BLOCK)
    assert len({content.block(i) for i in range(4)}) == 4


def test_matches_compares_any_piece_in_place() -> None:
    content = FileContent(7, "/a b+c.root", 3 * BLOCK + 123)
    whole = b"".join(content.chunks(chunk_size=BLOCK))
    for offset, length in [(0, 1), (BLOCK - 5, 10), (5, 3 * BLOCK), (content.size - 3, 3), (content.size, 0)]:
        piece = whole[offset : offset + length]
        assert content.matches(offset, piece) and content.matches(offset, bytearray(piece))
        if piece:
            flipped = bytearray(piece)
            flipped[-1] ^= 1
            assert not content.matches(offset, flipped)
    assert not content.matches(BLOCK, whole[:100])  # right bytes, wrong place
    assert not content.matches(content.size - 3, whole[-3:] + b"x")  # past the end


@pytest.mark.parametrize("fmt", ["fits", "root"])
def test_matches_knows_format_overlays(fmt: Format) -> None:
    """matches() must agree with expected() where a FITS/ROOT header or footer lies over the pool data."""
    content = FileContent(7, "/x/f.fits", 3 * 1024 * 1024 + 123, format=fmt)
    for offset, length in [(0, 4096), (0, 200_000), (content.size - 70_000, 70_000), (1_000_000, 300_000)]:
        good = content.expected(offset, length)
        assert content.matches(offset, good)
        assert not content.matches(offset, bytes([good[0] ^ 1]) + good[1:])
