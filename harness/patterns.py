"""Access patterns: a file's size and a pattern's parameters become the ``ReadPlan`` of one
operation, and a phase's files are shared among its clients (pure, seeded).

Plans depend on the file's path, never on the client or the phase: an analysis reads the same
branches of a file every time, so a warm phase asks for exactly what its cold phase cached.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import accumulate

from harness.plan import MAX_VECTOR_CHUNKS, Range, ReadPlan
from harness.spec import PatternSpec

ALIGN = 4096  # random reads start on 4 KiB boundaries, as a file system's clients would


def plan_for(spec: PatternSpec, size: int, seed: int, path: str) -> ReadPlan:
    """The plan one client runs on one file; ``spec.kind`` must be filled (``WorkloadSpec.pattern_spec``)."""
    kind = spec.kind or "full"
    rng = random.Random(f"{seed}:{kind}:{path}")
    if kind == "header":
        return ReadPlan("header", ((0, min(spec.header_size, size)),))
    if kind == "scan":
        return ReadPlan("scan", ((0, min(spec.header_size, size)),), stat=True)
    if kind == "random":
        return ReadPlan("random", random_ranges(spec, size, rng))
    if kind == "sparse":
        return ReadPlan("sparse", sparse_ranges(spec, size, rng), vector=True)
    return ReadPlan("full")


def random_ranges(spec: PatternSpec, size: int, rng: random.Random) -> tuple[Range, ...]:
    length = min(spec.read_size, size)
    slots = max(1, (size - length) // ALIGN + 1)
    return tuple((rng.randrange(slots) * ALIGN, length) for _ in range(spec.reads))


def sparse_ranges(spec: PatternSpec, size: int, rng: random.Random) -> tuple[Range, ...]:
    """ROOT-like: header and key list first, then per cluster the baskets of the branches read.

    The branches read form ``groups`` runs of adjacent baskets (related branches sit together),
    chosen once per file; every cluster holds at most ``MAX_VECTOR_CHUNKS`` of them, so a
    cluster is one vector request.
    """
    header = min(spec.header_size, size)
    footer_at = max(header, size - spec.footer_size)
    ranges: list[Range] = [(0, header)] + ([(footer_at, size - footer_at)] if footer_at < size else [])
    baskets = max(1, spec.cluster_size // spec.chunk_size)
    chosen = branch_runs(baskets, spec.fraction, spec.groups, rng)
    for start in range(header, footer_at, spec.cluster_size):
        end = min(start + spec.cluster_size, footer_at)
        ranges += [(start + b * spec.chunk_size, min(spec.chunk_size, end - start - b * spec.chunk_size))
                   for b in chosen if start + b * spec.chunk_size < end]
    return tuple(ranges)


def branch_runs(baskets: int, fraction: float, groups: int, rng: random.Random) -> list[int]:
    """Indices of the baskets read in a cluster of ``baskets``: ``groups`` runs, ≤ 1024 in all."""
    wanted = min(MAX_VECTOR_CHUNKS, baskets, max(1, round(baskets * fraction)))
    groups = min(groups, wanted)
    segment = baskets // groups
    chosen: list[int] = []
    for g in range(groups):
        run = wanted // groups + (1 if g < wanted % groups else 0)
        first = g * segment + rng.randrange(max(1, segment - run + 1))
        chosen += range(first, min(first + run, baskets))
    return chosen


def zipf_picks(sizes: Sequence[int], picks: int, s: float, rng: random.Random) -> list[int]:
    """``picks`` file indices with Zipf popularity (weight 1/rank^s); smaller files rank higher,
    so larger files are re-used less, as caches in production see."""
    order = sorted(range(len(sizes)), key=lambda i: (sizes[i], i))
    weights = list(accumulate(1 / (rank + 1) ** s for rank in range(len(order))))
    return [order[i] for i in (bisect_left(weights, rng.random() * weights[-1]) for _ in range(picks))]


def share(files: int, clients: int) -> list[list[int]]:
    """Every file read once per phase, dealt round-robin to the clients."""
    return [list(range(c, files, clients)) for c in range(clients)]


def covered_bytes(reads: Iterable[tuple[str, int, ReadPlan]]) -> int:
    """Distinct bytes of all (path, size, plan) reads: what a cold cache fetches at least once."""
    by_path: dict[str, tuple[int, list[ReadPlan]]] = {}
    for path, size, plan in reads:
        by_path.setdefault(path, (size, []))[1].append(plan)
    return sum(_union(size, plans) for size, plans in by_path.values())


def _union(size: int, plans: list[ReadPlan]) -> int:
    if any(plan.whole_file for plan in plans):
        return size
    spans = sorted((o, min(o + n, size)) for plan in plans for o, n in plan.ranges if o < size)
    total, reach = 0, 0
    for lo, hi in spans:
        lo = max(lo, reach)
        if hi > lo:
            total, reach = total + hi - lo, hi
    return total
