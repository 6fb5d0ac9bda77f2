"""JUnit XML for an auth check: one testcase per case. Pure.

pass -> plain testcase; fail (unexpected allow/deny/auth-fail) -> <failure>; error -> <error>;
xfail (a declared known bug reproduced) -> <skipped> with the reason, the usual CI rendering
of an expected failure; xpass (a known bug did not reproduce) -> <failure>, so it is noticed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from harness.authcheck.outcome import CaseResult


def junit_xml(suite: str, results: Sequence[CaseResult], duration_s: float) -> str:
    counts = {v: sum(1 for r in results if r.judgement.verdict == v) for v in ("fail", "xpass", "error", "xfail")}
    attrs = {"name": suite, "tests": str(len(results)), "failures": str(counts["fail"] + counts["xpass"]),
             "errors": str(counts["error"]), "skipped": str(counts["xfail"]), "time": f"{duration_s:.3f}"}
    root = ET.Element("testsuites", attrs)
    suite_el = ET.SubElement(root, "testsuite", attrs)
    for result in results:
        _testcase(suite_el, suite, result)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(parent: ET.Element, suite: str, result: CaseResult) -> None:
    case = result.case
    element = ET.SubElement(parent, "testcase", {
        "classname": f"{suite}.{result.config}.{case.route}",
        "name": f"{case.id}: {case.name} [{case.protocol} {case.operation} {case.path}]",
        "time": f"{result.duration_s:.3f}",
    })
    verdict = result.judgement.verdict
    summary = f"expected {case.expected}, got {result.actual}"
    if verdict == "fail":
        _child(element, "failure", f"unexpected {result.actual}: {summary}", result.detail)
    elif verdict == "xpass":
        _child(element, "failure", result.judgement.reason, result.detail)
    elif verdict == "error":
        _child(element, "error", f"{summary}: {result.detail}", result.detail)
    elif verdict == "xfail":
        ET.SubElement(element, "skipped", {"type": "xfail", "message": f"expected failure: {result.judgement.reason}"})
    lines = [f"{case.credential} via {result.server}: {result.actual} ({result.detail})", *result.notes,
             *result.evidence]
    ET.SubElement(element, "system-out").text = "\n".join(lines)


def _child(parent: ET.Element, tag: str, message: str, text: str) -> None:
    ET.SubElement(parent, tag, {"type": tag, "message": message}).text = text
