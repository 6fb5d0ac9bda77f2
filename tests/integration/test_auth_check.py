"""``auth-check`` against real servers: the default matrix ends as expected (local processes, and
containers of XRootD 5.5.3 and 5.8.1 with each version's known bugs as expected failures), a broken
cache config turns exactly its deny cases red, and no key, proxy or token leaks into anything the
harness writes."""

from __future__ import annotations

import fnmatch
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from harness.auth import TokenIssuer
from harness.authcheck import servers
from harness.authcheck.matrix import load_matrix
from harness.backends.engine import LABEL_RUN
from harness.cli import main
from harness.settings import Settings
from harness.xrdconf.auth import RenderedAuth, ServerAuth

from .helpers import REPO

DEFAULT = REPO / "scenarios" / "auth-matrix.yaml"
SECRET_MARKERS = ("PRIVATE KEY", "eyJ")  # PEM keys (in every proxy file), JWT headers


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(settings.runtime_dir))
    return settings


@pytest.fixture
def minted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token the run mints (in this process), to look for them afterwards."""
    tokens: list[str] = []
    real = TokenIssuer.mint

    def recording(self: TokenIssuer, spec: Any, **kw: Any) -> str:
        token = real(self, spec, **kw)
        tokens.append(token)
        return token

    monkeypatch.setattr(TokenIssuer, "mint", recording)
    return tokens


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def junit_cases(junit: Path) -> dict[str, ET.Element]:
    return {tc.get("name", "").split(":")[0]: tc for tc in ET.parse(junit).getroot().iter("testcase")}


def written_files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from (p for p in root.rglob("*") if p.is_file())


def assert_no_secrets(tokens: list[str], text: str, *roots: Path) -> None:
    needles = [*SECRET_MARKERS, *tokens, *(t.split(".")[-1] for t in tokens if t.split(".")[-1])]
    for path in written_files(*roots):
        content = path.read_text(errors="replace")
        leaked = [n[:12] for n in needles if n in content]
        assert not leaked, f"{path} contains secret material ({leaked})"
    assert not [n for n in needles if n in text], "the output contains secret material"


def test_default_matrix_ends_as_expected(cli_env: Settings, minted: list[str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "junit.xml"
    start = time.monotonic()
    code, out, err = run_cli(capsys, "auth-check", "--results", str(cli_env.results_dir), "--junit", str(junit))
    elapsed = time.monotonic() - start
    assert code == 0, out[-3000:] + err
    assert elapsed < 90, f"the default matrix took {elapsed:.0f} s"
    matrix = load_matrix(DEFAULT)
    cases = junit_cases(junit)
    assert set(cases) == {c.id for c in matrix.cases}
    known = {c.id for c in matrix.cases if c.known_bug}
    assert {i for i, tc in cases.items() if tc.find("skipped") is not None} == known
    assert not [i for i, tc in cases.items() if tc.find("failure") is not None or tc.find("error") is not None]
    (run_dir,) = cli_env.results_dir.iterdir()
    assert (run_dir / "junit.xml").read_text() == junit.read_text()
    assert {"run.json", "summary.json", "cases.jsonl", "configs", "logs"} <= {p.name for p in run_dir.iterdir()}
    assert "acc_Audit" in (run_dir / "cases.jsonl").read_text()  # evidence was collected
    (server_dir,) = cli_env.runtime_dir.iterdir()
    assert not (server_dir / "creds").exists(), "keys, proxies and tokens must be removed after the run"
    assert len(minted) > 20, "the run minted few tokens: the check below would prove little"
    assert_no_secrets(minted, out + err, cli_env.results_dir, server_dir, tmp_path)


def known_bugs_of(version: str) -> dict[str, str]:
    """Case id -> reason, for the default matrix's known bugs declared for ``version``."""
    return {c.id: c.known_bug.reason for c in load_matrix(DEFAULT).cases
            if c.known_bug and any(fnmatch.fnmatchcase(version, v) for v in c.known_bug.versions)}


def leftovers(run_id: str) -> list[str]:
    """Containers and networks of the run still known to the engine."""
    client = docker.from_env(timeout=60)
    label = {"label": f"{LABEL_RUN}={run_id}"}
    return [c.name for c in client.containers.list(all=True, filters=label)] + [
        n.name for n in client.networks.list(filters=label)]


@pytest.mark.docker
@pytest.mark.parametrize("xrootd", ["5.5.3", "5.8.1"])
def test_default_matrix_on_docker_ends_as_expected_with_the_versions_known_bugs(
        cli_env: Settings, minted: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], xrootd: str) -> None:
    junit = tmp_path / "junit.xml"
    start = time.monotonic()
    code, out, err = run_cli(capsys, "auth-check", "--backend", "docker", "--xrootd", xrootd,
                             "--results", str(cli_env.results_dir), "--junit", str(junit))
    print(f"XRootD {xrootd} on docker: {time.monotonic() - start:.1f} s")
    assert code == 0, out[-3000:] + err
    cases = junit_cases(junit)
    assert set(cases) == {c.id for c in load_matrix(DEFAULT).cases}
    assert not [i for i, tc in cases.items() if tc.find("failure") is not None or tc.find("error") is not None]
    expected_failures = known_bugs_of(xrootd)
    skipped = {i: tc.find("skipped") for i, tc in cases.items() if tc.find("skipped") is not None}
    assert set(skipped) == set(expected_failures)
    for case_id, element in skipped.items():
        assert element is not None and expected_failures[case_id] in element.get("message", "")
    (run_dir,) = cli_env.results_dir.iterdir()
    run = json.loads((run_dir / "run.json").read_text())
    assert (run["backend"], run["xrootd"], run["status"]) == ("docker", xrootd, "complete")
    assert "acc_Audit" in (run_dir / "cases.jsonl").read_text()
    assert leftovers(run_dir.name) == []
    (server_dir,) = cli_env.runtime_dir.iterdir()
    assert not (server_dir / "creds").exists() and not list(server_dir.glob("*/auth"))
    assert_no_secrets(minted, out + err, cli_env.results_dir, server_dir, tmp_path)


def without_authorization(spec: ServerAuth) -> RenderedAuth:
    """The cache's config with one line removed: 'ofs.authorize 1'."""
    rendered = RENDER(spec)
    if spec.role != "cache":
        return rendered
    assert "ofs.authorize 1\n" in rendered.config
    return RenderedAuth(rendered.config.replace("ofs.authorize 1\n", ""), rendered.env, rendered.files)


RENDER = servers.render_auth
BROKEN_RED = {"C03", "C04", "C05", "C15", "C17"}  # the protected cache's deny cases
STILL_GREEN = {"O01", "C01"}


@pytest.mark.parametrize("backend", [
    pytest.param(("--backend", "local"), id="local"),
    pytest.param(("--backend", "docker", "--xrootd", "5.8.1"), id="docker-5.8.1", marks=pytest.mark.docker),
])
def test_one_broken_line_turns_the_cache_deny_cases_red(cli_env: Settings, minted: list[str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str],
                                                        backend: tuple[str, ...]) -> None:
    document = yaml.safe_load(DEFAULT.read_text())
    document["cases"] = [c for c in document["cases"] if c["id"] in BROKEN_RED | STILL_GREEN]
    # without ofs.authorize the SciTokens plugin is not loaded, so the token primer could not log in
    document["configurations"]["protected"]["primer"] = "alice-cta"
    matrix = tmp_path / "broken.yaml"
    matrix.write_text(yaml.safe_dump(document, sort_keys=False))
    monkeypatch.setattr(servers, "render_auth", without_authorization)
    junit = tmp_path / "junit.xml"
    code, out, err = run_cli(capsys, "auth-check", str(matrix), *backend, "--results", str(cli_env.results_dir),
                             "--junit", str(junit))
    assert code == 1, out[-3000:] + err
    cases = junit_cases(junit)
    red = {i for i, tc in cases.items() if tc.find("failure") is not None}
    assert red == BROKEN_RED, out[-3000:]
    for case_id in BROKEN_RED:
        failure = cases[case_id].find("failure")
        assert failure is not None and "unexpected allow" in failure.get("message", "")
        assert case_id in err
    assert all(cases[i].find("failure") is None and cases[i].find("error") is None for i in STILL_GREEN)
    (run_dir,) = cli_env.results_dir.iterdir()
    assert "ofs.authorize 1" not in (run_dir / "configs" / "protected.cfg").read_text().splitlines()
    assert_no_secrets(minted, out + err, cli_env.results_dir, tmp_path)
