"""Run a scenario: servers up, data staged, phases read and judged, results written.

The runner prints nothing and exits nothing: it fires events and raises HarnessErrors.
Whatever happens, run.json ends with a status (complete, failed, interrupted) and every
server it started is stopped.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.backends import check_backend, make_backend
from harness.content import Adler32, digesting
from harness.credentials import (
    NONE,
    ClientCredential,
    RunCredentials,
    file_credential,
    process_ca_dir,
    top_dirs,
)
from harness.dataset import DataFile, Scale, dataset_files, parse_scale
from harness.errors import CheckFailed, HarnessError, UserError
from harness.events import Events, OpDone, PhaseDone, PhaseStarted, RunStarted, RunStopped, Step
from harness.machine import host_facts, software_versions
from harness.measure import OpRecord, phase_stats
from harness.patterns import covered_bytes
from harness.plan import ReadPlan
from harness.readers.xroot import configure_client
from harness.results import RESULTS_SCHEMA, SUMMARY_FILE, RunDir, new_run_id
from harness.schedule import EXTERNAL_ORIGIN, Generations, PhaseRun, expand, origin_of, prefix, server_for
from harness.settings import Settings
from harness.spec import ExternalSpec, Scenario, TopologySpec
from harness.testbedauth import TestbedAuth, audience_of, https_ready
from harness.tlsserver import TlsServers, https_url, tls_name
from harness.topology import Extras, MonitorPorts, Ready, Topology, log_then_ping, no_extras
from harness.truth import GStreamCollector, SummaryCollector, UdpListener
from harness.truth.probe import CacheView, TruthProbe
from harness.truth.verdict import Verdict, judge
from harness.upload import upload
from harness.workers import Clients, PhaseWork, Staged


@contextmanager
def credentials_env(external: ExternalSpec) -> Iterator[None]:
    """XrdCl finds a proxy and a token through the environment: set them for this run only.

    Only the file names go into the environment and run.json, never their content."""
    wanted = {"X509_USER_PROXY": external.proxy_file, "BEARER_TOKEN_FILE": external.token_file}
    with _client_env({name: str(path) for name, path in wanted.items() if path is not None}):
        yield


@contextmanager
def _client_env(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for in-process XrdCl clients (it reads X509_CERT_DIR, X509_USER_PROXY and
    BEARER_TOKEN_FILE from the environment), restored afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    path: Path
    status: str
    summary: dict[str, object]

    @property
    def phases(self) -> list[dict[str, Any]]:
        phases = self.summary["phases"]
        return phases if isinstance(phases, list) else []


class Runner:
    """Runs one scenario on one backend; ``run()`` returns the outcome or raises."""

    def __init__(self, scenario: Scenario, settings: Settings, backend: str = "local",
                 events: Events | None = None, source: str = "", xrootd: str | None = None,
                 scale: str | None = None) -> None:
        if scenario.topology.external is None:
            check_backend(backend, xrootd)
        self.scale: Scale = parse_scale(scale, scenario.scale)
        self._staged: dict[str, Staged] = {}
        self._ca_path: str | None = None
        self._creds: RunCredentials | None = None
        self._testbed: TestbedAuth | None = None
        self.scenario, self.settings, self.backend_name = scenario, settings, backend
        self.xrootd = xrootd
        self.events = events or Events()
        self.source = source
        self.run_id = new_run_id(scenario.name)
        self.phases: list[dict[str, object]] = []
        self.summary: dict[str, object] = {"run_id": self.run_id, "phases": self.phases}

    def run(self) -> RunOutcome:
        with RunDir(self.settings.results_dir, self.run_id) as out:
            self.events.run_started.fire(RunStarted(self.run_id, str(out.path), self.scenario.name))
            status = "failed"
            try:
                self._run(out)
                status = "complete"
            except KeyboardInterrupt:
                status = "interrupted"
                raise
            except HarnessError as exc:
                self._meta["error"] = str(exc)
                raise
            finally:
                self._finish(out, status)
        return RunOutcome(self.run_id, out.path, status, self.summary)

    def _run(self, out: RunDir) -> None:
        self._meta = self._run_metadata()
        out.write("run.json", self._meta)
        configure_client(self.settings.request_timeout_s, self.settings.connection_window_s)
        if self.scenario.topology.external is not None:
            self._meta["topology"] = {"external": self.scenario.topology.external.model_dump(mode="json")}
            out.write("run.json", self._meta)
            with credentials_env(self.scenario.topology.external):
                self._phases(out, None, None)  # nothing started: no monitoring, origin bytes unknown
            return
        summary, gstream = SummaryCollector(), GStreamCollector()
        with ExitStack() as stack:
            if not self.settings.keep_server_dirs:  # runs last: data, cache and TLS keys go with the servers
                stack.callback(shutil.rmtree, self._server_dir(), ignore_errors=True)
            self._creds = self._run_credentials()
            if self._creds is not None:
                stack.callback(self._creds.destroy)  # runs last: after every server has stopped
                dirs = top_dirs([f.paths()[0] for f in self.scenario.dataset.files])
                self._testbed = TestbedAuth(self._creds, tuple(dirs))
                stack.callback(self._testbed.destroy)  # the servers' copies of keys and proxies
                ca_dir = stack.enter_context(process_ca_dir(self._creds.pki.certdir))
                stack.enter_context(_client_env({"X509_CERT_DIR": str(ca_dir)}))
            topology = self._backend_topology()
            backend = make_backend(self.backend_name, self._server_dir(), self.settings.server_user,
                                   xrootd=self.xrootd, topology=topology,
                                   progress=lambda text: self.events.step.fire(Step(text)))
            stack.callback(backend.close)
            self._record_backend(backend.facts())
            udp_summary = stack.enter_context(UdpListener(backend.monitor_bind, summary.on_packet))
            udp_gstream = stack.enter_context(UdpListener(backend.monitor_bind, gstream.on_packet))
            self.events.step.fire(Step("starting servers"))
            top = Topology(topology, backend, MonitorPorts(udp_summary.port, udp_gstream.port),
                           self.settings.start_timeout_s, out.save_config, *self._server_auth())
            stack.callback(top.save_logs, str(out.logs))
            stack.enter_context(top)
            self._meta["topology"] = self._describe(top)
            if topology.links:
                self.events.step.fire(Step("measuring links"))
                self._meta["links"] = backend.measure_links()
            out.write("run.json", self._meta)
            self._phases(out, top, TruthProbe(summary, gstream, self._truth_wait()))

    def _phases(self, out: RunDir, top: Topology | None, probe: TruthProbe | None) -> None:
        spec = self.scenario
        self.events.step.fire(Step("staging data on the origins" if top else "reading external endpoints"))
        base = dataset_files(spec.dataset, self.scale, spec.topology.origins[0].name if top else EXTERNAL_ORIGIN)
        if top is not None and probe is not None:
            self._stage_all(top, base, "")
            for origin in spec.topology.origins:
                probe.baseline(top.servers[origin.name].placement.port, time.time())
        else:
            self._remember(base, "")
        generations = Generations()
        for run in expand(spec.phases, spec.workload.repetitions):
            server = server_for(run.spec, spec.topology)
            self._phase(out, top, probe, run, server, self._files(top, base, run, server, generations))

    def _files(self, top: Topology | None, base: list[DataFile], run: PhaseRun, server: str,
               generations: Generations) -> list[Staged]:
        """The staged files a phase reads: its server's origin's, under fresh names if the phase needs them."""
        origin = origin_of(server, self.scenario.topology)
        generation, fresh = generations.for_phase(server, run.kind)
        if fresh:
            self.events.step.fire(Step(f"staging fresh names for {run.label}"))
            if top is not None:
                self._stage_all(top, base, prefix(generation), origin)
            else:
                self._upload_all(base, prefix(generation))
        files = [f for f in self._staged.values() if f.prefix == prefix(generation) and origin in f.file.origins]
        if not files:
            raise UserError(f"phase {run.label}: no files of the dataset live on {origin}")
        return files

    def _phase(self, out: RunDir, top: Topology | None, probe: TruthProbe | None, run: PhaseRun, server: str,
               files: list[Staged]) -> None:
        endpoint = self._endpoint(top, server, run.protocol)
        pattern = self.scale.pattern(self.scenario.workload.pattern_spec(run.spec.pattern)[1])
        self.events.phase_started.fire(PhaseStarted(run.label, run.kind, endpoint, len(files), run.protocol,
                                                    pattern.kind or "full", self.scenario.workload.clients))
        start = time.time()
        work = PhaseWork(run.label, run.protocol, endpoint, pattern, run.repetition, self._client_site(),
                         self._tls_name(top, server, run.protocol))
        credentials = self._phase_credentials(top, run)
        reads = self._clients(out).read(work, files, credentials, raise_errors=run.spec.expect == "allow")
        if run.spec.expect == "deny":
            self._all_denied(run.label, reads)
        verdict = self._judge(top, probe, run, server, start, time.time(), reads, files)
        stats = phase_stats(run.label, [record for record, _ in reads])
        out.append("truth.jsonl", {"phase": run.label, **verdict.to_dict()})
        self.phases.append({
            "phase": run.label, "kind": run.kind, "protocol": run.protocol, "pattern": pattern.kind,
            "endpoint": endpoint, "client_sites": sorted({r.site for r, _ in reads}), "repetition": run.repetition,
            "clients": self.scenario.workload.clients, "credentials": [c.name for c in credentials],
            "expect": run.spec.expect, "stats": stats.to_dict(), "truth": verdict.to_dict()})
        out.write(SUMMARY_FILE, self.summary)
        self.events.phase_done.fire(PhaseDone(run.label, stats, verdict.to_dict()))

    def _judge(self, top: Topology | None, probe: TruthProbe | None, run: PhaseRun, server: str, start: float,
               end: float, reads: list[tuple[OpRecord, ReadPlan]], files: list[Staged]) -> Verdict:
        """Origin bytes against what the origin had to send: every byte for a direct read, the distinct
        bytes through a cache (clients sharing a file share its cold fetch)."""
        sizes = {f.path: f.size for f in files}
        needed = sum(r.bytes for r, _ in reads) if run.spec.direct else \
            covered_bytes((r.path, sizes[r.path], plan) for r, plan in reads)
        if top is None or probe is None or run.spec.expect == "deny":
            return judge(run.expectation, needed, None, None, None)
        cache = None if run.spec.direct else CacheView(
            top.servers[server].placement.data_dir, lambda argv: top.backend.exec(top.servers[server].service, argv))
        origin_port = top.servers[origin_of(server, self.scenario.topology)].placement.port
        return probe.phase(run.expectation, origin_port, start, end, needed, set(sizes), cache)

    def _truth_wait(self) -> float:
        """A CI-scale run waits less for the cache's lazily detached records (origin bytes decide anyway)."""
        wait = self.settings.truth_timeout_s
        return min(wait, self.scale.truth_wait_s) if self.scale.truth_wait_s is not None else wait

    def _run_credentials(self) -> RunCredentials | None:
        """The run's PKI and token issuer, when the scenario asks for auth (local backend only for now)."""
        if self.scenario.auth is None:
            return None
        if self.backend_name != "local":
            raise UserError(f"auth scenarios run on the local backend; {self.backend_name} is not wired yet")
        owner = self.settings.server_user if os.geteuid() == 0 else None
        return RunCredentials.create(self.scenario, self._server_dir() / "creds", owner)

    def _server_auth(self) -> tuple[Ready, Extras]:
        """Readiness and extras: auth (TLS, GSI, tokens) when asked for, else TLS for https phases."""
        if self._creds is None or self._testbed is None:
            return log_then_ping, self._tls_extras()
        self._ca_path = str(self._creds.pki.certdir)
        return https_ready(self._creds.pki.certdir), self._testbed.extras

    def _phase_credentials(self, top: Topology | None, run: PhaseRun) -> list[ClientCredential]:
        """Client k's credential; a ``servers`` token audience means every server's audience (https URL)."""
        names = [run.spec.credential_of(k) for k in range(self.scenario.workload.clients)]
        if self._creds is not None and top is not None:
            servers = tuple(audience_of(s.placement) for s in top.servers.values())
            return [self._creds.client(name, servers) for name in names]
        specs = self.scenario.credentials
        return [file_credential(name, specs[name]) if name in specs else NONE for name in names]

    @staticmethod
    def _all_denied(label: str, reads: list[tuple[OpRecord, ReadPlan]]) -> None:
        allowed = sorted({f"{r.client}:{r.path}" for r, _ in reads if r.error is None})
        if allowed:
            raise CheckFailed(f"phase {label}: every read should have been denied, but {len(allowed)} succeeded "
                              f"({', '.join(allowed[:3])})")

    def _tls_extras(self) -> Extras:
        """https phases need TLS on every server: a throwaway CA and host certificate for this run."""
        if not self._https_runs():
            return no_extras
        spec = self.scenario.topology
        names = tuple(o.name for o in spec.origins) + tuple(c.name for c in spec.caches)  # the peer names
        tls = TlsServers.create(self._server_dir() / "tls", self.settings.server_user, aliases=names)
        self._ca_path = tls.ca_file
        return tls

    @staticmethod
    def _tls_name(top: Topology | None, server: str, protocol: str) -> str | None:
        """https to a started server: verify its certificate by peer name, wherever the endpoint points."""
        return tls_name(top.servers[server].placement) if top is not None and protocol == "https" else None

    def _https_runs(self) -> bool:
        return any("https" in phase.protocols for phase in self.scenario.phases)

    def _backend_topology(self) -> TopologySpec:
        """Links the backend cannot emulate are dropped when the scenario allows it, and recorded."""
        spec = self.scenario.topology
        if self.backend_name == "local" and spec.links and spec.emulate_links == "where-possible":
            self._meta["links"] = "not emulated: the local backend runs every server on loopback"
            return spec.model_copy(update={"links": ()})
        return spec

    def _clients(self, out: RunDir) -> Clients:
        lock = threading.Lock()

        def on_record(record: OpRecord) -> None:
            with lock:  # clients are threads: one line at a time into ops.jsonl
                out.append("ops.jsonl", record.to_dict())
                self.events.op_done.fire(OpDone(record))

        external = self.scenario.topology.external
        ca = external.ca_path if external is not None else self._ca_path
        env = {"X509_CERT_DIR": str(self._creds.pki.certdir)} if self._creds is not None else {}
        return Clients(self.scenario.workload, self.scenario.dataset.seed, self.settings.request_timeout_s,
                       on_record, str(ca) if ca else None, self.settings.connection_window_s, env)

    def _client_site(self) -> str:
        clients = self.scenario.topology.clients
        return clients[0].site if clients else "local"

    def _endpoint(self, top: Topology | None, server: str, protocol: str) -> str:
        if top is None:
            external = self.scenario.topology.external
            assert external is not None
            endpoint = external.origin if server == EXTERNAL_ORIGIN else external.cache
            url = endpoint.url(protocol) if endpoint else None
            assert url is not None  # the spec checked every phase's protocols
            return url
        placement = top.servers[server].placement
        return placement.root_url if protocol == "root" else https_url(placement)

    def _stage_all(self, top: Topology, files: list[DataFile], fresh: str, only: str | None = None) -> None:
        """Stage ``files`` on their origins (fresh names: on ``only``, the origin of the cache that needs them)."""
        seed = self.scenario.dataset.seed
        for data in files:
            if only is not None and only not in data.origins:
                continue
            data = data.renamed(fresh).only_on(only) if fresh else data
            checksum = Adler32()
            for origin in data.origins:
                checksum = Adler32()
                top.backend.stage(top.servers[origin].placement, data.path,
                                  digesting(data.content(seed).chunks(), checksum))
            self._staged[data.path] = Staged(data, checksum.value, fresh)

    def _upload_all(self, files: list[DataFile], fresh: str) -> None:
        """External endpoints that allow staging: fresh names are written to the origin over root://."""
        external = self.scenario.topology.external
        assert external is not None and external.origin is not None and external.origin.root is not None
        seed = self.scenario.dataset.seed
        for data in files:
            data = data.renamed(fresh)
            checksum = Adler32()
            upload(external.origin.root, data.path, digesting(data.content(seed).chunks(), checksum),
                   self.settings.request_timeout_s)
            self._staged[data.path] = Staged(data, checksum.value, fresh)

    def _remember(self, files: list[DataFile], fresh: str) -> None:
        """External data is not staged by this run: its content is regenerated from the seed."""
        for data in files:
            self._staged[data.path] = Staged(data, data.content(self.scenario.dataset.seed).adler32(), fresh)

    def _finish(self, out: RunDir, status: str) -> None:
        self._meta = getattr(self, "_meta", self._run_metadata())
        self._meta.update(status=status, finished=time.time())
        self.summary["status"] = status
        out.write("run.json", self._meta)
        out.write(SUMMARY_FILE, self.summary)
        self.events.run_stopped.fire(RunStopped(self.run_id, str(out.path), status))

    def _run_metadata(self) -> dict[str, object]:
        return {
            "schema_version": RESULTS_SCHEMA, "run_id": self.run_id, "status": "running",
            "started": time.time(), "backend": self.backend_name, "scenario_file": self.source,
            "scenario": self.scenario.model_dump(mode="json"), "software": software_versions(),
            "host": host_facts(), "scale": {"name": self.scale.name, "factor": self.scale.factor},
        }

    def _record_backend(self, facts: dict[str, object]) -> None:
        """What the backend ran: a container's XRootD is not the host's."""
        if "xrootd-server" in facts:
            software = self._meta["software"]
            assert isinstance(software, dict)
            software["xrootd-server"] = facts["xrootd-server"]
        if facts:
            self._meta["backend_facts"] = facts

    def _describe(self, top: Topology) -> dict[str, object]:
        return {name: {"role": s.placement.role, "endpoint": s.placement.root_url,
                       "cache_settings": (top.spec.cache(name).settings.model_dump(mode="json")
                                          if s.placement.role == "cache" else None)}
                for name, s in top.servers.items()}

    def _server_dir(self) -> Path:
        return self.settings.runtime_dir / self.run_id

