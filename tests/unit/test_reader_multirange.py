"""Multi-range requests of the https reader: batching, multipart parsing, and the fallback to single
ranges when a server answers with the whole file (a Python HTTP server stands in; no xrootd here)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from harness.content import FileContent
from harness.plan import ReadPlan, ReadTarget
from harness.readers.httpconn import HttpError, multipart_parts
from harness.readers.https import MAX_RANGE_HEADER, MAX_RANGES, HttpsReader, multirange_batches

CONTENT = FileContent(9, "/f", 300_000)


def test_batches_respect_range_count_header_length_bytes_and_eof() -> None:
    pieces = [(i * 10, 5) for i in range(3000)] + [(10**9, 5)]
    batches = multirange_batches(pieces, 100_000, 10**9)
    assert all(len(b) <= MAX_RANGES for b in batches) and batches[-1] == [(3000, (10**9, 5))]
    assert [i for b in batches for i, _ in b] == list(range(3001))  # every piece once, in order
    assert all(len(",".join(f"{o}-{o + n - 1}" for _, (o, n) in b)) <= MAX_RANGE_HEADER for b in batches)
    by_bytes = multirange_batches([(0, 100), (200, 100), (400, 100), (99_990, 100)], 100_000, 200)
    assert by_bytes == [[(0, (0, 100)), (1, (200, 100))], [(2, (400, 100)), (3, (99_990, 10))]]


def test_multipart_parts_are_taken_by_length_even_when_data_holds_the_boundary() -> None:
    data = b"x\r\n--123456\r\ny"
    body = (b"\r\n--123456\r\nContent-type: text/plain\r\nContent-range: bytes 5-18/99\r\n\r\n" + data
            + b"\r\n--123456\r\nContent-range: bytes 0-1/99\r\n\r\nab\r\n--123456--\r\n")
    assert multipart_parts(body, b"123456") == [(5, data), (0, b"ab")]
    assert multipart_parts(body[2:], b"123456") == [(5, data), (0, b"ab")]  # no CRLF before the first
    with pytest.raises(HttpError, match="malformed"):
        multipart_parts(body[:90], b"123456")  # truncated


class WholeFileOnly(BaseHTTPRequestHandler):
    """Answers every GET with 200 and the whole file, or with a single range: no multipart."""

    protocol_version = "HTTP/1.1"
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        spec = self.headers.get("Range", "")
        self.asked.append(spec)
        first, _, last = spec.removeprefix("bytes=").partition("-")
        single = "," not in spec and spec
        body = CONTENT.expected(int(first), int(last) - int(first) + 1) if single else \
            CONTENT.expected(0, CONTENT.size)
        self.send_response(206 if single else 200)
        if single:
            self.send_header("Content-Range", f"bytes {first}-{last}/{CONTENT.size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), WholeFileOnly)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_without_multipart_is_read_range_by_range(plain_server: str) -> None:
    WholeFileOnly.asked.clear()
    plan = ReadPlan("sparse", tuple((i * 7000, 100) for i in range(40)), vector=True)
    target = ReadTarget(plain_server, "/f", CONTENT.size, content=CONTENT)
    record = HttpsReader(in_flight=2, timeout_s=5).read(target, plan, "p", "c")
    assert record.error is None and record.verified and record.bytes == 4000
    assert any("," in spec for spec in WholeFileOnly.asked)  # multi-range asked first
    assert sum("," not in spec for spec in WholeFileOnly.asked) == 40  # then every range alone
