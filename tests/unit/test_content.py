from __future__ import annotations

import zlib

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


def test_matches_knows_the_shaped_header_and_footer_of_root_and_fits_files() -> None:
    formats: tuple[Format, ...] = ("root", "fits")
    for fmt in formats:
        content = FileContent(3, "/m/CrabNebula-W 0.40+215.root", 3 * BLOCK + 5, fmt)
        whole = content.expected(0, content.size)
        assert content.matches(0, whole) and content.matches(50, whole[50:BLOCK + 9])
        assert content.matches(content.size - 200, whole[-200:])
        bad = bytearray(whole)
        bad[1] ^= 1  # inside the format's header
        assert not content.matches(0, bad) and not content.matches(content.size - 5, whole[-5:] + b"x")
