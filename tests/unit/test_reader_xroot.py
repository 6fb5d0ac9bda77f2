"""XrootReader's pipeline against a fake XrdCl file: requests, verification, errors recorded not raised."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from harness.content import FileContent
from harness.plan import MAX_VECTOR_CHUNKS, ReadPlan, ReadTarget
from harness.readers import make_reader, xroot
from harness.readers.https import HttpsReader

OK = SimpleNamespace(ok=True, message="")
CONTENT = FileContent(5, "/d/f", 3 * 1024 * 1024 + 7)


@dataclass
class FakeFile:
    """Answers at once, from the callback's caller; ``corrupt`` flips the answer at that offset."""

    corrupt: int | None = None
    calls: list[str] | None = None

    def open(self, url: str, flags: int, timeout: int) -> tuple[Any, None]:
        return (OK if url.endswith("/d/f") else SimpleNamespace(ok=False, message="[3011] no such file")), None

    def read(self, offset: int, size: int, timeout: int, callback: Any) -> Any:
        self._log("read")
        data = CONTENT.expected(offset, size)
        callback(OK, b"\0" * len(data) if offset == self.corrupt else data, None)
        return OK

    def vector_read(self, chunks: list[tuple[int, int]], timeout: int, callback: Any) -> Any:
        self._log(f"vector_read {len(chunks)}")
        answer = [SimpleNamespace(offset=o, length=n, buffer=CONTENT.expected(o, n)) for o, n in chunks]
        callback(OK, SimpleNamespace(chunks=answer), None)
        return OK

    def stat(self, timeout: int) -> tuple[Any, None]:
        self._log("stat")
        return OK, None

    def close(self, timeout: int) -> Any:
        return OK

    def _log(self, call: str) -> None:
        if self.calls is not None:
            self.calls.append(call)


def use(monkeypatch: pytest.MonkeyPatch, fake: FakeFile) -> None:
    monkeypatch.setattr(xroot.client, "File", lambda: fake)


def target(**kw: Any) -> ReadTarget:
    return ReadTarget("root://h:1", "/d/f", CONTENT.size, **kw)


def test_vector_plan_sends_batches_of_at_most_1024(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    use(monkeypatch, FakeFile(calls=calls))
    plan = ReadPlan("sparse", tuple((i * 1000, 64) for i in range(MAX_VECTOR_CHUNKS + 1)), vector=True, stat=True)
    record = xroot.XrootReader(1024 * 1024, 4).read(target(content=CONTENT), plan, "warm", "c1")
    assert calls == ["stat", f"vector_read {MAX_VECTOR_CHUNKS}", "vector_read 1"]
    assert record.error is None and record.verified and record.bytes == 64 * (MAX_VECTOR_CHUNKS + 1)
    assert (record.pattern, record.reader, record.phase, record.client) == ("sparse", "xroot", "warm", "c1")


def test_wrong_bytes_are_an_error_in_the_record(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeFile(corrupt=1024 * 1024))
    plan = ReadPlan("ranges", ((0, 10), (1024 * 1024, 4096)))
    record = xroot.XrootReader(1024 * 1024, 2).read(target(content=CONTENT), plan, "p", "c")
    assert not record.verified and "content differs" in str(record.error)


def test_whole_file_by_checksum_and_a_wrong_checksum(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeFile())
    reader = xroot.XrootReader(1024 * 1024, 3)
    good = reader.read(target(adler32=CONTENT.adler32()), ReadPlan(), "p", "c")
    assert good.error is None and good.verified and good.bytes == CONTENT.size and good.ttfb_s is not None
    bad = reader.read(target(adler32=CONTENT.adler32() ^ 1), ReadPlan(), "p", "c")
    assert not bad.verified and "adler32" in str(bad.error)
    unknown = reader.read(target(), ReadPlan(), "p", "c")
    assert unknown.error is None and not unknown.verified


def test_open_failure_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeFile())
    record = xroot.XrootReader().read(ReadTarget("root://h:1", "/nope", 5), ReadPlan(), "p", "c")
    assert record.error is not None and record.error.startswith("root://h:1//nope: cannot open")
    assert record.bytes == 0 and not record.verified


def test_factory_picks_the_reader_by_protocol() -> None:
    assert isinstance(make_reader("root", 1024, 2, 5), xroot.XrootReader)
    https = make_reader("https", 1024, 2, 5, ca_path="/ca.pem")
    assert isinstance(https, HttpsReader) and https.ca_path == "/ca.pem"
