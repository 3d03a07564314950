"""Tests for twin_bridge.validation: every rejection class, normalisation and stamp rules."""

import numpy as np
import pytest

from twin_bridge.state import JointStateSample, OdometrySample
from twin_bridge.validation import (
    RejectReason,
    StampGuard,
    check_joint_state,
    check_odometry,
)

KNOWN = frozenset({'a', 'b', 'c'})


def joints(names=('a', 'b'), pos=(0.1, 0.2), vel=None, eff=None):
    return JointStateSample(tuple(names), np.asarray(pos, dtype=float),
                            None if vel is None else np.asarray(vel, dtype=float),
                            None if eff is None else np.asarray(eff, dtype=float), stamp_ns=5)


def odom(pos=(1.0, 2.0, 0.0), quat=(0.0, 0.0, 0.0, 1.0), lin=(0.0, 0.0, 0.0), ang=(0, 0, 0)):
    return OdometrySample(np.asarray(pos, float), np.asarray(quat, float),
                          np.asarray(lin, float), np.asarray(ang, float), stamp_ns=7)


def test_good_joint_state_is_accepted_unchanged():
    verdict = check_joint_state(joints(vel=(1.0, 2.0), eff=()), KNOWN)
    assert verdict.ok and verdict.reason is None
    np.testing.assert_array_equal(verdict.sample.positions, [0.1, 0.2])
    np.testing.assert_array_equal(verdict.sample.velocities, [1.0, 2.0])
    assert verdict.sample.efforts is None         # empty array means "not given"
    assert verdict.sample.stamp_ns == 5 and verdict.sample.names == ('a', 'b')


@pytest.mark.parametrize('sample, reason, words', [
    (joints(names=(), pos=()), RejectReason.EMPTY, 'no joint names'),
    (joints(pos=(0.1,)), RejectReason.LENGTH_MISMATCH, '2 names but 1 positions'),
    (joints(vel=(1.0, 2.0, 3.0)), RejectReason.LENGTH_MISMATCH, '3 velocities'),
    (joints(eff=(1.0,)), RejectReason.LENGTH_MISMATCH, '1 efforts'),
    (joints(pos=(0.1, np.nan)), RejectReason.NON_FINITE, 'positions not finite (b)'),
    (joints(pos=(np.inf, 0.0)), RejectReason.NON_FINITE, 'positions not finite (a)'),
    (joints(vel=(0.0, -np.inf)), RejectReason.NON_FINITE, 'velocities not finite (b)'),
    (joints(eff=(np.nan, 0.0)), RejectReason.NON_FINITE, 'efforts not finite (a)'),
    (joints(names=('a', 'x')), RejectReason.UNKNOWN_JOINT, "['x']"),
    (joints(names=('a', 'a')), RejectReason.DUPLICATE_JOINT, "['a']"),
])
def test_bad_joint_states_are_rejected_with_reason(sample, reason, words):
    verdict = check_joint_state(sample, KNOWN)
    assert not verdict.ok and verdict.sample is None
    assert verdict.reason is reason
    assert words in verdict.detail


def test_good_odometry_accepted_and_nearly_unit_quaternion_normalised():
    q = np.array([0.0, 0.0, np.sin(0.3), np.cos(0.3)]) * (1 + 5e-4)
    verdict = check_odometry(odom(quat=q))
    assert verdict.ok
    assert np.linalg.norm(verdict.sample.orientation) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(verdict.sample.orientation, q / np.linalg.norm(q))
    np.testing.assert_array_equal(verdict.sample.position, [1.0, 2.0, 0.0])
    assert verdict.sample.stamp_ns == 7


@pytest.mark.parametrize('sample, reason, words', [
    (odom(pos=(np.nan, 0, 0)), RejectReason.NON_FINITE, 'position not finite (x)'),
    (odom(quat=(0, 0, np.inf, 1)), RejectReason.NON_FINITE, 'orientation not finite (z)'),
    (odom(lin=(0, np.nan, 0)), RejectReason.NON_FINITE, 'linear_velocity not finite (y)'),
    (odom(ang=(0, 0, np.inf)), RejectReason.NON_FINITE, 'angular_velocity not finite (z)'),
    (odom(quat=(0, 0, 0, 0)), RejectReason.ZERO_QUATERNION, 'zero'),
    (odom(quat=(0, 0, 0, 1.01)), RejectReason.NON_UNIT_QUATERNION, 'norm 1.01'),
    (odom(quat=(0.5, 0.5, 0.5, 0.0)), RejectReason.NON_UNIT_QUATERNION, 'not 1'),
    (odom(pos=(1.0, 2.0)), RejectReason.LENGTH_MISMATCH, 'position has 2 values'),
])
def test_bad_odometry_is_rejected_with_reason(sample, reason, words):
    verdict = check_odometry(sample)
    assert not verdict.ok and verdict.reason is reason
    assert words in verdict.detail


def test_quaternion_tolerance_is_configurable():
    assert not check_odometry(odom(quat=(0, 0, 0, 1.005))).ok
    assert check_odometry(odom(quat=(0, 0, 0, 1.005)), quaternion_tolerance=0.01).ok


def test_stamp_guard_future_and_backwards():
    guard = StampGuard(max_future_ns=500_000_000)
    now = 1_000_000_000_000
    assert guard.check(now + 400_000_000, now) == (None, '')
    reason, detail = guard.check(now + 600_000_000, now)
    assert reason is RejectReason.FUTURE_STAMP and '0.600 s in the future' in detail
    guard.accept(now)
    assert guard.check(now, now)[0] is None            # equal stamps are fine
    reason, detail = guard.check(now - 1_000_000, now)
    assert reason is RejectReason.STAMP_BACKWARDS and '0.001000 s' in detail
    assert guard.last_ns == now                        # a check never moves the guard
    with pytest.raises(ValueError):
        StampGuard(-1)


def test_reason_values_are_stable_diagnostic_names():
    assert {r.value for r in RejectReason} >= {
        'empty', 'length_mismatch', 'non_finite', 'unknown_joint', 'duplicate_joint',
        'zero_quaternion', 'non_unit_quaternion', 'future_stamp', 'stamp_backwards'}
