"""From what a client saw to an outcome, and from expected/actual to a verdict. Pure.

Outcomes on XRootD 5.5.3 (docs/auth-verified.md):

* allow: root:// open (or stat, or write) succeeded; https 2xx. A read must also return the
  staged bytes, or the outcome is an error.
* deny: root:// ``status.code 400`` with ``errno 3010`` (kXR_NotAuthorized); https 403.
* auth-fail: root:// ``status.code 204`` ("Auth failed", from the client or the server);
  https 401 (5.5.4+) or 500 (5.5.3 maps kXR_AuthFailed to 500); or a TLS handshake the server
  aborted after the client presented a certificate (expired proxy, unknown CA).
* error: anything else (not found, timeouts, read-only cache, wrong bytes). Never a pass.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass
from typing import Any, Literal

from harness.authcheck.matrix import Actual, Case

Transport = Literal["xrootd", "http", "tls", "connection", "timeout", "exception"]
Verdict = Literal["pass", "fail", "xfail", "xpass", "error"]
AUTH_FAILED = 204  # XrdCl errAuthFailed
ERROR_RESPONSE = 400  # XrdCl errErrorResponse: the server answered with an error
NOT_AUTHORIZED = 3010  # kXR_NotAuthorized


@dataclass(frozen=True)
class ProbeResult:
    """One line of JSON printed by ``harness.authcheck.probe``: what the client saw, nothing secret."""

    transport: Transport
    ok: bool
    code: int | None = None  # XrdCl status.code
    errno: int | None = None  # XrdCl status.errno (the server's kXR_ error number)
    http_status: int | None = None
    message: str = ""
    nbytes: int = 0
    sha256: str | None = None
    client_cert: bool = False  # https: a certificate was presented in the TLS handshake
    pid: int | None = None  # of the probe: 5.5.3 audit lines name a root:// client '<user>.<pid>:'

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProbeResult:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Classified:
    outcome: Actual
    detail: str


def classify(result: ProbeResult, expect_sha256: str | None = None) -> Classified:
    """Map a probe result to allow / deny / auth-fail / error (see the module docstring)."""
    if result.transport == "xrootd":
        return _xrootd(result, expect_sha256)
    if result.transport == "http":
        return _http(result, expect_sha256)
    if result.transport in ("tls", "connection") and result.client_cert:
        return Classified("auth-fail", f"TLS handshake aborted with a client certificate: {result.message}")
    return Classified("error", f"{result.transport}: {result.message}")


def _xrootd(result: ProbeResult, expect_sha256: str | None) -> Classified:
    if result.ok:
        return _allowed(result, expect_sha256, "ok")
    where = f"code {result.code} errno {result.errno}: {result.message}"
    if result.code == AUTH_FAILED:
        return Classified("auth-fail", where)
    if result.code == ERROR_RESPONSE and result.errno == NOT_AUTHORIZED:
        return Classified("deny", where)
    return Classified("error", where)


def _http(result: ProbeResult, expect_sha256: str | None) -> Classified:
    status = result.http_status or 0
    where = f"HTTP {status}: {result.message}".rstrip(": ")
    if 200 <= status < 300:
        return _allowed(result, expect_sha256, where)
    if status == 403:
        return Classified("deny", where)
    if status in (401, 500):
        return Classified("auth-fail", where)
    return Classified("error", where)


def _allowed(result: ProbeResult, expect_sha256: str | None, where: str) -> Classified:
    if expect_sha256 is not None and result.sha256 is not None and result.sha256 != expect_sha256:
        return Classified("error", f"{where}, but the {result.nbytes} bytes read differ from the staged file")
    return Classified("allow", where)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str

    @property
    def ok(self) -> bool:
        """Counts as a success of the run (an expected failure is one: it is declared)."""
        return self.verdict in ("pass", "xfail")


def judge(case: Case, actual: Actual, version: str) -> Judgement:
    """Compare the outcome with the case's expectation, honouring a known bug of ``version``."""
    bug = case.known_bug
    if bug is not None and any(fnmatch.fnmatchcase(version, v) for v in bug.versions):
        if actual == bug.actual:
            return Judgement("xfail", f"known bug in {version}: {bug.reason}")
        if actual == case.expected:
            return Judgement("xpass", f"known bug did not reproduce ({bug.actual} expected from it, got "
                             f"{actual}): fixed? update known_bug")
    if actual == case.expected:
        return Judgement("pass", "")
    if actual == "error":
        return Judgement("error", f"expected {case.expected}, the request failed otherwise")
    return Judgement("fail", f"unexpected {actual} (expected {case.expected})")


@dataclass(frozen=True)
class CaseResult:
    """One case, judged, with the evidence: the servers' log lines about this request."""

    case: Case
    config: str
    server: str
    actual: Actual
    detail: str
    judgement: Judgement
    duration_s: float
    probe: ProbeResult | None = None
    evidence: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case.id, "name": self.case.name, "config": self.config, "server": self.server,
            "credential": self.case.credential, "protocol": self.case.protocol, "operation": self.case.operation,
            "path": self.case.path, "route": self.case.route, "expected": self.case.expected, "actual": self.actual,
            "verdict": self.judgement.verdict, "reason": self.judgement.reason, "detail": self.detail,
            "known_bug": self.case.known_bug.model_dump() if self.case.known_bug else None,
            "duration_s": round(self.duration_s, 3), "probe": self.probe.to_dict() if self.probe else None,
            "notes": list(self.notes), "evidence": list(self.evidence),
        }
