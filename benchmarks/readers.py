"""Reader benchmark: the harness' readers beside xrdcp, curl and loopback TCP, on one warm file.

One local origin and one XCache (https on the same port, per-run CA); one file staged, read once
through the cache to warm it, then every repetition measures, in one interleaved run:

  xroot reader, xrdcp (defaults), xrdcp XRD_CPUSEPGWRTRD=0, https reader, curl,
  N concurrent xroot streams (aggregate), loopback TCP (iperf3, or a socket pair without it)

Ratios are taken within a repetition (measure / reference of the same repetition), so slow
moments of a shared machine hit both sides; median and spread are over repetitions. This is a
measurement, run by ``xcache-harness bench readers``, never a timed test.
"""

from __future__ import annotations

import json
import resource
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from harness.backends import make_backend
from harness.content import Adler32, FileContent, digesting
from harness.errors import ReadError
from harness.measure import OpRecord
from harness.plan import ReadPlan, ReadTarget
from harness.readers.https import HttpsReader
from harness.readers.reference import CurlReader, XrdcpReader, budget_s
from harness.readers.xroot import XrootReader, configure_client
from harness.spec import CacheSettings, CacheSpec, OriginSpec, TopologySpec
from harness.tlsserver import TlsServers, https_url
from harness.topology import Topology

PATH = "/bench/readers warm+file.bin"  # a space and a '+': the readers' URL handling is on the path
TUNED_XRDCP = {"XRD_CPUSEPGWRTRD": "0"}
SPEC = TopologySpec(origins=(OriginSpec(name="origin"),),
                    caches=(CacheSpec(name="xcache", origin="origin", settings=CacheSettings(prefetch=0)),))
Progress = Callable[[str], None]
Measure = Callable[[], tuple[int, float | None]]  # bytes, and the seconds the tool itself measured (if any)


@dataclass(frozen=True)
class BenchConfig:
    size: int = 1024**3
    repeat: int = 3
    streams: int = 16
    # Tuned on this machine (2 cores, shared): xroot answers of 1-2 MiB are checked while still in
    # the CPU cache, larger ones are not; https pays per request and per thread contending for the GIL
    # (one Python call per 16 KiB TLS record), so two large ranges in flight win there.
    xroot_request: int = 2 * 1024 * 1024
    xroot_in_flight: int = 16
    https_request: int = 16 * 1024 * 1024
    https_in_flight: int = 2
    # 16 streams already overlap: one large request each (of 2 MiB x 4, 4 MiB x 4, 16 MiB x 1, the fastest here)
    stream_request: int = 16 * 1024 * 1024
    stream_in_flight: int = 1
    timeout_s: int = 10
    seed: int = 1


@dataclass(frozen=True)
class Row:
    """One line of the result: a measurement, what it is compared with, and the target ratio."""

    name: str
    reference: str | None
    target: float | None


def rows(streams: int) -> list[Row]:
    return [
        Row("xroot reader", "xrdcp XRD_CPUSEPGWRTRD=0", 1.0),
        Row("xrdcp XRD_CPUSEPGWRTRD=0", None, None),
        Row("xrdcp defaults", "xrdcp XRD_CPUSEPGWRTRD=0", None),
        Row("https reader", "curl", 0.8),
        Row("curl", None, None),
        Row(f"{streams} xroot streams", "loopback TCP", 0.8),
        # The same aggregate by the reference tool: whether the harness or the server sets the ceiling.
        Row(f"{streams} xrdcp streams", "loopback TCP", None),
        Row("loopback TCP", None, None),
    ]


@dataclass(frozen=True)
class Sample:
    """One measurement of one repetition. CPU seconds: this process (harness) and its children."""

    name: str
    bytes: int
    seconds: float
    cpu_self_s: float
    cpu_children_s: float
    error: str | None = None

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6 if self.seconds > 0 and self.error is None else 0.0


@dataclass
class BenchResult:
    config: BenchConfig
    repetitions: list[dict[str, Sample]] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"config": asdict(self.config), "facts": self.facts,
                "repetitions": [{k: {**asdict(s), "mb_per_s": s.mb_per_s} for k, s in rep.items()}
                                for rep in self.repetitions],
                "summary": [asdict(line) for line in summarize(self)]}


def run_bench(config: BenchConfig, runtime_dir: Path, server_user: str = "xrootd",
              progress: Progress = lambda _m: None,
              on_repetition: Callable[[BenchResult], None] = lambda _r: None) -> BenchResult:
    """Start the servers, stage and warm the file, measure ``config.repeat`` times; stop and clean up.

    ``on_repetition`` sees the result after every repetition (to save it: an interrupted run keeps
    the repetitions it finished)."""
    configure_client(config.timeout_s, config.timeout_s)
    runtime_dir.mkdir(parents=True, mode=0o755)
    try:
        tls = TlsServers.create(runtime_dir / "pki", server_user)
        backend = make_backend("local", runtime_dir, server_user)
        with Topology(SPEC, backend, None, 30.0, extras=tls) as top:
            return _Bench(config, top, tls.ca_file, progress, on_repetition).run()
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)


class _Bench:
    def __init__(self, config: BenchConfig, top: Topology, ca_file: str, progress: Progress,
                 on_repetition: Callable[[BenchResult], None]) -> None:
        self.config, self.top, self.ca_file, self.progress = config, top, ca_file, progress
        self.on_repetition = on_repetition
        self.result = BenchResult(config)

    def run(self) -> BenchResult:
        root, https = self._stage_and_warm()
        for repetition in range(self.config.repeat):
            self.progress(f"repetition {repetition + 1} of {self.config.repeat}")
            self.result.repetitions.append(self._repetition(root, https, reverse=repetition % 2 == 1))
            self.on_repetition(self.result)
        return self.result

    def _stage_and_warm(self) -> tuple[ReadTarget, ReadTarget]:
        c = self.config
        self.progress(f"staging {c.size / 1e6:.0f} MB on the origin")
        content, checksum = FileContent(c.seed, PATH, c.size), Adler32()
        self.top.backend.stage(self.top.origin_for(None).placement, PATH, digesting(content.chunks(), checksum))
        cache = self.top.cache_for(None).placement
        root = ReadTarget(cache.root_url, PATH, c.size, checksum.value, content)
        self.progress("warming the cache (one verified read through it)")
        _check(XrootReader(c.xroot_request, c.xroot_in_flight, c.timeout_s).read(root, ReadPlan(), "warm", "bench"))
        self.result.facts = {"cache": cache.root_url, "path": PATH, "adler32": f"{checksum.value:08x}",
                             "loopback": "iperf3" if shutil.which("iperf3") else "python socket pair"}
        return root, ReadTarget(https_url(cache), PATH, c.size, checksum.value, content)

    def _repetition(self, root: ReadTarget, https: ReadTarget, reverse: bool) -> dict[str, Sample]:
        """Each measure next to its reference; every other repetition in reverse order, so a load
        that rises or falls during the run does not always favour the one measured first."""
        c = self.config
        measures: list[tuple[str, Measure]] = [
            ("xroot reader", lambda: _read(XrootReader(c.xroot_request, c.xroot_in_flight, c.timeout_s), root)),
            ("xrdcp XRD_CPUSEPGWRTRD=0", lambda: _read(XrdcpReader(TUNED_XRDCP, c.timeout_s, check=False), root)),
            ("xrdcp defaults", lambda: _read(XrdcpReader(timeout_s=c.timeout_s, check=False), root)),
            ("https reader", lambda: _read(HttpsReader(c.https_request, c.https_in_flight, c.timeout_s,
                                                       self.ca_file), https)),
            ("curl", lambda: _read(CurlReader(self.ca_file, c.timeout_s, check=False), https)),
            (f"{c.streams} xroot streams", lambda: self._streams(root)),
            (f"{c.streams} xrdcp streams", lambda: self._xrdcp_streams(root)),
            ("loopback TCP", lambda: loopback_tcp(c.size, c.timeout_s)),
        ]
        samples = {name: _sample(name, measure) for name, measure in (measures[::-1] if reverse else measures)}
        return {name: samples[name] for name, _ in measures}

    def _streams(self, target: ReadTarget) -> tuple[int, None]:
        c = self.config
        reader = XrootReader(c.stream_request, c.stream_in_flight, c.timeout_s)
        # One TCP connection per stream: XrdCl multiplexes every URL with the same user@host:port on one
        # channel, so without a user name per stream the 16 "streams" would share one socket.
        targets = [replace(target, base_url=target.base_url.replace("root://", f"root://s{i}@", 1))
                   for i in range(c.streams)]
        with ThreadPoolExecutor(c.streams) as pool:
            records = list(pool.map(lambda i: reader.read(targets[i], ReadPlan(), "streams", f"s{i}"),
                                    range(c.streams)))
        return sum(_check(record) for record in records), None


    def _xrdcp_streams(self, target: ReadTarget) -> tuple[int, None]:
        reader = XrdcpReader(TUNED_XRDCP, self.config.timeout_s, check=False)
        with ThreadPoolExecutor(self.config.streams) as pool:  # each xrdcp is its own process and connection
            records = list(pool.map(lambda i: reader.read(target, ReadPlan(), "streams", f"x{i}"),
                                    range(self.config.streams)))
        return sum(_check(record) for record in records), None


def _read(reader: XrootReader | HttpsReader | XrdcpReader | CurlReader, target: ReadTarget) -> tuple[int, None]:
    return _check(reader.read(target, ReadPlan(), "bench", "bench")), None


def _check(record: OpRecord) -> int:
    """A failed or (where checked) unverified read makes its figure meaningless: it is an error."""
    if record.error is not None:
        raise ReadError(record.error)
    return record.bytes


def _sample(name: str, measure: Measure) -> Sample:
    """Wall time around the measure, unless the tool timed the transfer itself (iperf3)."""
    before, children, t0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    try:
        (got, own_s), error = measure(), None
    except ReadError as exc:
        (got, own_s), error = (0, None), str(exc)
    wall = time.perf_counter() - t0
    return Sample(name, got, own_s if own_s is not None else wall, _cpu(resource.RUSAGE_SELF) - before,
                  _cpu(resource.RUSAGE_CHILDREN) - children, error)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- loopback TCP


def loopback_tcp(size: int, timeout_s: int) -> tuple[int, float | None]:
    """Send ``size`` bytes over one TCP connection on 127.0.0.1: bytes received and iperf3's seconds.

    iperf3 when installed (both ends in C, its own clock, so process start-up does not flatter the
    ratio); else a Python socket pair timed around the transfer (a slightly pessimistic ceiling).
    """
    if shutil.which("iperf3"):
        return _iperf3(size, timeout_s)
    return _socket_pair(size, timeout_s), None


def _iperf3(size: int, timeout_s: int) -> tuple[int, float]:
    port = _free_port()
    server = ["iperf3", "-s", "-1", "-p", str(port), "--forceflush"]
    with subprocess.Popen(server, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        try:
            _wait_listening(proc, timeout_s)
            client = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-n", str(size), "-J"]
            done = subprocess.run(client, capture_output=True, text=True, timeout=budget_s(size, timeout_s))
            if done.returncode != 0:
                raise ReadError(f"iperf3 client failed: {(done.stdout + done.stderr).strip()[-200:]}")
            received = json.loads(done.stdout)["end"]["sum_received"]
            return int(received["bytes"]), float(received["seconds"])
        finally:
            proc.kill()


def _wait_listening(proc: subprocess.Popen[str], timeout_s: int) -> None:
    """The server says 'Server listening on PORT' once its socket is bound (no sleeping)."""
    timer = threading.Timer(timeout_s, proc.kill)
    timer.start()
    try:
        for line in proc.stdout or ():
            if "listening" in line.lower():
                return
    finally:
        timer.cancel()
    raise ReadError("iperf3 server did not start listening")


def _socket_pair(size: int, timeout_s: int) -> int:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(timeout_s)
        port = listener.getsockname()[1]
        sender = threading.Thread(target=_send, args=(port, size, timeout_s), daemon=True)
        sender.start()
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(timeout_s)
            got, buffer = 0, bytearray(4 * 1024 * 1024)
            while chunk := conn.recv_into(buffer):
                got += chunk
        sender.join(timeout_s)
        return got


def _send(port: int, size: int, timeout_s: int) -> None:
    block = bytes(4 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as conn:
        for start in range(0, size, len(block)):
            conn.sendall(memoryview(block)[: min(len(block), size - start)])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- summary


@dataclass(frozen=True)
class Line:
    """A row of the printed table: figures over repetitions, ratios paired within repetitions."""

    name: str
    median_mb_s: float
    min_mb_s: float
    max_mb_s: float
    reference: str | None
    ratio_median: float | None
    ratio_min: float | None
    ratio_max: float | None
    target: float | None
    cpu_s_per_gb: float | None  # harness process (own readers) or child process (reference tools)
    errors: int

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio_median is None:
            return None
        return self.ratio_median >= self.target


def summarize(result: BenchResult) -> list[Line]:
    return [_line(row, result.repetitions) for row in rows(result.config.streams)]


def _line(row: Row, reps: list[dict[str, Sample]]) -> Line:
    samples = [rep[row.name] for rep in reps]
    rates = [s.mb_per_s for s in samples] or [0.0]
    ratios = [rep[row.name].mb_per_s / rep[row.reference].mb_per_s for rep in reps
              if row.reference and rep[row.reference].mb_per_s > 0] if row.reference else []
    return Line(row.name, statistics.median(rates), min(rates), max(rates), row.reference,
                statistics.median(ratios) if ratios else None, min(ratios, default=None),
                max(ratios, default=None), row.target, _cpu_per_gb(row.name, samples),
                sum(s.error is not None for s in samples))


def _cpu_per_gb(name: str, samples: list[Sample]) -> float | None:
    if name == "loopback TCP":
        return None
    read = sum(s.bytes for s in samples)
    external = "xrdcp" in name or name == "curl"  # the tools run as child processes
    cpu = sum(s.cpu_children_s if external else s.cpu_self_s for s in samples)
    return cpu / (read / 1e9) if read else None
