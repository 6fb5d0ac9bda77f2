"""Pure tests of the link-shaping logic: token bucket, delay line, buffer sizing."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.links import shaping
from harness.links.shaping import (
    DelayLine,
    TokenBucket,
    buffer_limit_bytes,
    mbit_to_bytes_per_s,
    piece_size,
    queue_limit_bytes,
    socket_buffer_bytes,
)


def test_docstring_examples() -> None:
    assert doctest.testmod(shaping).failed == 0


def test_mbit_is_decimal_like_tc() -> None:
    assert mbit_to_bytes_per_s(100) == 12_500_000
    assert mbit_to_bytes_per_s(1) == 125_000


# --- TokenBucket -------------------------------------------------------------------


def test_burst_leaves_at_once_then_rate_applies() -> None:
    b = TokenBucket(rate_bytes_per_s=1000, burst_bytes=100, now=10.0)
    assert b.reserve(100, 10.0) == 10.0
    assert b.reserve(1000, 10.0) == pytest.approx(11.0)
    assert b.reserve(500, 10.0) == pytest.approx(11.5)


def test_debt_is_paid_back_over_time() -> None:
    b = TokenBucket(1000, burst_bytes=0, now=0.0)
    assert b.reserve(1000, 0.0) == pytest.approx(1.0)
    # Half a second later half the debt is paid: 500 more bytes leave at 1.5 s.
    assert b.reserve(500, 0.5) == pytest.approx(1.5)


def test_idle_refill_is_capped_at_burst() -> None:
    b = TokenBucket(1000, burst_bytes=200, now=0.0)
    b.reserve(200, 0.0)
    # A long idle period refills only up to the burst, not 100 s worth of tokens.
    assert b.reserve(200, 100.0) == 100.0
    assert b.reserve(100, 100.0) == pytest.approx(100.1)


def test_backlog_and_when_it_drains() -> None:
    b = TokenBucket(1000, burst_bytes=0, now=0.0)
    b.reserve(2000, 0.0)
    assert b.backlog(0.0) == pytest.approx(2000)
    assert b.backlog(0.5) == pytest.approx(1500)
    assert b.backlog(5.0) == 0.0
    assert b.when_backlog_at_most(500, 0.0) == pytest.approx(1.5)
    assert b.when_backlog_at_most(5000, 0.2) == 0.2  # already below: now


def test_bucket_shared_by_two_users_splits_the_rate() -> None:
    b = TokenBucket(1000, burst_bytes=0, now=0.0)
    times = [b.reserve(100, 0.0) for _ in range(10)]  # two connections interleaving
    assert times[-1] == pytest.approx(1.0)  # 1000 bytes in total, whoever sent them


def test_default_burst_is_two_ms_or_16k() -> None:
    assert TokenBucket(1000).burst == 16 * 1024
    assert TokenBucket(mbit_to_bytes_per_s(1000)).burst == pytest.approx(250_000)


@pytest.mark.parametrize("rate", [0, -1])
def test_bucket_rejects_non_positive_rate(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate)


def test_bucket_rejects_negative_sizes() -> None:
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1000, burst_bytes=-1)
    with pytest.raises(ValueError, match="nbytes"):
        TokenBucket(1000).reserve(-1, 0.0)


@given(
    rate=st.floats(min_value=1e3, max_value=1e9),
    burst=st.floats(min_value=0, max_value=1e6),
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=0.1), st.integers(min_value=0, max_value=300_000)),
        min_size=1,
        max_size=60,
    ),
)
def test_bucket_never_exceeds_rate_plus_burst(rate: float, burst: float, steps: list[tuple[float, int]]) -> None:
    b = TokenBucket(rate, burst_bytes=burst, now=0.0)
    now, sent, last_departure = 0.0, 0, 0.0
    for gap, nbytes in steps:
        now += gap
        departure = b.reserve(nbytes, now)
        sent += nbytes
        assert departure >= now
        assert departure >= last_departure - 1e-9  # departures never go backwards
        # Everything reserved so far has left by `departure`, and no faster than the rate.
        assert sent <= burst + rate * departure + 1e-6 * max(1.0, sent)
        last_departure = departure


# --- DelayLine -----------------------------------------------------------------------


def test_delay_line_releases_after_the_delay_in_order() -> None:
    line: DelayLine[str] = DelayLine(0.010)
    assert line.push("a", 3, departed_at=1.000) == pytest.approx(1.010)
    assert line.push("b", 4, departed_at=1.002) == pytest.approx(1.012)
    assert line.queued_bytes == 7 and len(line) == 2
    assert line.next_due() == pytest.approx(1.010)
    assert line.pop_due(1.005) == []
    assert line.pop_due(1.011) == ["a"]
    assert line.queued_bytes == 4
    assert line.pop_due(2.0) == ["b"]
    assert line.next_due() is None and line.queued_bytes == 0


def test_delay_line_never_reorders() -> None:
    line: DelayLine[int] = DelayLine(0.010)
    line.push(1, 1, departed_at=5.0)
    # An earlier departure (e.g. unshaped EOF after shaped data) still leaves after item 1.
    assert line.push(2, 1, departed_at=4.0) == pytest.approx(5.010)
    assert line.pop_due(5.010) == [1, 2]


def test_zero_delay_and_clear() -> None:
    line: DelayLine[bytes] = DelayLine(0.0)
    assert line.push(b"x", 1, departed_at=3.0) == 3.0
    line.clear()
    assert len(line) == 0 and line.queued_bytes == 0 and line.pop_due(10.0) == []


def test_delay_line_rejects_negative_delay() -> None:
    with pytest.raises(ValueError, match="delay"):
        DelayLine(-0.001)


@given(st.lists(st.tuples(st.floats(min_value=0, max_value=100), st.integers(0, 10_000)), max_size=50))
def test_delay_line_is_fifo_with_monotonic_releases(pushes: list[tuple[float, int]]) -> None:
    line: DelayLine[int] = DelayLine(0.015)
    releases = [line.push(i, size, t) for i, (t, size) in enumerate(pushes)]
    assert releases == sorted(releases)
    assert line.queued_bytes == sum(size for _, size in pushes)
    assert line.pop_due(1e9) == list(range(len(pushes)))


# --- sizing --------------------------------------------------------------------------


def test_piece_size_is_about_two_ms_within_bounds() -> None:
    assert piece_size(None) == 256 * 1024
    assert piece_size(mbit_to_bytes_per_s(10)) == 8 * 1024
    assert piece_size(mbit_to_bytes_per_s(100)) == 25_000
    assert piece_size(mbit_to_bytes_per_s(10_000)) == 256 * 1024


def test_queue_limit_is_about_five_ms() -> None:
    assert queue_limit_bytes(mbit_to_bytes_per_s(100)) == 62_500
    assert queue_limit_bytes(mbit_to_bytes_per_s(10)) == 2 * 8 * 1024


def test_buffer_limit_covers_a_round_trip_plus_margin() -> None:
    rate = mbit_to_bytes_per_s(100)
    assert buffer_limit_bytes(rate, 0.030) == int(rate * 0.030 + shaping.MIN_MARGIN_BYTES)
    gbit = mbit_to_bytes_per_s(10_000)
    assert buffer_limit_bytes(gbit, 0.030) == int(gbit * 0.040)
    assert buffer_limit_bytes(None, 0.030) == 64 * 1024 * 1024


def test_socket_buffer() -> None:
    assert socket_buffer_bytes(None) == 0
    assert socket_buffer_bytes(mbit_to_bytes_per_s(10)) == 64 * 1024
    assert socket_buffer_bytes(mbit_to_bytes_per_s(1000)) == 1_000_000
