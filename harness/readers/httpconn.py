"""Kept-alive HTTP(S) connections for the https reader, reading bodies straight into buffers.

``requests`` copies a body two or three times on its way up (urllib3 buffers, http.client's
``read(n)``); at a GB/s that doubles the reader's CPU per GB. ``http.client`` with ``readinto``
does one copy, from the socket (or TLS) into our buffer, with the GIL released.
"""

from __future__ import annotations

import http.client
import queue
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

_CONTENT_RANGE = re.compile(r"(?im)^content-range:\s*bytes\s+(\d+)-(\d+)/")
# Errors that mean "this kept-alive connection is gone": worth one retry on a fresh connection.
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
PoolKey = tuple[str, str, str | None]  # scheme, host:port, name the certificate is verified against


class HttpError(Exception):
    """A request failed: the message names what happened (status, reason or socket error)."""


class NotMultipart(HttpError):
    """A multi-range request was not answered part by part (the connection is dropped unread)."""


T = TypeVar("T")
Range = tuple[int, int]  # offset, length
Exchange = Callable[[http.client.HTTPConnection, str, str, dict[str, str]], T]  # conn, method, target, headers


@dataclass
class Connections:
    """A pool of idle connections per scheme://host:port; ``ca_path`` verifies https servers."""

    timeout_s: float
    ca_path: str | None = None  # a CA file, or a hashed directory of CAs (a test PKI's certdir)
    cert: str | None = None  # client certificate: a proxy file holds certificate, key and chain
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # sent with every request (a token)
    _idle: dict[PoolKey, queue.LifoQueue[http.client.HTTPConnection]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get_range(self, url: str, offset: int, length: int, tls_name: str | None = None) -> bytearray:
        """The bytes of ``Range: offset..offset+length-1`` (206 expected), or HttpError.

        ``tls_name``: verify an https server's certificate against this name, not the URL's host."""
        return self._request("GET", url, {"Range": f"bytes={offset}-{offset + length - 1}"}, tls_name,
                             partial(_exchange, status=206, length=length))

    def get_ranges(self, url: str, ranges: list[Range], tls_name: str | None = None) -> list[bytes] | None:
        """Several ranges (none past EOF) in one request: each one's bytes, in order, from a
        ``multipart/byteranges`` answer. None when the server answers otherwise (the whole file, one
        part, other ranges than asked): it then wants one range per request. HttpError on failure."""
        header = "bytes=" + ",".join(f"{offset}-{offset + length - 1}" for offset, length in ranges)
        try:
            return self._request("GET", url, {"Range": header}, tls_name, partial(_multipart, ranges=ranges))
        except NotMultipart:
            return None

    def head(self, url: str, tls_name: str | None = None) -> None:
        """HEAD (the https form of stat): HttpError unless 200."""
        self._request("HEAD", url, {}, tls_name, partial(_exchange, status=200, length=0))

    def _request(self, method: str, url: str, headers: dict[str, str], tls_name: str | None,
                 exchange: Exchange[T]) -> T:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        key: PoolKey = (parts.scheme, parts.netloc, tls_name)
        for attempt in (1, 2):
            conn, reused = self._take(key)
            try:
                body = exchange(conn, method, target, {**self.headers, **headers})
            except STALE as exc:
                conn.close()
                if not reused or attempt == 2:
                    raise HttpError(f"connection lost: {exc!r}") from exc
                continue
            except (OSError, http.client.HTTPException, HttpError):
                conn.close()
                raise
            self._give(key, conn)
            return body
        raise AssertionError("unreachable")

    def _take(self, key: PoolKey) -> tuple[http.client.HTTPConnection, bool]:
        try:
            return self._pool(key).get_nowait(), True
        except queue.Empty:
            return self._connect(*key), False

    def _give(self, key: PoolKey, conn: http.client.HTTPConnection) -> None:
        self._pool(key).put(conn)

    def _pool(self, key: PoolKey) -> queue.LifoQueue[http.client.HTTPConnection]:
        with self._lock:
            return self._idle.setdefault(key, queue.LifoQueue())

    def _connect(self, scheme: str, netloc: str, tls_name: str | None) -> http.client.HTTPConnection:
        if scheme == "https":
            return NamedHTTPSConnection(netloc, tls_name, timeout=self.timeout_s, context=self._context)
        return http.client.HTTPConnection(netloc, timeout=self.timeout_s)

    @cached_property
    def _context(self) -> ssl.SSLContext:
        is_dir = self.ca_path is not None and Path(self.ca_path).is_dir()
        context = ssl.create_default_context(cafile=None if is_dir else self.ca_path,
                                             capath=self.ca_path if is_dir else None)
        if self.cert is not None:
            context.load_cert_chain(self.cert, self.cert)
        return context

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), {}
        for pool in pools:
            while not pool.empty():
                pool.get_nowait().close()


class NamedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the URL's address but sends (SNI) and verifies ``tls_name`` in the TLS handshake.

    The context keeps ``check_hostname``: verification is moved to the right name, never turned off."""

    def __init__(self, netloc: str, tls_name: str | None, *, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(netloc, timeout=timeout, context=context)
        self.tls_name, self.tls_context = tls_name, context

    def connect(self) -> None:
        if self.tls_name is None:
            super().connect()
            return
        http.client.HTTPConnection.connect(self)  # TCP only, to the address
        self.sock = self.tls_context.wrap_socket(self.sock, server_hostname=self.tls_name)


def _exchange(conn: http.client.HTTPConnection, method: str, target: str, headers: dict[str, str], *,
              status: int, length: int) -> bytearray:
    conn.request(method, target, headers=headers)
    response = conn.getresponse()
    if response.status != status:
        response.read()
        raise HttpError(f"answered {response.status} {response.reason}")
    body = bytearray(length)
    if length and response.length == length and conn.sock is not None:
        return _body_from_socket(conn.sock, response, body)
    view, got = memoryview(body), 0
    while got < length and (n := response.readinto(view[got:])):
        got += n
    if not response.isclosed():
        response.read()  # anything beyond what we asked for: the connection must end clean to be reused
    return body if got == length else body[:got]


def _body_from_socket(sock: socket.socket, response: http.client.HTTPResponse, body: bytearray) -> bytearray:
    """Read a body of known length from the socket itself.

    Over TLS every read returns one 16 KiB record; through http.client each costs three Python
    calls (HTTPResponse, SocketIO, SSLSocket), straight from the socket one: measured 0.95 instead
    of 1.1 CPU s/GB here. What http.client had already buffered with the headers comes first.
    Reading exactly Content-Length leaves the connection at the next response, so it is reused.
    """
    view, length = memoryview(body), len(body)
    got = response.fp.readinto1(view)
    while got < length and (n := sock.recv_into(view[got:], length - got)):
        got += n
    response.length = length - got
    response.close()  # the response, not the connection: http.client may now send the next request
    if got != length:
        raise HttpError(f"connection closed after {got} of {length} bytes")
    return body


def _multipart(conn: http.client.HTTPConnection, method: str, target: str, headers: dict[str, str], *,
               ranges: list[Range]) -> list[bytes]:
    conn.request(method, target, headers=headers)
    response = conn.getresponse()
    boundary = response.headers.get_param("boundary")
    if response.status == 200 or (response.status == 206 and not isinstance(boundary, str)):
        raise NotMultipart(f"answered {response.status} {response.headers.get_content_type()}")
    if response.status != 206 or not isinstance(boundary, str):
        response.read()
        raise HttpError(f"answered {response.status} {response.reason}")
    parts = multipart_parts(response.read(), boundary.encode())
    if [(offset, len(data)) for offset, data in parts] != ranges:
        raise NotMultipart(f"answered other ranges than asked ({len(parts)} parts for {len(ranges)} ranges)")
    return [data for _, data in parts]


def multipart_parts(body: bytes, boundary: bytes) -> list[tuple[int, bytes]]:
    """(offset, bytes) of each part of a ``multipart/byteranges`` body, in order.

    Each part is taken by the length its ``Content-Range`` gives, never by searching for the
    boundary, which random data may contain (XrdHttp's is always ``123456``)."""
    if body.startswith(b"--"):
        body = b"\r\n" + body  # the first delimiter's CRLF is optional
    delimiter, pos = b"\r\n--" + boundary, 0
    parts: list[tuple[int, bytes]] = []
    while True:
        if not body.startswith(delimiter, pos):
            raise HttpError(f"malformed multipart answer at byte {pos}")
        pos += len(delimiter)
        if body.startswith(b"--", pos):
            return parts
        end = body.find(b"\r\n\r\n", pos)
        found = _CONTENT_RANGE.search(body[pos:end].decode("latin-1")) if end > 0 else None
        if found is None:
            raise HttpError(f"multipart answer: part {len(parts) + 1} has no Content-Range")
        first, last = int(found[1]), int(found[2])
        pos = end + 4 + last - first + 1
        parts.append((first, body[end + 4 : pos]))
