"""Run an auth matrix: credentials, servers with auth, staged files, every case judged, results written.

Like the scenario runner it prints nothing: progress goes out through ``AuthEvents`` and problems
as HarnessErrors. Cases run in parallel probe processes, except that cases on the same server
and path run one after another (cold before warm), so the cache state each one needs holds and
its log lines can be told apart. Keys, proxies and tokens are removed when the run ends.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.authcheck.cases import CaseContext, CaseRunner
from harness.authcheck.creds import Credentials, server_owner
from harness.authcheck.junit import junit_xml
from harness.authcheck.matrix import AuthMatrix, Case
from harness.authcheck.outcome import CaseResult
from harness.authcheck.redact import redact
from harness.authcheck.servers import ORIGIN, AuthServers, https_ready, server_for, topology_spec, url_of
from harness.backends import check_backend, make_backend
from harness.backends.docker import DEFAULT_XROOTD
from harness.content import FileContent, digesting
from harness.errors import HarnessError
from harness.events import EventHook, Step
from harness.machine import host_facts, local_xrootd_version, software_versions
from harness.results import RESULTS_SCHEMA, SUMMARY_FILE, RunDir, new_run_id
from harness.settings import Settings
from harness.topology import Topology

PARALLEL = 4
CASES_FILE, JUNIT_FILE = "cases.jsonl", "junit.xml"
ROUTE_ORDER = {"origin": 0, "cache-cold": 1, "cache-warm": 2}


def _order(case: Case) -> tuple[int, bool]:
    # A cold read expected to succeed brings the file into the cache: it goes last among the cold ones.
    return ROUTE_ORDER[case.route], case.route == "cache-cold" and case.operation == "read" and case.expected == "allow"
CONTENT_SEED = 1


@dataclass
class AuthEvents:
    step: EventHook[Step] = field(default_factory=EventHook)
    case_done: EventHook[CaseResult] = field(default_factory=EventHook)


@dataclass(frozen=True)
class AuthCheckOutcome:
    run_id: str
    path: Path
    status: str
    version: str
    duration_s: float
    results: tuple[CaseResult, ...]
    junit: str
    backend: str = "local"

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.results if r.judgement.verdict == verdict)

    @property
    def unexpected(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.judgement.ok)


def schedule(matrix: AuthMatrix) -> list[list[Case]]:
    """Cases grouped by (server, path), each group in route order (origin, cold, warm), longest first.

    A cache's state is per path, and https requests are told apart in the logs by path only:
    hence one group per (server, path).

    Cold cases expected to read the file successfully come after the other cold ones, since they
    leave the file cached; a second such case on the same file is reported as "not cold".
    """
    groups: dict[tuple[str, str], list[Case]] = {}
    for case in matrix.cases:
        groups.setdefault((server_for(case.route, matrix.config_of(case)), case.path), []).append(case)
    ordered = [sorted(group, key=_order) for group in groups.values()]
    return sorted(ordered, key=len, reverse=True)


class AuthCheck:
    """Runs one matrix on a backend (local, or docker with ``xrootd`` 5.5.3|5.8.1); ``run()`` returns the
    outcome or raises."""

    def __init__(self, matrix: AuthMatrix, settings: Settings, backend: str = "local",
                 events: AuthEvents | None = None, source: str = "", parallel: int = PARALLEL,
                 xrootd: str | None = None) -> None:
        check_backend(backend, xrootd)
        self.matrix, self.settings, self.backend_name = matrix, settings, backend
        self.events = events or AuthEvents()
        self.source, self.parallel, self.xrootd = source, parallel, xrootd
        self.run_id = new_run_id("auth")  # short: xrootd's admin socket path must fit 108 bytes
        # known bugs are declared per server version: the one the backend runs
        self.version = xrootd or (DEFAULT_XROOTD if backend == "docker" else local_xrootd_version())
        self._lock = threading.Lock()

    def run(self) -> AuthCheckOutcome:
        started = time.monotonic()
        results: list[CaseResult] = []
        with RunDir(self.settings.results_dir, self.run_id) as out:
            meta = self._metadata()
            out.write("run.json", meta)
            status = "failed"
            try:
                self._run(out, meta, results)
                status = "complete"
            except KeyboardInterrupt:
                status = "interrupted"
                raise
            except HarnessError as exc:
                meta["error"] = str(exc)
                raise
            finally:
                outcome = self._finish(out, meta, status, results, time.monotonic() - started)
        return outcome

    def _run(self, out: RunDir, meta: dict[str, Any], results: list[CaseResult]) -> None:
        work = self.settings.runtime_dir / self.run_id
        work.mkdir(parents=True)
        work.chmod(0o755)  # the server user must traverse it, whatever our umask
        with ExitStack() as stack:
            self.events.step.fire(Step("writing the PKI and the token issuer"))
            owner = server_owner(self.settings.server_user)
            creds = Credentials.create(self.matrix, work / "creds", owner)
            stack.callback(creds.destroy)
            servers = AuthServers(self.matrix, creds)
            stack.callback(servers.destroy)  # after the servers stop: their copies of keys and proxies
            spec = topology_spec(self.matrix)
            backend = make_backend(self.backend_name, work, self.settings.server_user, xrootd=self.xrootd,
                                   topology=spec, progress=lambda line: self.events.step.fire(Step(line)))
            stack.callback(backend.close)
            top = Topology(spec, backend, None, self.settings.start_timeout_s,
                           out.save_config, https_ready(creds.pki.certdir), servers.extras)
            stack.callback(self._save_logs, top, out)
            self.events.step.fire(Step("starting the origin and the caches with auth"))
            stack.enter_context(top)
            self._save_auth_files(servers, out)
            meta["topology"] = {name: {"role": s.placement.role, "root": s.placement.root_url,
                                       "https": url_of(s.placement)} for name, s in top.servers.items()}
            out.write("run.json", meta)
            self.events.step.fire(Step(f"staging {len(self.matrix.files)} files on the origin"))
            digests = dict(self._stage(top))
            ctx = CaseContext(self.matrix, creds, top, digests, self.version)
            self.events.step.fire(Step(f"running {len(self.matrix.cases)} cases, {self.parallel} at a time"))
            self._cases(CaseRunner(ctx), out, results)

    def _cases(self, runner: CaseRunner, out: RunDir, results: list[CaseResult]) -> None:
        stop = threading.Event()

        def run_group(group: list[Case]) -> None:
            for case in group:
                if stop.is_set():
                    return
                result = runner.run(case)
                if stop.is_set():  # interrupted: its probe may have been interrupted too
                    return
                with self._lock:
                    results.append(result)
                    out.append(CASES_FILE, result.to_dict())
                    self.events.case_done.fire(result)

        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="authcase")
        try:
            for future in [pool.submit(run_group, group) for group in schedule(self.matrix)]:
                future.result()
        finally:  # on Ctrl-C: no new cases; running probes end within their own timeout
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def _stage(self, top: Topology) -> Iterator[tuple[str, str]]:
        origin = top.servers[ORIGIN]
        for path in self.matrix.files:
            content = FileContent(CONTENT_SEED, path, self.matrix.file_size)
            digest = hashlib.sha256()
            top.backend.stage(origin.placement, path, digesting(content.chunks(), digest))
            yield path, digest.hexdigest()

    def _save_auth_files(self, servers: AuthServers, out: RunDir) -> None:
        out.configs.mkdir(exist_ok=True)
        for name, rendered in servers.rendered.items():
            for path, text in rendered.files.items():
                (out.configs / f"{name}.{Path(path).name}").write_text(text)

    def _save_logs(self, top: Topology, out: RunDir) -> None:
        out.logs.mkdir(exist_ok=True)
        for name, server in top.servers.items():
            (out.logs / f"{name}.log").write_text(redact(server.service.log_text()))

    def _finish(self, out: RunDir, meta: dict[str, Any], status: str, results: list[CaseResult],
                duration_s: float) -> AuthCheckOutcome:
        order = {case.id: i for i, case in enumerate(self.matrix.cases)}
        ordered = tuple(sorted(results, key=lambda r: order[r.case.id]))
        junit = junit_xml(f"auth-check.{self.matrix.name}", ordered, duration_s)
        (out.path / JUNIT_FILE).write_text(junit)
        counts = {v: sum(1 for r in ordered if r.judgement.verdict == v)
                  for v in ("pass", "fail", "error", "xfail", "xpass")}
        summary = {"run_id": self.run_id, "status": status, "backend": self.backend_name, "version": self.version,
                   "duration_s": round(duration_s, 1),
                   "cases": len(self.matrix.cases), "run": len(ordered), "counts": counts,
                   "results": [_row(r) for r in ordered]}
        meta.update(status=status, finished=time.time(), counts=counts, duration_s=round(duration_s, 1))
        out.write("run.json", meta)
        out.write(SUMMARY_FILE, summary)
        return AuthCheckOutcome(self.run_id, out.path, status, self.version, duration_s, ordered, junit,
                                self.backend_name)

    def _metadata(self) -> dict[str, Any]:
        return {"schema_version": RESULTS_SCHEMA, "kind": "auth-check", "run_id": self.run_id, "status": "running",
                "started": time.time(), "backend": self.backend_name, "xrootd": self.version,
                "matrix_file": self.source,
                "matrix": self.matrix.model_dump(mode="json"), "software": software_versions(),
                "host": host_facts(), "pid": os.getpid()}


def _row(result: CaseResult) -> dict[str, str]:
    case = result.case
    return {"id": case.id, "config": result.config, "route": case.route, "protocol": case.protocol,
            "operation": case.operation, "expected": case.expected, "actual": result.actual,
            "verdict": result.judgement.verdict}

