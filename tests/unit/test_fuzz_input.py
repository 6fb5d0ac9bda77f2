"""Bad input never crashes the CLI: malformed scenario, matrix and faults files and argument lists.

Hypothesis mutates the shipped files (wrong types, unknown fields, bad sizes, missing sections,
broken YAML) and feeds them through ``cli.main`` in process, with a backend name that does not
exist so that a mutation which happens to be valid stops before anything starts (``make_backend``
is also replaced by a tripwire). Every outcome must be exit 2 with one line on stderr naming the
file (and the line, when the text parses as YAML), never a traceback. The example budget is fixed
and derandomized so CI runs the same examples every time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main

REPO = Path(__file__).resolve().parents[2]
SHIPPED = {"run": REPO / "scenarios" / "smoke.yaml", "auth-check": REPO / "scenarios" / "auth-matrix.yaml",
           "faults": REPO / "scenarios" / "faults.yaml"}
BUDGET = settings(max_examples=60, derandomize=True, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
UNKNOWN_BACKEND = "unknown backend 'nowhere'"
WORK = Path("/tmp/xh-fuzz")

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=12),
    st.sampled_from(["12XB", "-1MiB", "0", "1e400", "{i}", "/", "9" * 30, "1.5.3", "~", "nan", "cache-cold"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@pytest.fixture(autouse=True)
def tripwire(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in these tests may start a server, whatever a mutation turns out to be."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a fuzz input reached make_backend")

    for module in ("harness.runner", "harness.faults.runner", "harness.authcheck.runner"):
        monkeypatch.setattr(f"{module}.make_backend", refuse)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of a parsed document (mapping keys and list indexes)."""
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from paths(value, (*prefix, key))


def mutate(document: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    """``document`` with the node at ``path`` deleted, replaced by ``value``, or given an unknown field."""
    if not path:
        return value if how == "replace" else document
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if how == "delete":
        del parent[path[-1]]
    elif how == "replace":
        parent[path[-1]] = value
    elif isinstance(parent[path[-1]], dict):
        parent[path[-1]]["no_such_field"] = value
    return document


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.err


def assert_one_line_error(code: int, err: str, file: Path | None, parses: bool) -> None:
    assert "Traceback" not in err, err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    if file is not None and UNKNOWN_BACKEND not in err:
        where = re.escape(str(file)) + (r":\d+: " if parses else r"(:\d+)?: ")
        assert re.match(rf"error: {where}", err), err


def argv_for(command: str, file: Path) -> list[str]:
    return [command, str(file), "--backend", "nowhere", *(["--results", str(WORK / "results")]
                                                          if command != "auth-check" else [])]


@pytest.mark.parametrize("command", sorted(SHIPPED))
@BUDGET
@given(data=st.data())
def test_mutated_files_give_one_line_errors(capsys: pytest.CaptureFixture[str], command: str,
                                            data: st.DataObject) -> None:
    document = yaml.safe_load(SHIPPED[command].read_text())
    path = data.draw(st.sampled_from(list(paths(document))), label="path")
    how = data.draw(st.sampled_from(["delete", "replace", "unknown"]), label="how")
    mutated = mutate(document, path, how, data.draw(junk, label="value"))
    file = WORK / f"{uuid.uuid4().hex[:8]}.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(yaml.safe_dump(mutated, allow_unicode=True))
    code, err = run_cli(capsys, argv_for(command, file))
    assert_one_line_error(code, err, file, parses=True)


@pytest.mark.parametrize("command", sorted(SHIPPED))
@BUDGET
@given(data=st.data())
def test_broken_text_gives_one_line_errors(capsys: pytest.CaptureFixture[str], command: str,
                                           data: st.DataObject) -> None:
    text = SHIPPED[command].read_text()
    cut = data.draw(st.integers(0, len(text)), label="cut")
    noise = data.draw(st.text(alphabet=st.sampled_from(list(":-[]{}\t'\"&*!|>%@` \n#\x00é")), max_size=8))
    file = WORK / f"{uuid.uuid4().hex[:8]}.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes((text[:cut] + noise + text[cut + len(noise):]).encode("utf-8", "surrogatepass"))
    code, err = run_cli(capsys, argv_for(command, file))
    assert_one_line_error(code, err, file, parses=False)


WORDS = ["run", "faults", "auth-check", "images", "build", "--backend", "nowhere", "docker", "--xrootd", "9.9",
         "5.5.3", "--only", "no-such-case", "--results", "--junit", "--force", "--bogus", "-x", "", "--", "-",
         "/nonexistent.yaml", str(SHIPPED["faults"])]


@BUDGET
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=7))
def test_argument_lists_never_crash(capsys: pytest.CaptureFixture[str], words: list[str]) -> None:
    argv = [words[0], *words[1:], "--backend", "nowhere"] if words[0] != "images" else words
    if argv[:2] == ["images", "build"] and not any(w.startswith("-") and w != "--force" for w in argv[2:]) \
            and "9.9" not in argv:
        argv.append("--bogus")  # a valid build would build images
    code, err = run_cli(capsys, argv)
    assert "Traceback" not in err, err
    assert code == 2 or (code == 0 and err == ""), (argv, err)
    assert code == 0 or (err.count("\n") == 1 and err.startswith("error: ")), (argv, err)
