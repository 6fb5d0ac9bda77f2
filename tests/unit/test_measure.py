from __future__ import annotations

import pytest

from harness.measure import OpRecord, Warmup, as_repetitions, phase_stats, trim_warmup


def op(start: float, duration: float, nbytes: int, ttfb: float | None = 0.01, error: str | None = None) -> OpRecord:
    return OpRecord("p", "c", "root://h:1", "/f", "full", start, 0.001, ttfb, duration, nbytes, 1,
                    error is None, error)


def test_phase_rate_is_bytes_over_wall_time() -> None:
    # Two overlapping reads: 100 + 300 MB between t=0 and t=4 s → 100 MB/s.
    stats = phase_stats("p", [op(0, 2, 100_000_000, 0.002), op(1, 3, 300_000_000, 0.004)])
    assert stats.wall_s == pytest.approx(4)
    assert stats.mb_per_s == pytest.approx(100)
    assert stats.ttfb_median_ms == pytest.approx(3)
    assert stats.op_mb_per_s_median == pytest.approx(75)  # 50 and 100 MB/s


def test_failed_reads_count_as_errors_not_bytes() -> None:
    stats = phase_stats("p", [op(0, 1, 10, error="boom"), op(0, 1, 1_000_000)])
    assert (stats.ops, stats.errors, stats.bytes, stats.verified) == (2, 1, 1_000_000, 1)


def test_empty_phase() -> None:
    stats = phase_stats("p", [])
    assert (stats.mb_per_s, stats.ttfb_median_ms) == (0.0, None)


def rec(start: float, duration: float, nbytes: int, *, site: str = "local", repetition: int = 0,
        error: str | None = None, ttfb: float = 0.001) -> OpRecord:
    return OpRecord("p", "c", "root://h:1", "/f", "full", start, 0.001, ttfb, duration, nbytes, 1,
                    error is None, error, site=site, repetition=repetition)


def test_latency_percentiles_are_per_operation_durations() -> None:
    # Durations 1, 2, 3, 4 s (sequential): p50 = 2.5 s, p90 = 3.7 s, max = 4 s; 4 ops in 10 s.
    ops = [rec(0, 1, 10), rec(1, 2, 10), rec(3, 3, 10), rec(6, 4, 10)]
    stats = phase_stats("p", ops)
    assert (stats.latency_p50_ms, stats.latency_p90_ms, stats.latency_max_ms) == pytest.approx((2500, 3700, 4000))
    assert stats.ops_per_s == pytest.approx(0.4)


def test_repetitions_add_their_wall_times_and_give_the_spread() -> None:
    # Rep 0: 100 MB in 1 s (100 MB/s). Rep 1, an hour later: 100 MB in 4 s (25 MB/s).
    # Merged: 200 MB over 5 s of reading = 40 MB/s; the hour between them is not reading time.
    ops = [rec(0, 1, 100_000_000), rec(3600, 4, 100_000_000, repetition=1)]
    stats = phase_stats("p", ops)
    assert (stats.repetitions, stats.wall_s, stats.mb_per_s) == (2, pytest.approx(5), pytest.approx(40))
    assert stats.mb_per_s_spread == pytest.approx({"n": 2, "min": 25, "median": 62.5, "max": 100})


def test_statistics_per_client_site() -> None:
    # Site a: 100 MB in 1 s; site b, at the same time: 300 MB in 2 s. Together: 400 MB in 2 s.
    stats = phase_stats("p", [rec(0, 1, 100_000_000, site="a"), rec(0, 2, 300_000_000, site="b")])
    assert stats.mb_per_s == pytest.approx(200)
    assert {site: s.mb_per_s for site, s in stats.sites.items()} == pytest.approx({"a": 100, "b": 150})
    assert stats.sites["a"].sites == {}


def test_warmup_first_n_ops_per_repetition() -> None:
    # Each repetition's first op is slow (cold connection); trimming one op per repetition leaves 1 s reads.
    ops = [rec(0, 5, 10_000_000), rec(5, 1, 10_000_000), rec(100, 5, 10_000_000, repetition=1),
           rec(105, 1, 10_000_000, repetition=1)]
    stats = phase_stats("p", ops, Warmup(ops=1))
    assert (stats.ops, stats.trimmed, stats.bytes, stats.wall_s) == (4, 2, 20_000_000, pytest.approx(2))
    assert stats.mb_per_s == pytest.approx(10)


def test_warmup_by_time_never_hides_errors() -> None:
    ops = [rec(0, 1, 10, error="boom"), rec(0.5, 1, 10), rec(2, 1, 1_000_000)]
    stats = phase_stats("p", ops, Warmup(seconds=1.0))
    assert [op.start for op in trim_warmup(ops, Warmup(seconds=1.0))] == [2]
    assert (stats.ops, stats.errors, stats.trimmed, stats.bytes) == (3, 1, 2, 1_000_000)


def test_repeated_runs_merge_as_distinct_repetitions() -> None:
    run_a = [rec(0, 1, 100_000_000)]
    run_b = [rec(50, 2, 100_000_000), rec(60, 2, 100_000_000, repetition=1)]
    merged = as_repetitions([run_a, run_b])
    assert [op.repetition for op in merged] == [0, 1, 2]
    assert phase_stats("p", merged).mb_per_s == pytest.approx(60)  # 300 MB over 1 + 2 + 2 s


def test_negative_warmup_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Warmup(ops=-1)
