"""Tests for drift.scan_match: pose (and range model) recovered by matching against the world."""

from drift_fixtures import SCAN_WORLDS, Twin
import numpy as np
import pytest

from twin_bridge.embedded.beam_caster import BeamHits


@pytest.fixture(scope='module')
def twin():
    return Twin()


@pytest.fixture(scope='module')
def room():
    return Twin(SCAN_WORLDS / 'scan_room.sdf', search_path=[SCAN_WORLDS / 'models'])


POSES = [(0.5, 1.0, 0.3), (-2.0, 0.0, 1.0), (3.5, -1.0, -2.0), (-4.0, 2.0, 2.8)]


@pytest.mark.parametrize('true', POSES)
def test_a_pose_offset_is_recovered_in_the_warehouse(twin, true):
    rng = np.random.default_rng(7)
    true = np.array(true)
    odom = true + np.array([0.05, -0.03, np.radians(2.0)])
    result = twin.matcher().match(twin.angles, twin.scan(true, rng), odom)
    assert result.valid and result.converged
    err = result.pose - true
    assert np.hypot(err[0], err[1]) < 0.005
    assert abs(np.degrees(err[2])) < 0.05
    std = np.sqrt(np.diag(result.covariance))
    assert np.all(std < [0.003, 0.003, np.radians(0.05)])
    assert abs(result.range_bias) < 0.005 and abs(result.range_scale - 1) < 0.002


def test_in_the_analytic_room_and_without_a_range_model(room):
    rng = np.random.default_rng(8)
    true = np.array([0.7, -0.4, 0.4])
    odom = true + np.array([-0.08, 0.06, np.radians(-3.0)])
    result = room.matcher(estimate_range_model=False).match(room.angles, room.scan(true, rng),
                                                           odom)
    assert np.allclose(result.pose[:2], true[:2], atol=0.005)
    assert result.range_bias == 0.0 and result.range_scale == 1.0


def test_at_the_true_pose_one_cast_suffices(twin):
    rng = np.random.default_rng(9)
    true = np.array([0.5, 1.0, 0.3])
    calls = []
    matcher = twin.matcher()
    original = matcher.caster

    class Counting:
        def cast(self, origin, yaw, angles) -> BeamHits:
            calls.append(1)
            return original.cast(origin, yaw, angles)

    matcher.caster = Counting()
    result = matcher.match(twin.angles, twin.scan(true, rng), true)
    assert result.converged and result.iterations == 1 and len(calls) == 1
    assert np.allclose(result.pose[:2], true[:2], atol=0.003)


def test_range_bias_and_scale_are_fitted(twin):
    rng = np.random.default_rng(10)
    true = np.array([-2.0, 0.0, 1.0])
    result = twin.matcher().match(twin.angles, twin.scan(true, rng, bias=0.05, scale=1.02),
                                  true)
    assert result.range_bias == pytest.approx(0.05, abs=0.005)
    assert result.range_scale == pytest.approx(1.02, abs=0.002)
    assert np.allclose(result.pose[:2], true[:2], atol=0.005)


@pytest.mark.parametrize('bias, scale', [(0.03, 1.0), (0.0, 0.99), (0.0, 1.01)])
def test_the_predicted_ranges_include_the_fitted_range_model_once(twin, bias, scale):
    rng = np.random.default_rng(12)
    true = np.array([0.5, 1.0, 0.3])
    ranges = twin.scan(true, rng, bias=bias, scale=scale)
    result = twin.matcher().match(twin.angles, ranges, true)
    both = np.isfinite(ranges) & np.isfinite(result.predicted)
    residual = ranges[both] - result.predicted[both]
    assert abs(np.mean(residual)) < 0.002 and np.std(residual) < 0.012  # the scan's own noise
    assert result.sigma == pytest.approx(0.01, abs=0.002)
    # a re-weighted fit: a robust first step from the unbiased start stops short (~2 mm)
    assert result.range_bias + (result.range_scale - 1) * 5.0 == pytest.approx(bias + (
        scale - 1) * 5.0, abs=0.0015)


def test_a_moved_obstacle_does_not_pull_the_pose(twin):
    rng = np.random.default_rng(11)
    true = np.array([0.0, -2.5, 0.0])
    twin.move_body('box_0::link', 0.0, 0.3)
    try:
        result = twin.matcher().match(twin.angles, twin.scan(true, rng), true)
    finally:
        twin.physical.sync(twin.caster.data.qpos)
    assert np.allclose(result.pose[:2], true[:2], atol=0.005)
    assert abs(np.degrees(result.pose[2] - true[2])) < 0.1


def test_too_few_beams_is_an_invalid_match(twin):
    true = np.array([0.5, 1.0, 0.3])
    ranges = np.full(len(twin.angles), np.inf)
    result = twin.matcher().match(twin.angles, ranges, true)
    assert not result.valid
    np.testing.assert_array_equal(result.pose, true)
    with pytest.raises(ValueError, match='shapes'):
        twin.matcher().match(twin.angles, ranges[:5], true)
