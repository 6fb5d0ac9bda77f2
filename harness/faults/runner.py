"""Run fault cases: each on a fresh small topology (docker backend), judged and written as it ends.

Results: ``results/<run-id>/run.json`` (status running → complete | interrupted | failed) and
``faults.jsonl``, one record per finished case, so an interrupted run keeps every case it finished.
A case whose servers cannot be set up is recorded with outcome ``error`` and the run goes on.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.authcheck.redact import redact
from harness.backends import check_backend, make_backend
from harness.backends.docker import DockerBackend
from harness.content import FileContent
from harness.errors import HarnessError, UserError
from harness.faults.cases import PROCEDURES, Bench
from harness.faults.outcome import CaseVerdict, ReadResult, classify
from harness.faults.read import VerifiedRead
from harness.faults.spec import FaultCase, FaultsFile
from harness.faults.tokencase import TokenExpiry
from harness.machine import host_facts, software_versions
from harness.readers.xroot import configure_client
from harness.results import RESULTS_SCHEMA, RunDir, new_run_id
from harness.settings import Settings
from harness.spec import CacheSpec, ClientSpec, LinkSpec, OriginSpec, SiteSpec, TopologySpec
from harness.topology import MonitorPorts, Topology
from harness.truth import GStreamCollector, SummaryCollector, UdpListener

FAULTS_FILE = "faults.jsonl"
Judged = tuple[list[ReadResult | None], dict[str, object], dict[str, bool], str]  # reads, notes, checks, xrootd
# A link that is no bottleneck: the relay is there to be cut, not to shape.
CUT_LINK = LinkSpec(a="near", b="far", rtt_ms=2, rate_mbit=400)
# Longer than the cache's own bound on the origin: pss.setopt RequestTimeout 30, which XrdCl checks
# every TimeoutResolution (15 s), so the cache answers "aio file read timed out" after up to 45 s
# (seen at 45.1 s). An error the cache reports is then seen as such, not as the harness giving up first.
REQUEST_TIMEOUT_S = 60


@dataclass(frozen=True)
class FaultsOutcome:
    run_id: str
    path: Path
    status: str
    records: list[dict[str, Any]]

    @property
    def unexpected(self) -> list[dict[str, Any]]:
        return [r for r in self.records if not r["ok"]]


@dataclass
class FaultsRunner:
    """Runs the selected cases of a faults file, one fresh topology each."""

    faults: FaultsFile
    settings: Settings
    backend: str = "docker"
    xrootd: str | None = None
    source: str = ""
    only: tuple[str, ...] = ()
    on_step: Callable[[str], None] = lambda _text: None
    on_case: Callable[[dict[str, Any]], None] = lambda _record: None
    records: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_backend(self.backend, self.xrootd)
        if self.backend != "docker":
            raise UserError(f"faults run on the docker backend only (containers are killed, paused and "
                            f"restarted): got --backend {self.backend}")
        self.cases = self.faults.select(self.only)
        self.run_id = new_run_id(self.faults.name)

    def run(self) -> FaultsOutcome:
        with RunDir(self.settings.results_dir, self.run_id) as out:
            meta = self._metadata()
            out.write("run.json", meta)
            status = "failed"
            try:
                configure_client(REQUEST_TIMEOUT_S, self.settings.connection_window_s)
                for case in self.cases:
                    self._case(out, case)
                status = "complete"
            except KeyboardInterrupt:
                status = "interrupted"
                raise
            finally:
                meta.update(status=status, finished=time.time(), cases_done=len(self.records))
                out.write("run.json", meta)
        return FaultsOutcome(self.run_id, out.path, status, self.records)

    def _case(self, out: RunDir, case: FaultCase) -> None:
        self.on_step(f"{case.name}: {case.fault}, expecting {case.expect}")
        t0 = time.monotonic()
        try:
            if case.fault == "token-expiry":
                record = self._judge(case, *self._token_case(out, case))
            else:
                record = self._judge(case, *self._execute(out, case))
        except HarnessError as exc:
            record = {"outcome": "error", "ok": False, "error": str(exc).splitlines()[0]}
        record = {"case": case.name, "fault": case.fault, "expect": case.expect, "why": case.why,
                  "bound_s": case.bound_s, "seconds": round(time.monotonic() - t0, 1), **record}
        out.append(FAULTS_FILE, record)
        self.records.append(record)
        self.on_case(record)

    def _token_case(self, out: RunDir, case: FaultCase) -> Judged:
        """Its own topology: an origin with token auth (the auth check's), no cache."""
        notes: dict[str, object] = {}
        checks: dict[str, bool] = {}
        work = self.settings.runtime_dir / f"{self.run_id}-{case.name}"
        try:
            reads, version = TokenExpiry(self.settings, work, self.faults.seed, self.backend, self.xrootd,
                                         self.on_step).run(case, notes, checks)
        finally:
            keep_logs(work, out.logs / case.name, redact)
            shutil.rmtree(work, ignore_errors=True)
        return reads, notes, checks, version

    def _execute(self, out: RunDir, case: FaultCase) -> Judged:
        summary = SummaryCollector()
        with ExitStack() as stack:
            spec = topology_for(case)
            server_dirs = self.settings.runtime_dir / f"{self.run_id}-{case.name}"
            backend = make_backend(self.backend, server_dirs, self.settings.server_user, xrootd=self.xrootd,
                                   topology=spec, progress=self.on_step)
            stack.callback(shutil.rmtree, server_dirs, True)  # staged and cached data: results keep the logs
            stack.callback(keep_logs, server_dirs, out.logs / case.name)
            stack.callback(backend.close)
            assert isinstance(backend, DockerBackend)  # checked in __post_init__
            if case.disk is not None:
                backend.data_on_tmpfs("xcache", case.disk)
            udp = stack.enter_context(UdpListener(backend.monitor_bind, summary.on_packet))
            gstream = stack.enter_context(UdpListener(backend.monitor_bind, GStreamCollector().on_packet))
            top = Topology(spec, backend, MonitorPorts(udp.port, gstream.port), self.settings.start_timeout_s,
                           lambda name, text: out.save_config(f"{case.name}-{name}", text))
            stack.enter_context(top)
            bench = Bench(case, backend, top, summary, self._stage(top, case),
                          VerifiedRead(REQUEST_TIMEOUT_S), self.settings.start_timeout_s)
            return PROCEDURES[case.fault](bench), bench.notes, bench.checks, backend.version

    def _stage(self, top: Topology, case: FaultCase) -> list[FileContent]:
        files = [FileContent(self.faults.seed, f"/faults/{case.name}/file-{i}.bin", case.size) for i in range(2)]
        origin = top.origin_for(None)
        for content in files:
            top.backend.stage(origin.placement, content.path, content.chunks())
        return files

    def _judge(self, case: FaultCase, reads: list[ReadResult | None], notes: dict[str, object],
               checks: dict[str, bool], xrootd: str) -> dict[str, Any]:
        verdict = CaseVerdict(classify(reads), case.expect, dict(checks))
        return {"outcome": verdict.outcome, "ok": verdict.ok, "xrootd": xrootd, "checks": dict(verdict.checks),
                "failed_checks": verdict.failed_checks, "notes": notes,
                "reads": [r.to_dict() if r else {"outcome": "hung", "abandoned_after_s": case.bound_s}
                          for r in reads]}

    def _metadata(self) -> dict[str, Any]:
        return {"schema_version": RESULTS_SCHEMA, "run_id": self.run_id, "kind": "faults", "status": "running",
                "started": time.time(), "backend": self.backend, "xrootd": self.xrootd, "faults_file": self.source,
                "cases": [c.name for c in self.cases], "faults": self.faults.model_dump(mode="json"),
                "software": software_versions(), "host": host_facts()}


def keep_logs(server_dirs: Path, dest: Path, clean: Callable[[str], str] | None = None) -> None:
    """Copy every server's log (``<name>/log/<name>/xrootd.log``), also of one that failed to start;
    through ``clean`` when given (a server with auth: tokens and keys must not reach the results)."""
    for log in sorted(server_dirs.glob("*/log/*/xrootd.log")):
        dest.mkdir(parents=True, exist_ok=True)
        if clean is None:
            shutil.copyfile(log, dest / f"{log.parent.name}.log")
        else:
            (dest / f"{log.parent.name}.log").write_text(clean(log.read_text(errors="replace")))


def topology_for(case: FaultCase) -> TopologySpec:
    """Origin and cache on one site; for ``link-cut`` the origin is remote, behind a relay that can be cut."""
    cache_site, origin_site = ("near", "far") if case.fault == "link-cut" else ("near", "near")
    sites = tuple(SiteSpec(name=s) for s in dict.fromkeys((cache_site, origin_site)))
    return TopologySpec(
        sites=sites, origins=(OriginSpec(name="origin", site=origin_site),),
        caches=(CacheSpec(name="xcache", site=cache_site, origin="origin", settings=case.cache),),
        clients=(ClientSpec(name="client", site=cache_site),),
        links=(CUT_LINK,) if case.fault == "link-cut" else ())
