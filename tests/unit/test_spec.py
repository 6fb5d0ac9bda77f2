from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.spec import load_scenario
from harness.units import parse_size, xrd_size

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
GOOD = """\
name: t
topology:
  origins: [{name: o}]
  caches:
    - name: c
      origin: o
dataset:
  files: [{path: "/f{i}", count: 2, size: 1MiB}]
phases:
  - kind: direct
  - kind: cache-cold
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_scenario(write(tmp_path, text))
    return info.value


def test_shipped_scenarios_are_valid() -> None:
    for path in SCENARIOS.glob("*.yaml"):
        # auth matrices: tests/unit/authcheck/test_matrix.py; faults.yaml: tests/unit/faults
        if not path.name.startswith("auth-") and path.name != "faults.yaml":
            assert load_scenario(path).name


def test_defaults_are_the_measurable_ones(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    settings = scenario.topology.caches[0].settings
    assert (settings.blocksize, settings.prefetch, settings.ram) == (1024**2, 0, 1024**3)
    assert scenario.dataset.files[0].paths() == ["/f0", "/f1"]


@pytest.mark.parametrize(("old", "new", "line", "field"), [
    ("      origin: o\n", "      origin: o\n      settings: {blocksize: 3}\n", 7,
     "topology.caches.0.settings.blocksize"),
    ("      origin: o\n", "      origin: nowhere\n", 6, "topology.caches.0.origin"),
    ("  - kind: cache-cold\n", "  - kind: lukewarm\n", 11, "phases.1.kind"),
    ("name: t\n", "name: t\ncolour: blue\n", 2, "colour"),
    ("count: 2", "count: -1", 8, "dataset.files.0.count"),
    ("size: 1MiB", "size: lots", 8, "dataset.files.0.size"),
])
def test_errors_name_file_line_and_field(tmp_path: Path, old: str, new: str, line: int, field: str) -> None:
    error = error_of(tmp_path, GOOD.replace(old, new))
    assert (error.line, error.field) == (line, field)
    assert str(error).startswith(f"{tmp_path / 's.yaml'}:{line}: {field}: ")
    assert "\n" not in str(error)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("  - kind: direct\n", "  - kind: [direct\n"))
    assert error.field == "yaml" and error.line is not None and error.line >= 10


def test_missing_file_and_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_scenario(tmp_path / "absent.yaml")
    assert error_of(tmp_path, "- just\n- a list\n").field == "(document)"


def test_cache_phase_needs_a_cache(tmp_path: Path) -> None:
    text = GOOD.replace("  caches:\n    - name: c\n      origin: o\n", "")
    assert "has none" in error_of(tmp_path, text).problem


def test_small_ram_is_refused_like_xrootd_does(tmp_path: Path) -> None:
    error = error_of(tmp_path, GOOD.replace("      origin: o\n", "      origin: o\n      settings: {ram: 512m}\n"))
    assert error.field == "topology.caches.0.settings.ram"


@pytest.mark.parametrize(("text", "size"), [
    (4096, 4096), ("512k", 512 * 1024), ("64MiB", 64 * 1024**2), ("2GB", 2 * 10**9), ("1M", 1024**2),
])
def test_parse_size(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["lots", "1 parsec", True, "-1k"])
def test_parse_size_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(bad)


def test_xrd_size_uses_the_largest_exact_unit() -> None:
    assert [xrd_size(n) for n in (1024**3, 1024**2, 512 * 1024, 1000)] == ["1g", "1m", "512k", "1000"]
