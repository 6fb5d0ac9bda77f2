"""Statistics against values computed by hand (type-7 percentiles: rank h = (n - 1) * p / 100)."""

from __future__ import annotations

import pytest

from harness.stats import Spread, distribution, percentile


def test_percentiles_interpolate_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # sorted: 1 2 3 4
    assert percentile(values, 50) == pytest.approx(2.5)  # h = 1.5 → 2 + 0.5 * (3 - 2)
    assert percentile(values, 90) == pytest.approx(3.7)  # h = 2.7 → 3 + 0.7 * (4 - 3)
    assert percentile(values, 99) == pytest.approx(3.97)  # h = 2.97
    assert (percentile(values, 0), percentile(values, 100)) == (1.0, 4.0)


def test_percentile_of_ten_values() -> None:
    values = [float(v) for v in range(10, 110, 10)]  # 10 … 100
    assert percentile(values, 90) == pytest.approx(91.0)  # h = 8.1 → 90 + 0.1 * 10
    assert percentile(values, 99) == pytest.approx(99.1)  # h = 8.91 → 90 + 0.91 * 10


def test_one_value_and_none() -> None:
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_distribution_names_its_figures() -> None:
    assert distribution([1.0, 2.0, 3.0, 4.0]) == pytest.approx(
        {"p50_ms": 2.5, "p90_ms": 3.7, "p99_ms": 3.97, "max_ms": 4.0})
    assert distribution([]) == {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}


def test_spread_is_min_median_max() -> None:
    assert Spread.of([300.0, 100.0, 250.0, 200.0]) == Spread(4, 100.0, 225.0, 300.0)
    assert Spread.of([]) is None
