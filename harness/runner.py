"""Run a scenario: servers up, data staged, phases read and judged, results written.

The runner prints nothing and exits nothing: it fires events and raises HarnessErrors.
Whatever happens, run.json ends with a status (complete, failed, interrupted) and every
server it started is stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.backends import check_backend, make_backend
from harness.content import Adler32, FileContent, digesting
from harness.errors import HarnessError, ReadError
from harness.events import Events, OpDone, PhaseDone, PhaseStarted, RunStarted, RunStopped, Step
from harness.machine import host_facts, software_versions
from harness.measure import OpRecord, phase_stats
from harness.plan import ReadPlan, ReadTarget
from harness.readers.xroot import XrootReader, configure_client
from harness.results import RESULTS_SCHEMA, SUMMARY_FILE, RunDir, new_run_id
from harness.settings import Settings
from harness.spec import PhaseSpec, Scenario
from harness.topology import MonitorPorts, Topology
from harness.truth import GStreamCollector, SummaryCollector, UdpListener
from harness.truth.probe import CacheView, TruthProbe
from harness.truth.verdict import Expectation

EXPECT: dict[str, Expectation] = {"direct": "direct", "cache-cold": "miss", "cache-warm": "hit"}


@dataclass(frozen=True)
class StagedFile:
    path: str
    size: int
    adler32: int


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
                 events: Events | None = None, source: str = "", xrootd: str | None = None) -> None:
        check_backend(backend, xrootd)
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
        summary, gstream = SummaryCollector(), GStreamCollector()
        with ExitStack() as stack:
            backend = make_backend(self.backend_name, self._server_dir(), self.settings.server_user,
                                   xrootd=self.xrootd, topology=self.scenario.topology,
                                   progress=lambda text: self.events.step.fire(Step(text)))
            stack.callback(backend.close)
            self._record_backend(backend.facts())
            udp_summary = stack.enter_context(UdpListener(backend.monitor_bind, summary.on_packet))
            udp_gstream = stack.enter_context(UdpListener(backend.monitor_bind, gstream.on_packet))
            self.events.step.fire(Step("starting servers"))
            top = Topology(self.scenario.topology, backend, MonitorPorts(udp_summary.port, udp_gstream.port),
                           self.settings.start_timeout_s, out.save_config)
            stack.callback(top.save_logs, str(out.logs))
            stack.enter_context(top)
            self._meta["topology"] = self._describe(top)
            if self.scenario.topology.links:
                self.events.step.fire(Step("measuring links"))
                self._meta["links"] = backend.measure_links()
            out.write("run.json", self._meta)
            self._phases(out, top, TruthProbe(summary, gstream, self.settings.truth_timeout_s))

    def _phases(self, out: RunDir, top: Topology, probe: TruthProbe) -> None:
        origin = top.origin_for(None)
        self.events.step.fire(Step("staging data on the origin"))
        staged = list(self._stage(top))
        probe.baseline(origin.placement.port, time.time())
        for phase in self.scenario.phases:
            self._phase(out, top, probe, phase, staged)

    def _phase(self, out: RunDir, top: Topology, probe: TruthProbe, phase: PhaseSpec,
               staged: list[StagedFile]) -> None:
        server = top.origin_for(phase.via) if phase.kind == "direct" else top.cache_for(phase.via)
        base = server.placement.root_url
        self.events.phase_started.fire(PhaseStarted(phase.label, phase.kind, base, len(staged)))
        start = time.time()
        ops = [self._read(out, phase, base, f) for f in staged]
        end = time.time()
        cache = None if phase.kind == "direct" else CacheView(
            server.placement.data_dir, lambda argv: top.backend.exec(server.service, argv))
        origin_port = top.origin_for(None).placement.port
        verdict = probe.phase(EXPECT[phase.kind], origin_port, start, end, sum(o.bytes for o in ops),
                              {f.path for f in staged}, cache)
        stats = phase_stats(phase.label, ops)
        entry: dict[str, object] = {"phase": phase.label, "kind": phase.kind, "endpoint": base,
                                    "stats": stats.to_dict(), "truth": verdict.to_dict()}
        out.append("truth.jsonl", {"phase": phase.label, **verdict.to_dict()})
        self.phases.append(entry)
        out.write(SUMMARY_FILE, self.summary)
        self.events.phase_done.fire(PhaseDone(phase.label, stats, verdict.to_dict()))

    def _read(self, out: RunDir, phase: PhaseSpec, base: str, staged: StagedFile) -> OpRecord:
        w = self.scenario.workload
        reader = XrootReader(w.request_size, w.in_flight, self.settings.request_timeout_s)
        target = ReadTarget(base, staged.path, staged.size, staged.adler32)
        record = reader.read(target, ReadPlan(), phase.label, "client")
        out.append("ops.jsonl", record.to_dict())
        self.events.op_done.fire(OpDone(record))
        if record.error is not None:
            raise ReadError(record.error)
        return record

    def _stage(self, top: Topology) -> Iterator[StagedFile]:
        origin = top.origin_for(None)
        for fileset in self.scenario.dataset.files:
            for path in fileset.paths():
                content = FileContent(self.scenario.dataset.seed, path, fileset.size)
                checksum = Adler32()
                top.backend.stage(origin.placement, path, digesting(content.chunks(), checksum))
                yield StagedFile(path, fileset.size, checksum.value)

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
            "host": host_facts(),
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

