"""Tests for learning.sensor_noise: the lidar noise model, its fit, the KS distance."""

import math

import numpy as np
import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.learning.sensor_noise import (
    LidarNoise,
    fit_lidar_noise,
    ks_distance,
    normal_cdf,
)


def test_the_default_model_changes_nothing_and_returns_a_new_array():
    ranges = np.array([1.0, np.inf, -np.inf, np.nan, 2.5], dtype=np.float32)
    out = LidarNoise().apply(ranges, np.random.default_rng(0), 10.0)
    assert out is not ranges and out.dtype == np.float32
    np.testing.assert_array_equal(out, ranges)
    assert LidarNoise().is_zero


def test_from_mapping_names_the_bad_key():
    assert LidarNoise.from_mapping({'range_stddev': 0.02, 'dropout': 0.1}) == \
        LidarNoise(range_stddev=0.02, dropout=0.1)
    with pytest.raises(ConfigError, match='range_stdev'):
        LidarNoise.from_mapping({'range_stdev': 0.02})
    with pytest.raises(ConfigError, match='dropout.*finite'):
        LidarNoise.from_mapping({'dropout': math.nan})
    with pytest.raises(ConfigError, match='noise.yaml: range_stddev.*>= 0'):
        LidarNoise.from_mapping({'range_stddev': -1}, where='noise.yaml')
    with pytest.raises(ConfigError, match='dropout.*<= 1'):
        LidarNoise.from_mapping({'dropout': 1.5})
    with pytest.raises(ConfigError, match='angle_jitter.*number'):
        LidarNoise.from_mapping({'angle_jitter': 'big'})
    with pytest.raises(ConfigError, match='mapping'):
        LidarNoise.from_mapping([0.1])  # type: ignore[arg-type]
    assert LidarNoise.from_mapping({'range_bias': -0.02}).range_bias == -0.02


def test_hits_get_bias_and_noise_and_non_hits_stay():
    rng = np.random.default_rng(1)
    ranges = np.full(20000, 5.0)
    ranges[:10] = np.inf
    ranges[10:20] = -np.inf
    out = LidarNoise(range_stddev=0.05, range_bias=0.1).apply(ranges, rng, 12.0)
    assert np.all(out[:10] == np.inf) and np.all(out[10:20] == -np.inf)
    err = out[20:] - 5.0
    assert err.mean() == pytest.approx(0.1, abs=0.003)
    assert err.std() == pytest.approx(0.05, rel=0.03)


def test_noise_past_the_range_limits_follows_rep117():
    ranges = np.array([11.99] * 1000 + [0.13] * 1000)
    out = LidarNoise(range_stddev=0.05).apply(ranges, np.random.default_rng(2), 12.0,
                                              range_min=0.12)
    far, near = out[:1000], out[1000:]
    assert 0.3 < np.mean(far == np.inf) < 0.7 and np.all((far <= 12.0) | (far == np.inf))
    assert 0.3 < np.mean(near == -np.inf) < 0.7 and np.all((near >= 0.12) | (near == -np.inf))


def test_dropout_rate_and_determinism():
    ranges = np.full(50000, 3.0)
    noise = LidarNoise(dropout=0.2)
    a = noise.apply(ranges, np.random.default_rng(3), 12.0)
    b = noise.apply(ranges, np.random.default_rng(3), 12.0)
    np.testing.assert_array_equal(a, b)
    assert np.mean(a == np.inf) == pytest.approx(0.2, abs=0.01)
    assert np.all(a[np.isfinite(a)] == 3.0)
    every = LidarNoise(dropout=1.0).apply(np.array([np.nan, 1.0, -np.inf]),
                                          np.random.default_rng(0), 12.0)
    assert np.isnan(every[0]) and np.all(every[1:] == np.inf)


def test_angle_jitter_shifts_the_scan_by_a_fraction_of_a_beam():
    inc = 0.01
    ranges = np.linspace(1.0, 2.0, 101)  # a slope: a shift of s beams adds s * 0.01 m
    noise = LidarNoise(angle_jitter=0.003)
    out = noise.apply(ranges, np.random.default_rng(4), 12.0, angle_increment=inc)
    offset = noise.draw_angle_offset(np.random.default_rng(4))
    interior = slice(5, 96)
    np.testing.assert_allclose(out[interior] - ranges[interior], offset / inc * 0.01,
                               atol=1e-12)
    with pytest.raises(ValueError, match='angle_increment'):
        noise.apply(ranges, np.random.default_rng(4), 12.0)
    gap = np.array([1.0, np.inf, 1.0])
    jittered = LidarNoise(angle_jitter=1.0).apply(gap, np.random.default_rng(5), 12.0,
                                                  angle_increment=1.0)
    assert set(jittered.tolist()) <= {1.0, np.inf}  # never a blend of a hit and a miss


def test_ks_distance_against_a_brute_force_reference():
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, 300), rng.normal(0.3, 1, 200)
    grid = np.concatenate([a, b])
    brute = max(abs(np.mean(a <= x) - np.mean(b <= x)) for x in grid)
    assert ks_distance(a, b) == pytest.approx(brute)
    assert ks_distance(a, a) == 0.0
    with pytest.raises(ValueError):
        ks_distance(a, [np.inf])
    assert normal_cdf(np.array([0.0, 1.0]))[1] == pytest.approx(0.8413447, abs=1e-6)


def test_a_gaussian_fits_gaussian_residuals():
    res = np.random.default_rng(7).normal(0.02, 0.03, 5000)
    fit = fit_lidar_noise(np.concatenate([res, [np.nan] * 10]), dropouts=50)
    assert fit.outlier_fraction == 0.0
    assert fit.range_bias == pytest.approx(0.02, abs=0.002)
    assert fit.range_stddev == pytest.approx(0.03, rel=0.05)
    assert fit.dropout == pytest.approx(50 / 5050)


def test_heavy_tails_get_a_mixture_that_a_gaussian_cannot_match():
    rng = np.random.default_rng(8)
    truth = LidarNoise(range_stddev=0.01, outlier_fraction=0.15, outlier_stddev=0.2)
    res = truth.sample_residuals(8000, rng)
    fit = fit_lidar_noise(res)
    assert fit.outlier_fraction == pytest.approx(0.15, abs=0.03)
    assert fit.outlier_stddev == pytest.approx(0.2, rel=0.1)
    drawn = fit.sample_residuals(8000, np.random.default_rng(9))
    gauss = np.random.default_rng(9).normal(res.mean(), res.std(), 8000)
    assert ks_distance(drawn, res) <= 0.05 < ks_distance(gauss, res)


def test_too_few_residuals_is_a_clear_error():
    with pytest.raises(ValueError, match='at least 50'):
        fit_lidar_noise(np.zeros(10))
    with pytest.raises(ValueError, match='infinite'):
        fit_lidar_noise(np.array([np.inf] * 100))
