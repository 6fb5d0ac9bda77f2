"""The token-expiry case: a read authorised by a short-lived token goes on past the token's expiry;
a new open with the same token after expiry is denied.

The origin is the auth check's (``harness.authcheck.servers``: ztn + scitokens with the shipped
matrix's issuer and authdb); its auth files are written into its own directory, so a container finds
them in its bind mount. Each client is its own process (``harness.faults.tokenread`` and the auth
check's probe): XrdCl reads a token once per process. Clients connect by the server's peer name, as
the auth check's probes do (``names_file``/``with_names``): XrdCl checks the name in the certificate,
and the token's audience is that name. The token lives in the case's work directory only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import harness
from harness.auth import TokenSpec, write_token
from harness.auth.clientenv import isolated_env
from harness.authcheck.cases import names_file, with_names
from harness.authcheck.creds import Credentials, server_owner
from harness.authcheck.matrix import load_matrix
from harness.authcheck.redact import redact
from harness.authcheck.servers import ORIGIN, AuthServers, audience_of, https_ready
from harness.backends import Placement, make_backend
from harness.content import Adler32, FileContent, digesting
from harness.faults.outcome import ReadResult
from harness.faults.spec import FaultCase
from harness.machine import local_xrootd_version
from harness.settings import Settings
from harness.spec import OriginSpec, TopologySpec
from harness.topology import Server, Topology

MATRIX = Path(harness.__file__).resolve().parent.parent / "scenarios" / "auth-matrix.yaml"
PATH = "/data/cta/token-expiry.bin"  # readable with storage.read:/cta (the matrix's base_path is /data)
SCOPE, SUBJECT = "storage.read:/cta", "tokalice"
AFTER_EXPIRY_S = 2.0  # the containers share the host's clock: a small margin past exp is enough
PROBE_TIMEOUT_S = 30
TOPOLOGY = TopologySpec(origins=(OriginSpec(name=ORIGIN),))


@dataclass(frozen=True)
class Client:
    """How a client process reaches the origin: by peer name, in a namespace naming it if need be."""

    host: str  # peer_host:port
    hosts: Path | None  # the /etc/hosts its namespace gets (None: the name resolves as it is)
    env: dict[str, str]

    def run(self, argv: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(with_names([sys.executable, "-m", *argv], self.hosts), env=self.env,
                              capture_output=True, text=True, timeout=timeout_s, check=False)


@dataclass(frozen=True)
class TokenExpiry:
    """One token-expiry case on ``backend`` (docker: ``xrootd`` picks the image) in ``work``."""

    settings: Settings
    work: Path
    seed: int
    backend: str = "docker"
    xrootd: str | None = None
    progress: Callable[[str], None] = lambda _line: None

    def run(self, case: FaultCase, notes: dict[str, object], checks: dict[str, bool]) -> tuple[
            list[ReadResult | None], str]:
        """The reads and the server's XRootD version; ``notes`` and ``checks`` are filled in."""
        self.work.mkdir(parents=True, exist_ok=True)
        self.work.chmod(0o755)  # the server user must traverse it
        with ExitStack() as stack:
            creds, top = self._origin(stack)
            origin, checksum = top.servers[ORIGIN], Adler32()
            content = FileContent(self.seed, PATH, case.size)
            top.backend.stage(origin.placement, PATH, digesting(content.chunks(), checksum))
            client = self._client(case, creds, origin.placement, names_file(top, self.work / "hosts"))
            read = _across_expiry(client, origin, case, checksum.value, notes, checks)
        notes.update(token_lifetime_s=case.hold_s, backend=self.backend)
        return [read], str(getattr(top.backend, "version", None) or local_xrootd_version())

    def _origin(self, stack: ExitStack) -> tuple[Credentials, Topology]:
        """The auth check's origin, started; keys and servers are removed when ``stack`` closes."""
        matrix = load_matrix(MATRIX)
        creds = Credentials.create(matrix, self.work / "creds", server_owner(self.settings.server_user))
        stack.callback(creds.destroy)
        servers = AuthServers(matrix, creds)
        stack.callback(servers.destroy)  # after the origin stops: its copies of the keys
        backend = make_backend(self.backend, self.work, self.settings.server_user, xrootd=self.xrootd,
                               topology=TOPOLOGY, progress=self.progress)
        stack.callback(backend.close)
        top = Topology(TOPOLOGY, backend, None, self.settings.start_timeout_s, ready=https_ready(creds.pki.certdir),
                       extras=servers.extras)
        return creds, stack.enter_context(top)

    def _client(self, case: FaultCase, creds: Credentials, placement: Placement, hosts: Path | None) -> Client:
        spec = TokenSpec(subject=SUBJECT, scopes=(SCOPE,), audience=(audience_of(placement),),
                         lifetime_s=int(case.hold_s))
        token = write_token(creds.issuer.mint(spec), self.work / "client" / "token")
        return Client(f"{placement.peer_host}:{placement.port}", hosts, _client_env(creds, token, self.work))


def _across_expiry(client: Client, origin: Server, case: FaultCase, adler32: int, notes: dict[str, object],
                   checks: dict[str, bool]) -> ReadResult | None:
    """A new open (the control), the read across expiry, a new open after it and the server's reason."""
    expires = time.time() + case.hold_s  # the token was minted just before: it expires no later
    before, _ = _new_open(client)
    read, late = _long_read(client, case, expires + AFTER_EXPIRY_S, adler32)
    mark = len(origin.service.log_text())
    after, why = _new_open(client)
    logged = [line for line in origin.service.log_text()[mark:].splitlines() if "authentication failed" in line]
    notes.update(new_open_before_expiry=before, new_open_after_expiry=after, client_said=redact(why),
                 read_on_after_expiry=late, server_said=[redact(line) for line in logged[:3]])
    checks["a new open before expiry is allowed"] = before == "allowed"
    checks["the read's second half came after expiry"] = late
    checks["a new open after expiry is denied"] = after == "denied"
    # XrdCl only says "No protocols left to try"; the server's log says why it refused the login
    checks["the server refused the login as expired"] = any("expired" in line for line in logged)
    return read


def _long_read(client: Client, case: FaultCase, until: float, adler32: int) -> tuple[ReadResult | None, bool]:
    """The read across expiry, and whether its second half was read after ``until``."""
    t0 = time.monotonic()
    try:
        done = client.run(["harness.faults.tokenread", f"root://{client.host}/{PATH}", str(case.size), str(until)],
                          case.bound_s)
    except subprocess.TimeoutExpired:
        return None, False  # hung: the process is killed by run() on timeout
    result = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"error": done.stderr[-300:]}
    seconds, late = time.monotonic() - t0, bool(result.get("read_after"))
    if result.get("error"):
        error = redact(str(result["error"]))
        return ReadResult("across-expiry", int(result.get("bytes", 0)), seconds, error=error), late
    wrong = None if result["adler32"] == adler32 else 0
    return ReadResult("across-expiry", case.size if wrong is None else 0, seconds, wrong_at=wrong,
                      error=None if wrong is None else "content differs from the staged data"), late


def _new_open(client: Client) -> tuple[str, str]:
    """allowed | denied | no answer, and the server's message (the probe never writes the token)."""
    try:
        done = client.run(["harness.authcheck.probe", "--protocol", "root", "--op", "read", "--host", client.host,
                           "--path", PATH], PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "no answer", f"no answer in {PROBE_TIMEOUT_S} s"
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"ok": False, "message": done.stderr[-200:]}
    return ("allowed" if result.get("ok") else "denied"), str(result.get("message", ""))


def _client_env(creds: Credentials, token: Path, work: Path) -> dict[str, str]:
    """Only what the client needs: the CA directory, the token, bounded XrdCl waits; an empty HOME."""
    return isolated_env(work / "client" / "home", {
        "X509_CERT_DIR": str(creds.pki.certdir), "BEARER_TOKEN_FILE": str(token), "XrdSecPROTOCOL": "ztn",
        "XRD_CONNECTIONRETRY": "1", "XRD_REQUESTTIMEOUT": "20", "XRD_CONNECTIONWINDOW": "3"}, python=True)
