from __future__ import annotations

import random
from collections import Counter
from itertools import pairwise

import pytest

from harness.patterns import branch_runs, covered_bytes, plan_for, share, zipf_picks
from harness.plan import MAX_VECTOR_CHUNKS, ReadPlan
from harness.spec import PatternSpec

MiB = 1024**2


def test_sparse_reads_header_footer_then_few_chunks_per_cluster() -> None:
    spec = PatternSpec(kind="sparse", cluster_size=8 * MiB, chunk_size=16 * 1024, fraction=0.1, groups=2)
    size = 64 * MiB
    plan = plan_for(spec, size, 1, "/a.root")
    assert plan.vector and plan.pattern == "sparse"
    assert plan.ranges[0] == (0, spec.header_size) and plan.ranges[1] == (size - spec.footer_size, spec.footer_size)
    per_cluster = Counter((offset - spec.header_size) // spec.cluster_size for offset, _ in plan.ranges[2:])
    assert len(per_cluster) == 8 and max(per_cluster.values()) == round(512 * 0.1)
    assert 0.05 < plan.bytes_for(size) / size < 0.15


def test_sparse_never_puts_more_than_1024_chunks_in_a_cluster() -> None:
    spec = PatternSpec(kind="sparse", cluster_size=64 * MiB, chunk_size=4096, fraction=1.0, groups=3)
    plan = plan_for(spec, 64 * MiB, 1, "/big.root")
    assert len(plan.ranges) - 2 == MAX_VECTOR_CHUNKS


def test_branch_runs_are_adjacent_baskets_in_groups() -> None:
    chosen = branch_runs(1000, 0.1, 4, random.Random(3))
    assert len(chosen) == 100 == len(set(chosen))
    runs = sum(1 for a, b in pairwise(chosen) if b != a + 1) + 1
    assert runs <= 4 and max(chosen) < 1000


def test_plans_depend_on_the_file_not_the_client() -> None:
    spec = PatternSpec(kind="random", reads=8, read_size=65536)
    assert plan_for(spec, 10 * MiB, 1, "/x") == plan_for(spec, 10 * MiB, 1, "/x")
    assert plan_for(spec, 10 * MiB, 1, "/x") != plan_for(spec, 10 * MiB, 1, "/y")
    assert all(o % 4096 == 0 and o + n <= 10 * MiB for o, n in plan_for(spec, 10 * MiB, 1, "/x").ranges)


@pytest.mark.parametrize(("kind", "ranges", "stat"), [("header", ((0, 8192),), False), ("scan", ((0, 8192),), True),
                                                      ("full", (), False)])
def test_header_scan_full(kind: str, ranges: tuple[tuple[int, int], ...], stat: bool) -> None:
    plan = plan_for(PatternSpec(kind=kind, header_size=8192), MiB, 1, "/f")
    assert (plan.pattern, plan.ranges, plan.stat) == (kind, ranges, stat)
    small = plan_for(PatternSpec(kind=kind, header_size=8192), 100, 1, "/f")
    assert small.bytes_for(100) == 100


def test_zipf_prefers_small_files() -> None:
    picks = Counter(zipf_picks([400, 100, 300, 200], 4000, 1.1, random.Random(1)))
    assert picks[1] > picks[3] > picks[2] > picks[0] > 0


def test_share_reads_every_file_once() -> None:
    assert share(5, 2) == [[0, 2, 4], [1, 3]]
    assert sorted(i for c in share(7, 3) for i in c) == list(range(7))


def test_covered_bytes_counts_each_byte_once() -> None:
    a = ReadPlan("random", ((0, 100), (50, 100)))
    assert covered_bytes([("/a", 1000, a), ("/a", 1000, a), ("/b", 300, ReadPlan())]) == 150 + 300
