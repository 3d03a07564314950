"""Tests for drift.residuals: beam verdicts under REP-117, the robust scale."""

import numpy as np
import pytest

from twin_bridge.twin.drift.residuals import compare_beams, robust_scale

INF = np.inf


def test_verdicts_per_beam():
    phys = np.array([1.00, 1.00, 2.0, INF, 3.0, INF, -INF, np.nan, INF, 5.0])
    virt = np.array([1.02, 1.50, 1.0, 4.0, INF, INF, 2.0, 1.0, 11.98, 5.0])
    c = compare_beams(phys, virt, 0.05, 0.12, 12.0)
    np.testing.assert_array_equal(c.agree, [1, 0, 0, 0, 0, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(c.new, [0, 1, 0, 0, 1, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(c.gone, [0, 0, 1, 1, 0, 0, 0, 0, 0, 0])
    # NaN, and a virtual return so close to range_max that noise may hide it, are undecided
    np.testing.assert_array_equal(c.unknown, [0, 0, 0, 0, 0, 0, 0, 1, 1, 0])
    assert c.residuals[0] == pytest.approx(-0.02)
    assert np.isnan(c.residuals[3])
    assert c.disagree_fraction == pytest.approx(5 / 8)


def test_virtual_ranges_are_clamped_like_rep117():
    c = compare_beams(np.array([INF, -INF]), np.array([13.0, 0.05]), 0.05, 0.12, 12.0)
    assert c.agree.all()


def test_per_beam_tolerance_and_shape_check():
    c = compare_beams(np.array([1.0, 1.0]), np.array([1.1, 1.1]), np.array([0.2, 0.05]),
                      0.1, 10.0)
    np.testing.assert_array_equal(c.agree, [True, False])
    with pytest.raises(ValueError, match='shapes'):
        compare_beams(np.zeros(3), np.zeros(4), 0.1, 0.1, 10.0)


def test_robust_scale_ignores_outliers():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 0.01, 2000)
    x[:100] = 5.0
    assert robust_scale(x) == pytest.approx(0.01, rel=0.15)
    assert robust_scale(np.array([])) == 0.0
