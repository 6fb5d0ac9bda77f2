from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.auth import TokenIssuer, TokenSpec
from harness.authcheck.junit import junit_xml
from harness.authcheck.matrix import Case, KnownBug
from harness.authcheck.outcome import CaseResult, ProbeResult, classify, judge
from harness.authcheck.redact import redact

SHA = "ab" * 32


@pytest.mark.parametrize(("result", "outcome"), [
    (ProbeResult("xrootd", True, 0, 0, sha256=SHA), "allow"),
    (ProbeResult("xrootd", True, 0, 0, sha256="cd" * 32, nbytes=10), "error"),  # wrong bytes are never a pass
    (ProbeResult("xrootd", False, 400, 3010, message="[3010] permission denied"), "deny"),
    (ProbeResult("xrootd", False, 204, 0, message="[FATAL] Auth failed"), "auth-fail"),
    (ProbeResult("xrootd", False, 400, 3011, message="no such file"), "error"),
    (ProbeResult("xrootd", False, 400, 3025, message="read-only file system"), "error"),
    (ProbeResult("xrootd", False, 206, 0, message="timeout"), "error"),
    (ProbeResult("http", True, http_status=200, sha256=SHA), "allow"),
    (ProbeResult("http", True, http_status=201), "allow"),
    (ProbeResult("http", False, http_status=403), "deny"),
    (ProbeResult("http", False, http_status=401), "auth-fail"),
    (ProbeResult("http", False, http_status=500), "auth-fail"),  # 5.5.3 maps kXR_AuthFailed to 500
    (ProbeResult("http", False, http_status=404), "error"),
    (ProbeResult("tls", False, client_cert=True, message="SSLError: EOF"), "auth-fail"),
    (ProbeResult("connection", False, client_cert=True, message="reset"), "auth-fail"),
    (ProbeResult("tls", False, client_cert=False, message="certificate verify failed"), "error"),
    (ProbeResult("timeout", False), "error"),
    (ProbeResult("exception", False, message="boom"), "error"),
])
def test_outcome_mapping(result: ProbeResult, outcome: str) -> None:
    assert classify(result, SHA).outcome == outcome


def test_probe_json_round_trip_ignores_unknown_keys() -> None:
    result = ProbeResult("xrootd", False, 400, 3010, message="m", pid=7)
    assert ProbeResult.from_json({**result.to_dict(), "future": 1}) == result


def case(expected: str = "deny", bug: KnownBug | None = None, **kw: str) -> Case:
    fields = {"id": "X1", "name": "n", "credential": "c", "protocol": "root", "path": "/data/f", "route": "origin",
              "expected": expected, "known_bug": bug, **kw}
    return Case.model_validate(fields)


BUG = KnownBug(versions=("5.5.*",), actual="allow", reason="prefix match")


@pytest.mark.parametrize(("the_case", "actual", "version", "verdict"), [
    (case(), "deny", "5.5.3", "pass"),
    (case(), "allow", "5.5.3", "fail"),
    (case(), "auth-fail", "5.5.3", "fail"),
    (case(), "error", "5.5.3", "error"),
    (case(bug=BUG), "allow", "5.5.3", "xfail"),
    (case(bug=BUG), "deny", "5.5.3", "xpass"),  # the bug is gone: noticed, not silently passed
    (case(bug=BUG), "allow", "5.8.1", "fail"),  # another version: the bug is not excused
    (case(bug=BUG), "deny", "5.8.1", "pass"),
    (case(bug=BUG), "auth-fail", "5.5.3", "fail"),
])
def test_verdicts(the_case: Case, actual: str, version: str, verdict: str) -> None:
    judgement = judge(the_case, actual, version)  # type: ignore[arg-type]
    assert judgement.verdict == verdict
    assert judgement.ok == (verdict in ("pass", "xfail"))


def result(the_case: Case, actual: str, version: str = "5.5.3") -> CaseResult:
    return CaseResult(the_case, "protected", "origin", actual, f"detail of {the_case.id}",  # type: ignore[arg-type]
                      judge(the_case, actual, version), 0.25, evidence=("origin: acc_Audit: ... grant ...",))


def test_junit_one_testcase_per_case_with_failures_and_expected_failures() -> None:
    results = [result(case(id="P1"), "deny"), result(case(id="F1"), "allow"), result(case(id="E1"), "error"),
               result(case(id="K1", bug=BUG), "allow"), result(case(id="G1", bug=BUG), "deny")]
    root = ET.fromstring(junit_xml("auth-check.t", results, 3.0))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("5", "2", "1",
                                                                                                      "1")
    by_id = {tc.get("name", "").split(":")[0]: tc for tc in suite.iter("testcase")}
    assert set(by_id) == {"P1", "F1", "E1", "K1", "G1"}
    assert list(by_id["P1"]) == [by_id["P1"].find("system-out")]
    failure = by_id["F1"].find("failure")
    assert failure is not None and "unexpected allow" in failure.get("message", "")
    assert by_id["E1"].find("error") is not None
    skipped = by_id["K1"].find("skipped")
    assert skipped is not None and "prefix match" in skipped.get("message", "")
    xpass = by_id["G1"].find("failure")
    assert xpass is not None and "did not reproduce" in xpass.get("message", "")
    assert by_id["P1"].get("classname") == "auth-check.t.protected.origin"
    assert "acc_Audit" in (by_id["P1"].findtext("system-out") or "")


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    """A real minted token and a real private key, made at run time: no secret is kept in the repository."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    return {"jwt": TokenIssuer.generate("https://localhost:8443/issuer").mint(TokenSpec()), "pem": pem}


@pytest.mark.parametrize("template", [
    "open /data/f?authz=Bearer%20{jwt}&x=1",
    "Authorization: Bearer {jwt}",
    "token {jwt} in a message",
    "{pem}",
])
def test_redact_removes_tokens_and_keys(template: str, secrets: dict[str, str]) -> None:
    clean = redact(template.format(**secrets))
    assert "eyJ" not in clean and "PRIVATE KEY" not in clean and "<redacted>" in clean


def test_redact_keeps_ordinary_log_lines() -> None:
    line = "acc_Audit: root.1:2@[::1] grant gsi d7efb83c.0@[::1] read /data/cta/f"
    assert redact(line) == line
