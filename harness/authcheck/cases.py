"""Running one case: prepare the route (cold: not cached; warm: read into the cache by the primer),
run the probe in its own process, classify, judge, and collect the servers' log lines about it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import harness
from harness.authcheck.creds import Credentials, Endpoints
from harness.authcheck.matrix import AuthMatrix, Case, Identity, Operation, Protocol
from harness.authcheck.outcome import CaseResult, Judgement, ProbeResult, classify, judge
from harness.authcheck.redact import redact
from harness.authcheck.servers import ORIGIN, audience_of, server_for
from harness.errors import EnvironmentMissing
from harness.topology import Server, Topology

PROBE_TIMEOUT_S = 40.0
EVIDENCE_LINES = 40
AUDIT = "acc_Audit"
# Log tags are '<name>.<n>:<fd>@'. An https client is 'unknown.<n>' or '<DN hash>.<n>' (8 hex digits);
# anything else is a root:// client ('<user>.<pid>') or a cache's own client ('u25.<pid>', 'p0.<pid>').
_XRD_CLIENT = re.compile(r"\b(?!unknown\.|[0-9a-f]{8}\.)[A-Za-z0-9_-]+\.\d+:\d+@")


@dataclass(frozen=True)
class CaseContext:
    matrix: AuthMatrix
    creds: Credentials
    top: Topology
    digests: dict[str, str]  # path -> sha256 of the staged content
    version: str  # XRootD server version, for known bugs


class CaseRunner:
    """Runs cases; safe to call from several threads for cases on different (server, path)."""

    def __init__(self, ctx: CaseContext) -> None:
        self.ctx = ctx
        self.hosts = names_file(ctx.top, ctx.creds.root / "hosts")

    def run(self, case: Case) -> CaseResult:
        config = self.ctx.matrix.config_of(case)
        server = self.ctx.top.servers[server_for(case.route, config)]
        start = time.monotonic()
        notes: list[str] = []
        problem = self._prepare(case, server, notes)
        if problem is not None:
            return CaseResult(case, config, server.name, "error", problem, Judgement("error", problem),
                              time.monotonic() - start, notes=tuple(notes))
        marks = {name: len(s.service.log_text()) for name, s in self.ctx.top.servers.items()}
        identity = self.ctx.matrix.identities[case.credential]
        probe = self._probe(case.id, identity, case.protocol, case.operation, case.path, server)
        classified = classify(probe, self.ctx.digests.get(case.path) if case.operation == "read" else None)
        evidence = self._evidence(case, server, probe, marks)
        if not evidence:  # e.g. an expired proxy: XrdCl gives up before anything is sent
            notes.append(f"no line of the {server.name} log names this request")
        return CaseResult(case, config, server.name, classified.outcome, redact(classified.detail),
                          judge(case, classified.outcome, self.ctx.version), time.monotonic() - start, probe,
                          evidence, tuple(notes))

    def _prepare(self, case: Case, server: Server, notes: list[str]) -> str | None:
        """Establish the route's precondition; a message if it cannot be established."""
        if case.route == "cache-cold" and self._cached(server, case.path):
            return f"not cold: {case.path} is already in {server.name} (order cases so cold ones come first)"
        if case.route != "cache-warm":
            return None
        primer_name = self.ctx.matrix.primer_of(case)
        assert primer_name is not None  # the matrix model requires one for cache-warm cases
        primer = self._probe(f"{case.id}-primer", self.ctx.matrix.identities[primer_name], "root", "read",
                             case.path, server)
        outcome = classify(primer, self.ctx.digests.get(case.path))
        notes.append(f"primer {primer_name} read {case.path} through {server.name}: {outcome.outcome}")
        if outcome.outcome != "allow":
            return f"the primer could not read {case.path} through {server.name}: {redact(outcome.detail)}"
        if not self._cached(server, case.path):
            return f"{case.path} is not in {server.name} after the primer read it"
        return None

    def _cached(self, server: Server, path: str) -> bool:
        place = server.placement
        return (place.on_host(place.data_dir) / (path.lstrip("/") + ".cinfo")).exists()

    def _probe(self, label: str, identity: Identity, protocol: Protocol, operation: Operation, path: str,
               server: Server) -> ProbeResult:
        case_dir = self.ctx.creds.root / "clients" / label
        case_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = self.ctx.creds.client_env(identity, case_dir, self._endpoints(server))
        env["PYTHONPATH"] = str(Path(harness.__file__).resolve().parent.parent)
        place = server.placement
        argv = [sys.executable, "-m", "harness.authcheck.probe", "--protocol", protocol, "--op", operation,
                "--host", f"{place.peer_host}:{place.port}", "--path", path, "--header", identity.header]
        return run_probe(with_names(argv, self.hosts), env, case_dir)

    def _endpoints(self, server: Server) -> Endpoints:
        servers = self.ctx.top.servers
        origin = audience_of(servers[ORIGIN].placement)
        cache = audience_of(server.placement) if server.name != ORIGIN else None
        return Endpoints(audience_of(server.placement), origin, cache)

    def _evidence(self, case: Case, server: Server, probe: ProbeResult, marks: dict[str, int]) -> tuple[str, ...]:
        """This request's lines: a root:// client is '<user>.<pid>:' in 5.5.3 logs; an https one has no
        pid, so its lines are those naming the path and no root:// client (see _XRD_CLIENT)."""
        tag = f".{probe.pid}:" if probe.pid and case.protocol == "root" else None
        lines = [f"{server.name}: {line}" for line in _new_lines(server, marks)
                 if (tag and tag in line) or (tag is None and case.path in line and not _XRD_CLIENT.search(line))]
        if probe.transport in ("tls", "connection"):  # refused in the handshake: no path is logged
            lines += [f"{server.name}: {line}" for line in _new_lines(server, marks) if "CertVerify" in line]
        if server.name != ORIGIN:  # what the cache asked of the origin for this path, under its own login
            origin = self.ctx.top.servers[ORIGIN]
            robot = f".{_pid(server)}:"
            lines += [f"{ORIGIN}: {line}" for line in _new_lines(origin, marks)
                      if robot in line and case.path in line and AUDIT in line]
        return tuple(redact(line) for line in lines[:EVIDENCE_LINES])


def names_file(top: Topology, path: Path) -> Path | None:
    """An /etc/hosts naming every server by its peer name, when the harness reaches one elsewhere (a
    container, by its address); None when every server is reached by its own name (local backend).

    Clients connect by name, as real ones do: XrdCl and requests check the name in the server's
    certificate, and a container's address is known only once its certificate is in use.
    """
    places = [server.placement for server in top.servers.values()]
    if all(place.host == place.peer_host for place in places):
        return None
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        raise EnvironmentMissing("auth-check on containers runs each probe in a private mount namespace "
                                 "(its own /etc/hosts): run as root, with unshare (util-linux)")
    path.write_text("".join(f"{place.host} {place.peer_host}\n" for place in places) + "127.0.0.1 localhost\n")
    path.chmod(0o644)
    return path


def with_names(argv: list[str], hosts: Path | None) -> list[str]:
    """``argv`` in a private mount namespace whose /etc/hosts is ``hosts``; the host's file is untouched."""
    if hosts is None:
        return argv
    # sh -c SCRIPT $0 ARGS...: $0 is the hosts file, "$@" the probe (exec: the probe keeps the pid)
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"',
            str(hosts), *argv]


def run_probe(argv: list[str], env: dict[str, str], cwd: Path) -> ProbeResult:
    """Run one probe process with a bounded time; its last stdout line is the result."""
    try:
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        return ProbeResult("timeout", False, message=f"probe did not finish in {PROBE_TIMEOUT_S:.0f} s")
    lines = done.stdout.strip().splitlines()
    try:
        return ProbeResult.from_json(json.loads(lines[-1]))
    except (IndexError, json.JSONDecodeError, TypeError):
        tail = redact(done.stderr.strip()[-300:])
        return ProbeResult("exception", False, message=f"probe exited {done.returncode}: {tail}")


def _new_lines(server: Server, marks: dict[str, int]) -> list[str]:
    return server.service.log_text()[marks.get(server.name, 0):].splitlines()


def _pid(server: Server) -> str:
    """The server's pid (its pidfile): the cache's client logs in to the origin as 'uNN.<pid>:'."""
    place = server.placement
    pidfile = place.on_host(place.admin_dir) / server.name / "xrootd.pid"
    try:
        return pidfile.read_text().strip()
    except OSError:
        return "?"
