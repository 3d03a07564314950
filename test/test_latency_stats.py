"""Tests for twin_bridge.twin.latency_stats: rolling window, rate and percentiles vs numpy."""

import math

import numpy as np
import pytest

from twin_bridge.twin.latency_stats import LatencyStats, summarize


def test_empty_summary_is_nan_with_zero_rate():
    summary = LatencyStats().summary()
    assert summary.count == 0 and summary.window_count == 0
    assert summary.rate_hz == 0.0
    assert math.isnan(summary.p99) and math.isnan(summary.min)


def test_percentiles_match_numpy_on_random_data():
    rng = np.random.default_rng(3)
    lat = rng.exponential(0.002, size=500)
    stats = LatencyStats(capacity=1000, window_s=None)
    for i, value in enumerate(lat):
        stats.add(value, i * 0.01)
    s = stats.summary()
    assert s.count == s.window_count == 500
    assert s.p50 == pytest.approx(np.percentile(lat, 50))
    assert s.p95 == pytest.approx(np.percentile(lat, 95))
    assert s.p99 == pytest.approx(np.percentile(lat, 99))
    assert s.min == lat.min() and s.max == lat.max()
    assert s.mean == pytest.approx(lat.mean())
    assert s.rate_hz == pytest.approx(100.0)


def test_ring_buffer_keeps_only_last_capacity_samples_in_order():
    stats = LatencyStats(capacity=10, window_s=None)
    for i in range(25):
        stats.add(float(i), float(i))
    lat, times = stats.window()
    np.testing.assert_array_equal(lat, np.arange(15, 25, dtype=float))
    np.testing.assert_array_equal(times, np.arange(15, 25, dtype=float))
    s = stats.summary()
    assert s.count == 25 and s.window_count == 10
    assert s.min == 15.0 and s.max == 24.0


def test_time_window_drops_old_samples_and_rate_decays_to_zero():
    stats = LatencyStats(capacity=1000, window_s=2.0)
    for i in range(100):          # 50 Hz for 2 s, latency 1 ms then 5 ms
        stats.add(0.001 if i < 50 else 0.005, i * 0.02)
    s = stats.summary(now_s=1.98)
    assert s.rate_hz == pytest.approx(50.0)
    later = stats.summary(now_s=2.99)   # only samples from t >= 0.99 s (the 5 ms ones) remain
    assert later.window_count == 50 and later.min == 0.005
    assert stats.summary(now_s=10.0).window_count == 0
    assert stats.summary(now_s=10.0).rate_hz == 0.0
    assert stats.summary(now_s=10.0).count == 100


def test_clear_and_bad_arguments():
    stats = LatencyStats(capacity=4)
    stats.add(1.0, 0.0)
    stats.clear()
    assert stats.count == 0 and stats.summary().window_count == 0
    with pytest.raises(ValueError, match='capacity'):
        LatencyStats(capacity=0)
    with pytest.raises(ValueError, match='window_s'):
        LatencyStats(window_s=0.0)


def test_nan_latency_counts_for_rate_but_not_for_percentiles():
    stats = LatencyStats(window_s=None)
    for i in range(10):
        stats.add(0.004 if i % 2 else math.nan, i * 0.1)
    s = stats.summary()
    assert s.window_count == 10 and s.rate_hz == pytest.approx(10.0)
    assert s.min == s.max == s.p99 == 0.004
    only_nan = LatencyStats()
    only_nan.add(math.nan, 0.0)
    only_nan.add(math.nan, 0.5)
    s = only_nan.summary()
    assert s.rate_hz == pytest.approx(2.0) and math.isnan(s.p50)


def test_summarize_matches_the_stats_summary_of_the_same_samples():
    stats = LatencyStats(capacity=100, window_s=None)
    rng = np.random.default_rng(3)
    for i, latency in enumerate(rng.uniform(0.001, 0.02, 50)):
        stats.add(latency, 10.0 + 0.01 * i)
    stats.add(float('nan'), 10.5)  # counted for the rate only
    lat, times = stats.window()
    assert summarize(lat, times, stats.count) == stats.summary()
    part = summarize(lat[10:20], times[10:20])
    assert (part.count, part.window_count) == (10, 10)
    assert part.rate_hz == pytest.approx(100.0)
    assert part.p50 == pytest.approx(float(np.median(lat[10:20])))
    empty = summarize(np.zeros(0), np.zeros(0))
    assert (empty.count, empty.rate_hz) == (0, 0.0) and np.isnan(empty.p50)
