from __future__ import annotations

from pathlib import Path

import pytest

from harness.content import FITS_BLOCK, FileContent
from harness.dataset import MIN_CLUSTER, Scale, dataset_files, parse_scale
from harness.errors import UserError
from harness.spec import DatasetSpec, FileSet, PatternSpec, ScaleSpec, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
MiB = 1024**2


def test_scale_ci_full_and_factor() -> None:
    spec = ScaleSpec(ci_factor=0.1, ci_max_count=3, min_size=MiB)
    assert parse_scale("full", spec) == Scale("full")
    ci = parse_scale("ci", spec)
    assert (ci.factor, ci.count(10), ci.size(100 * MiB), ci.size(MiB)) == (0.1, 3, 10 * MiB, MiB)
    assert parse_scale("0.5", spec).size(10 * MiB) == 5 * MiB
    assert parse_scale(None, spec).name == "full"
    assert ci.pattern(PatternSpec(cluster_size=30_000_000)).cluster_size == MIN_CLUSTER


@pytest.mark.parametrize("text", ["tiny", "0", "-1", "1000"])
def test_bad_scale_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError, match="--scale"):
        parse_scale(text, ScaleSpec())


def test_sizes_are_seeded_log_normal_within_bounds() -> None:
    files = FileSet(path="/f{i}", count=50, size=100 * MiB, spread=0.5, min_size=50 * MiB, max_size=200 * MiB)
    dataset = DatasetSpec(seed=3, files=(files,))
    sizes = [f.size for f in dataset_files(dataset, Scale("full"), "o")]
    assert sizes == [f.size for f in dataset_files(dataset, Scale("full"), "o")]
    assert len(set(sizes)) > 40 and min(sizes) >= 50 * MiB and max(sizes) <= 200 * MiB


def test_every_experiment_scenario_is_small_at_ci_scale() -> None:
    for name in ("atlas", "lsst", "cta", "magic", "data-lake"):
        scenario = load_scenario(SCENARIOS / f"{name}.yaml")
        files = dataset_files(scenario.dataset, parse_scale("ci", scenario.scale), "o")
        assert sum(f.size for f in files) < 100 * MiB, name
        full = dataset_files(scenario.dataset, parse_scale("full", scenario.scale), "o")
        assert sum(f.size for f in full) > 1000 * MiB or name == "data-lake", name


def test_fits_files_start_with_header_blocks_of_cards() -> None:
    content = FileContent(1, "/lsst/x.fits", 4 * MiB, "fits")
    header = content.expected(0, 4 * FITS_BLOCK)
    cards = [header[i : i + 80].decode() for i in range(0, len(header), 80)]
    assert cards[0].startswith("SIMPLE  =") and any(c.startswith("END ") for c in cards)
    assert b"XTENSION= " in content.expected(4 * FITS_BLOCK, FITS_BLOCK)


def test_root_files_have_a_header_and_a_key_list_and_stay_regenerable() -> None:
    content = FileContent(1, "/magic/a b+c.root", 3 * MiB + 5, "root")
    whole = b"".join(content.chunks())
    assert whole[:4] == b"root" and b"StreamerInfo" in whole[-65536:]
    for offset, length in [(0, 200), (3 * MiB - 70000, 80000), (65530, 20)]:
        assert content.expected(offset, length) == whole[offset : offset + length]
    assert content.adler32() != FileContent(1, "/magic/a b+c.root", 3 * MiB + 5).adler32()
