"""The token-expiry case, on the local backend: a read authorised by a short-lived token goes on
past the token's expiry; a new open with the same token after expiry is denied.

Local, not docker: the auth files a server needs (``ServerExtras.files``) are written to host paths,
which containers do not see yet. The origin is the auth check's (``harness.authcheck.servers``:
ztn + scitokens with the shipped matrix's issuer and authdb). Each client is its own process
(``harness.faults.tokenread`` and the auth check's probe): XrdCl reads a token once per process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import harness
from harness.auth import TokenSpec, write_token
from harness.authcheck.creds import Credentials, server_owner
from harness.authcheck.matrix import load_matrix
from harness.authcheck.servers import ORIGIN, AuthServers, https_ready, url_of
from harness.backends import make_backend
from harness.content import Adler32, FileContent, digesting
from harness.faults.outcome import ReadResult
from harness.faults.spec import FaultCase
from harness.settings import Settings
from harness.spec import OriginSpec, TopologySpec
from harness.topology import Topology

MATRIX = Path(harness.__file__).resolve().parent.parent / "scenarios" / "auth-matrix.yaml"
PATH = "/data/cta/token-expiry.bin"  # readable with storage.read:/cta (the matrix's base_path is /data)
SCOPE, SUBJECT = "storage.read:/cta", "tokalice"
AFTER_EXPIRY_S = 2.0  # clocks are one host's: a small margin past exp is enough
PROBE_TIMEOUT_S = 30


def token_expiry(case: FaultCase, settings: Settings, work: Path, seed: int,
                 notes: dict[str, object], checks: dict[str, bool]) -> list[ReadResult | None]:
    matrix = load_matrix(MATRIX)
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # the server user must traverse it
    with ExitStack() as stack:
        creds = Credentials.create(matrix, work / "creds", server_owner(settings.server_user))
        stack.callback(creds.destroy)
        backend = make_backend("local", work, settings.server_user)
        stack.callback(backend.close)
        servers = AuthServers(matrix, creds)
        top = stack.enter_context(Topology(TopologySpec(origins=(OriginSpec(name=ORIGIN),)), backend, None,
                                           settings.start_timeout_s, ready=https_ready(creds.pki.certdir),
                                           extras=servers.extras))
        placement = top.servers[ORIGIN].placement
        content, checksum = FileContent(seed, PATH, case.size), Adler32()
        backend.stage(placement, PATH, digesting(content.chunks(), checksum))
        spec = TokenSpec(subject=SUBJECT, scopes=(SCOPE,), audience=(url_of(placement),),
                         lifetime_s=int(case.hold_s))
        expires = time.time() + case.hold_s
        env = _client_env(creds, write_token(creds.issuer.mint(spec), work / "client" / "token"), work)
        host = f"{placement.host}:{placement.port}"
        before = _new_open(host, env)  # the control: the same token opens the file while it is valid
        read = _long_read(f"root://{host}/{PATH}", case, expires + AFTER_EXPIRY_S, env, checksum.value)
        after = _new_open(host, env)
        notes.update(token_lifetime_s=case.hold_s, backend="local", new_open_before_expiry=before,
                     new_open_after_expiry=after)
        checks["a new open before expiry is allowed"] = before == "allowed"
        checks["a new open after expiry is denied"] = after == "denied"
        return [read]


def _long_read(url: str, case: FaultCase, until: float, env: dict[str, str], adler32: int) -> ReadResult | None:
    t0 = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "harness.faults.tokenread", url, str(case.size), str(until)],
                              env=env, capture_output=True, text=True, timeout=case.bound_s, check=False)
    except subprocess.TimeoutExpired:
        return None  # hung: the process is killed by run() on timeout
    result = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"error": done.stderr[-300:]}
    seconds = time.monotonic() - t0
    if result.get("error"):
        return ReadResult("across-expiry", int(result.get("bytes", 0)), seconds, error=str(result["error"]))
    wrong = None if result["adler32"] == adler32 else 0
    return ReadResult("across-expiry", case.size if wrong is None else 0, seconds, wrong_at=wrong,
                      error=None if wrong is None else "content differs from the staged data")


def _new_open(host: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "harness.authcheck.probe", "--protocol", "root", "--op", "read",
                           "--host", host, "--path", PATH], env=env, capture_output=True, text=True,
                          timeout=PROBE_TIMEOUT_S, check=False)
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"ok": False, "message": done.stderr[-200:]}
    return "allowed" if result.get("ok") else "denied"


def _client_env(creds: Credentials, token: Path, work: Path) -> dict[str, str]:
    """Only what the client needs: the CA directory, the token, bounded XrdCl waits; an empty HOME."""
    home = work / "client" / "home"
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_RUNTIME_DIR": str(home), "LANG": "C.UTF-8",
            "X509_CERT_DIR": str(creds.pki.certdir), "BEARER_TOKEN_FILE": str(token), "XrdSecPROTOCOL": "ztn",
            "XRD_CONNECTIONRETRY": "1", "XRD_REQUESTTIMEOUT": "20", "XRD_CONNECTIONWINDOW": "3",
            "PYTHONPATH": str(Path(harness.__file__).resolve().parent.parent)}
