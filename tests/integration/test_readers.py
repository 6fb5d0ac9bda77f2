"""Each reader against a real local origin and cache: content verified, failures recorded, odd paths read."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from harness.backends import make_backend
from harness.content import FileContent
from harness.plan import ReadPlan, ReadTarget
from harness.readers import Reader, make_reader
from harness.readers.reference import CurlReader, XrdcpReader
from harness.readers.xroot import configure_client
from harness.spec import CacheSpec, OriginSpec, TopologySpec
from harness.tlsserver import HOST, TlsServers, https_url
from harness.topology import Topology

MAGIC = "/magic/RAW/20200313_M1_05089889.008_D_CrabNebula-W 0.40+215.raw.gz"
SIZE = 3 * 1024 * 1024 + 17  # not a multiple of anything, so the last piece is short
SPEC = TopologySpec(origins=(OriginSpec(name="origin"),), caches=(CacheSpec(name="xcache", origin="origin"),))
PLANS = [
    ReadPlan(),
    ReadPlan("ranges", ((0, 100), (SIZE - 17, 1000), (10 * SIZE, 5)), stat=True),
    ReadPlan("vector", ((0, 100), (5000, 2 * 1024 * 1024), (SIZE - 10, 100)), vector=True),
    ReadPlan("sparse", (*((i * 9973, 700) for i in range(300)), (SIZE - 5, 100), (SIZE + 5, 10)), vector=True),
]


@dataclass(frozen=True)
class Servers:
    urls: dict[str, str]  # {origin,cache}-{root,http,https}
    content: FileContent
    ca_file: str


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    configure_client(10, 3)
    runtime = Path("/tmp/xcache-harness-tests") / uuid.uuid4().hex[:8]
    runtime.mkdir(parents=True, mode=0o755)
    os.chmod(runtime.parent, 0o755)
    content = FileContent(11, MAGIC, SIZE)
    tls = TlsServers.create(runtime / "pki")
    with Topology(SPEC, make_backend("local", runtime), None, 15.0, extras=tls) as top:
        urls = {}
        for name in ("origin", "xcache"):
            placement = top.servers[name].placement
            urls |= {f"{name}-root": placement.root_url, f"{name}-http": placement.http_url,
                     f"{name}-https": https_url(placement)}
        top.backend.stage(top.origin_for(None).placement, MAGIC, content.chunks())
        yield Servers(urls, content, tls.ca_file)
    shutil.rmtree(runtime)


def reader_for(url: str, ca_file: str | None = None) -> Reader:
    return make_reader("root" if url.startswith("root") else "https", 1024 * 1024, 4, 10, ca_file)


@pytest.mark.parametrize("endpoint", [f"{s}-{p}" for s in ("origin", "xcache") for p in ("root", "http", "https")])
@pytest.mark.parametrize("plan", PLANS, ids=[p.pattern for p in PLANS])
def test_every_plan_reads_the_odd_path_verified(servers: Servers, endpoint: str, plan: ReadPlan) -> None:
    content = servers.content
    target = ReadTarget(servers.urls[endpoint], MAGIC, SIZE, content.adler32(), content)
    record = reader_for(target.base_url, servers.ca_file).read(target, plan, "p", "c")
    assert record.error is None and record.verified
    assert record.bytes == plan.bytes_for(SIZE) and record.pattern == plan.pattern
    assert record.ttfb_s is not None and record.open_s <= record.ttfb_s <= record.duration_s


@pytest.mark.parametrize("endpoint", ["origin-root", "origin-https"])
def test_wrong_checksum_and_missing_file_are_recorded_not_raised(servers: Servers, endpoint: str) -> None:
    reader = reader_for(servers.urls[endpoint], servers.ca_file)
    wrong = ReadTarget(servers.urls[endpoint], MAGIC, SIZE, servers.content.adler32() ^ 1)
    record = reader.read(wrong, ReadPlan(), "p", "c")
    assert not record.verified and "adler32" in str(record.error) and record.bytes == SIZE
    other = FileContent(12, MAGIC, SIZE)  # what another dataset seed would have staged
    ranged = reader.read(ReadTarget(wrong.base_url, MAGIC, SIZE, content=other), PLANS[1], "p", "c")
    assert not ranged.verified and "content differs" in str(ranged.error)
    missing = reader.read(ReadTarget(wrong.base_url, "/no/such file", 10), ReadPlan(), "p", "c")
    assert missing.error is not None and "/no/such" in missing.error and missing.bytes == 0


def test_https_verifies_the_server_against_the_runs_ca(servers: Servers) -> None:
    target = ReadTarget(servers.urls["xcache-https"], MAGIC, SIZE, servers.content.adler32())
    record = reader_for(target.base_url).read(target, ReadPlan(), "p", "c")  # system CAs only
    assert record.bytes == 0 and "CERTIFICATE_VERIFY_FAILED" in str(record.error)


@pytest.mark.parametrize("endpoint", ["origin-https", "xcache-https"])
def test_sparse_https_goes_as_a_few_multirange_requests(servers: Servers, endpoint: str) -> None:
    content, plan = servers.content, PLANS[-1]
    target = ReadTarget(servers.urls[endpoint], MAGIC, SIZE, content.adler32(), content)
    record = reader_for(target.base_url, servers.ca_file).read(target, plan, "p", "c")
    assert record.error is None and record.verified and record.bytes == plan.bytes_for(SIZE)
    assert record.requests <= 5  # 4 multipart answers (one per request in flight) and the range past EOF


@pytest.mark.parametrize("reader", ["https", "curl"])
def test_https_connects_to_the_address_and_verifies_the_name_it_is_given(servers: Servers, reader: str) -> None:
    """As on docker: the URL holds an address, the certificate a name (127.0.0.1 is in its SAN too, so a
    wrong name failing shows the name is what gets verified)."""
    content = servers.content
    address = servers.urls["xcache-https"].replace("localhost", "127.0.0.1")
    read = reader_for(address, servers.ca_file) if reader == "https" else CurlReader(servers.ca_file)
    named = ReadTarget(address, MAGIC, SIZE, content.adler32(), content, tls_name=HOST)
    record = read.read(named, PLANS[1], "p", "c")
    assert record.error is None and record.verified
    wrong = read.read(replace(named, tls_name="not-in-the-certificate"), PLANS[1], "p", "c")
    assert wrong.bytes == 0 and not wrong.verified
    assert any(s in str(wrong.error) for s in ("CERTIFICATE_VERIFY_FAILED", "exited 60")), wrong.error


@pytest.mark.parametrize("endpoint", ["origin-root", "xcache-root"])
def test_xrdcp_reads_verified_through_a_pipe(servers: Servers, endpoint: str) -> None:
    target = ReadTarget(servers.urls[endpoint], MAGIC, SIZE, servers.content.adler32())
    record = XrdcpReader(timeout_s=10).read(target, ReadPlan(), "p", "c")
    assert record.error is None and record.verified and record.bytes == SIZE and record.reader == "xrdcp"
    fast = XrdcpReader({"XRD_CPUSEPGWRTRD": "0"}, check=False).read(target, ReadPlan(), "p", "c")
    assert fast.error is None and not fast.verified
    wrong = XrdcpReader().read(ReadTarget(target.base_url, MAGIC, SIZE, 5), ReadPlan(), "p", "c")
    assert not wrong.verified and "adler32" in str(wrong.error)


@pytest.mark.parametrize("plan", PLANS[:2], ids=[p.pattern for p in PLANS[:2]])
def test_curl_reads_whole_files_and_ranges_verified(servers: Servers, plan: ReadPlan) -> None:
    content = servers.content
    target = ReadTarget(servers.urls["xcache-https"], MAGIC, SIZE, content.adler32(), content)
    record = CurlReader(servers.ca_file).read(target, plan, "p", "c")
    assert record.error is None and record.verified and record.bytes == plan.bytes_for(SIZE)
    assert record.ttfb_s is not None and record.reader == "curl"
    missing = CurlReader(servers.ca_file).read(ReadTarget(target.base_url, "/none", 5), plan, "p", "c")
    assert "curl exited 22" in str(missing.error) and missing.ttfb_s is None
