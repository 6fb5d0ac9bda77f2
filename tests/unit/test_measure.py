from __future__ import annotations

import pytest

from harness.measure import OpRecord, phase_stats


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
