from __future__ import annotations

from pathlib import Path

import pytest

from harness.authcheck.matrix import AuthMatrix, load_matrix
from harness.cli import main
from harness.errors import SpecError

from ..specfiles import load_text, spec_error

DEFAULT = Path(__file__).resolve().parents[3] / "scenarios" / "auth-matrix.yaml"
GOOD = """\
name: t
users:
  alice: {vo: escape, fqans: [/escape/cta]}
identities:
  alice: {kind: x509, user: alice}
  tok: {kind: token, scopes: [storage.read:/cta]}
primer: tok
servers:
  origin:
    authdb:
      - u * /data/public/ rl
  cache:
    authdb:
      - u * /data/public/ rl
files: [/data/public/f]
cases:
  - {id: A, name: a, credential: alice, protocol: root, path: /data/public/f, route: origin, expected: allow}
  - id: B
    name: b
    credential: tok
    protocol: https
    path: /data/public/f
    route: cache-warm
    expected: deny
"""


def load(tmp_path: Path, text: str) -> AuthMatrix:
    return load_text(load_matrix, tmp_path, text, "m.yaml")


def error_of(tmp_path: Path, text: str) -> SpecError:
    return spec_error(load_matrix, tmp_path, text, "m.yaml")


def test_a_small_matrix_loads_with_defaults(tmp_path: Path) -> None:
    matrix = load(tmp_path, GOOD)
    assert list(matrix.configurations) == ["default"]
    assert matrix.config_of(matrix.cases[1]) == "default" and matrix.primer_of(matrix.cases[1]) == "tok"
    assert matrix.identities["tok"].audience == ("server",)
    assert matrix.cases[0].operation == "read" and matrix.file_size == 64 * 1024


@pytest.mark.parametrize(("old", "new", "line", "field", "problem"), [
    ("    route: cache-warm\n", "    route: lukewarm\n", 23, "cases.1.route", "Input should be"),
    ("    credential: tok\n", "    credential: nobody\n", 20, "cases.1.credential", "'nobody' is not defined"),
    ("      - u * /data/public/ rl\n  cache", "      - h example.org /data/ rl\n  cache", 11,
     "servers.origin.authdb.0", "host rules crash"),
    ("      - u * /data/public/ rl\n  cache", "      - z /data/ rl\n  cache", 11, "servers.origin.authdb.0",
     "not an authdb record type"),
    ("{kind: x509, user: alice}", "{kind: x509, user: zed}", 5, "identities.alice.user", "'zed' is not defined"),
    ("{kind: token, scopes: [storage.read:/cta]}", "{kind: token, scopes: [storage.read:/cta], proxy: voms}", 6,
     "identities.tok.proxy", "not a field of kind token"),
    ("{kind: token, scopes: [storage.read:/cta]}", "{kind: token}", 6, "identities.tok.scopes", "need scopes"),
    ("    expected: deny\n", "    expected: maybe\n", 24, "cases.1.expected", "Input should be"),
    ("    expected: deny\n", "    expected: deny\n    known_bug: {versions: ['5.5.3'], actual: deny, reason: r}\n",
     25, "cases.1.known_bug.actual", "equals expected"),
    ("  - id: B\n", "  - id: A\n", 18, "cases.1.id", "used twice"),
    ("    path: /data/public/f\n    route", "    path: /data/cta/../public/f\n    route", 22, "cases.1.path",
     "dot segments"),
    ("primer: tok\n", "", 22, "cases.1.route", "need a primer"),
    ("files: [/data/public/f]\n", "files: [/data/public/g]\n", 22, "cases.1.path", "must be listed in files"),
    ("name: t\n", "name: t\ncolour: blue\n", 2, "colour", "unknown field"),
    ("fqans: [/escape/cta]", "fqans: [/atlas/x]", 3, "users.alice.fqans.0", "outside VO"),
    ("alice: {vo: escape, fqans: [/escape/cta]}", "alice: {}", 5, "identities.alice.proxy", None),
    ("    protocol: https\n", "    protocol: gopher\n", 21, "cases.1.protocol", "Input should be"),
])
def test_errors_name_file_line_and_field(tmp_path: Path, old: str, new: str, line: int, field: str,
                                         problem: str | None) -> None:
    text = GOOD.replace(old, new)
    if field == "identities.alice.proxy":  # a VOMS proxy of a user without a VO
        text = text.replace("{kind: x509, user: alice}", "{kind: x509, user: alice, proxy: voms}")
    assert text != GOOD
    error = error_of(tmp_path, text)
    assert (error.line, error.field) == (line, field), str(error)
    assert str(error).startswith(f"{tmp_path / 'm.yaml'}:{line}: {field}: ")
    assert problem is None or problem in error.problem
    assert "\n" not in str(error)


def test_the_default_matrix_covers_what_it_promises() -> None:
    matrix = load_matrix(DEFAULT)
    cases = matrix.cases
    assert len(cases) >= 40
    assert {c.protocol for c in cases} == {"root", "https"}
    assert {c.route for c in cases} == {"origin", "cache-cold", "cache-warm"}
    assert {c.operation for c in cases} == {"read", "write", "stat"}
    assert {c.expected for c in cases} == {"allow", "deny", "auth-fail"}
    kinds = {matrix.identities[c.credential].kind for c in cases}
    assert kinds == {"x509", "token", "none"}
    reasons = " ".join(c.known_bug.reason for c in cases if c.known_bug)
    for bug in ("CRL", "'/..'", "/cta_evil"):
        assert bug in reasons
    # warm-cache authorisation: a case that denies a cached file, and its negative control that allows it
    warm_denied = {c.path for c in cases if c.route == "cache-warm" and c.expected == "deny"}
    controls = [c for c in cases if not matrix.configurations[matrix.config_of(c)].cache_authorize]
    assert any(c.route == "cache-warm" and c.expected == "allow" and c.path in warm_denied for c in controls)


def test_a_malformed_matrix_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("    route: cache-warm\n", "    route: lukewarm\n"))
    with pytest.raises(SystemExit) as info:
        main(["auth-check", str(bad), "--results", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err.startswith(f"error: {bad}:23: cases.1.route: ") and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
