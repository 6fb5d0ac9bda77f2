"""How plans become requests, and how answers are checked: the edge cases, without a server."""

from __future__ import annotations

import zlib

from hypothesis import given
from hypothesis import strategies as st

from harness.content import FileContent
from harness.plan import MAX_VECTOR_CHUNKS, ReadPlan, ReadTarget
from harness.readers.pieces import FIRST_READ, MAX_CHUNK_BYTES, requests_for, split_range
from harness.readers.verify import Verifier, adler32_concat

MiB = 1024 * 1024


def test_vector_plans_split_at_the_chunk_limit() -> None:
    plan = ReadPlan("sparse", tuple((i * 8192, 100) for i in range(2 * MAX_VECTOR_CHUNKS + 452)), vector=True)
    requests = requests_for(plan, 10**9, 8 * MiB)
    assert [len(r.pieces) for r in requests] == [MAX_VECTOR_CHUNKS, MAX_VECTOR_CHUNKS, 452]
    assert all(r.vector for r in requests)
    assert [p for r in requests for p in r.pieces] == list(plan.ranges)


def test_vector_chunks_are_clipped_to_the_file_and_to_the_readv_chunk_limit() -> None:
    plan = ReadPlan("v", ((0, 3 * MAX_CHUNK_BYTES), (990, 100), (5000, 10)), vector=True)
    pieces = [p for r in requests_for(plan, 1000, MiB) for p in r.pieces]
    assert pieces == [(0, 1000), (990, 10)]
    big = [p for r in requests_for(plan, 10**9, MiB) for p in r.pieces][:3]
    assert big == [(0, MAX_CHUNK_BYTES), (MAX_CHUNK_BYTES, MAX_CHUNK_BYTES), (2 * MAX_CHUNK_BYTES, MAX_CHUNK_BYTES)]


def test_ranges_past_eof_are_asked_once() -> None:
    assert split_range(100, 5 * MiB, 1000, MiB) == [(100, MiB)]
    assert split_range(5000, 10, 1000, MiB) == [(5000, 10)]
    assert split_range(0, 3 * MiB, 10**9, MiB) == [(0, MiB), (MiB, MiB), (2 * MiB, MiB)]


def test_whole_file_starts_small_then_aligns_to_the_request_size() -> None:
    pieces = [r.pieces[0] for r in requests_for(ReadPlan(), 2 * MiB + 5, MiB)]
    assert pieces == [(0, FIRST_READ), (FIRST_READ, MiB - FIRST_READ), (MiB, MiB), (2 * MiB, 5)]
    assert [r.pieces[0] for r in requests_for(ReadPlan(), 100, MiB)] == [(0, 100)]


def test_wrong_bytes_in_a_range_are_named() -> None:
    content = FileContent(3, "/f", 300_000)
    target = ReadTarget("root://h:1", "/f", content.size, content=content)
    verifier = Verifier(target, ReadPlan("r", ((70_000, 10),)))
    assert verifier.piece(0, 70_000, 10, content.expected(70_000, 10)) is None
    error = verifier.piece(0, 70_000, 10, b"x" * 10)
    assert error is not None and "content differs" in error and "70000+10" in error


def test_short_answers_and_past_eof_answers() -> None:
    content = FileContent(3, "/f", 1000)
    target = ReadTarget("root://h:1", "/f", content.size, content=content)
    verifier = Verifier(target, ReadPlan("r", ((990, 100), (5000, 10))))
    assert verifier.piece(0, 990, 100, content.expected(990, 10)) is None
    assert verifier.piece(1, 5000, 10, b"") is None
    assert verifier.finish() is None and verifier.received == 10
    assert "short read at 0: 5 of 10" in str(Verifier(target, ReadPlan("r", ((0, 10),))).piece(0, 0, 10, b"12345"))


def test_whole_file_checksum_is_folded_in_file_order() -> None:
    data = bytes(range(256)) * 100
    target = ReadTarget("root://h:1", "/f", len(data), adler32=zlib.adler32(data))
    verifier = Verifier(target, ReadPlan())
    for index, offset in [(1, 100), (0, 0), (2, 200)]:  # out of order
        length = 100 if index < 2 else len(data) - 200
        assert verifier.piece(index, offset, length, data[offset : offset + length]) is None
    assert verifier.finish() is None
    wrong = Verifier(ReadTarget("root://h:1", "/f", len(data), adler32=1), ReadPlan())
    wrong.piece(0, 0, len(data), data)
    assert "adler32" in str(wrong.finish())


def test_unstaged_files_are_read_but_not_verified() -> None:
    verifier = Verifier(ReadTarget("root://h:1", "/f", 10), ReadPlan())
    assert not verifier.checks_content
    assert verifier.piece(0, 0, 10, b"0123456789") is None and verifier.finish() is None


def test_root_urls_keep_the_path_raw_http_urls_quote_it() -> None:
    path = "/magic/RAW/20200313_M1_05089889.008_D_CrabNebula-W 0.40+215.raw.gz"
    assert ReadTarget("root://h:1094", path, 1).url == f"root://h:1094/{path}"
    http = ReadTarget("https://h:1094", path, 1).url
    assert http == "https://h:1094/magic/RAW/20200313_M1_05089889.008_D_CrabNebula-W%200.40%2B215.raw.gz"


@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_adler32_of_a_concatenation_from_its_parts(x: bytes, y: bytes) -> None:
    assert adler32_concat(zlib.adler32(x), zlib.adler32(y), len(y)) == zlib.adler32(x + y)


def test_adler32_concat_on_large_pieces() -> None:
    x, y = bytes(range(256)) * 40_000, b"\xff" * 9_000_001  # sums wrap the modulus many times
    assert adler32_concat(zlib.adler32(x), zlib.adler32(y), len(y)) == zlib.adler32(x + y)


def test_tls_name_changes_the_name_verified_not_where_to_connect() -> None:
    target = ReadTarget("https://172.18.0.3:1095", "/a b", 1, tls_name="lapp-xcache")
    assert target.url == "https://172.18.0.3:1095/a%20b" and target.verify_name == "lapp-xcache"
    assert target.named_url == "https://lapp-xcache:1095/a%20b"
    plain = ReadTarget("https://localhost:1094", "/a", 1)
    assert plain.verify_name == "localhost" and plain.named_url == plain.url
