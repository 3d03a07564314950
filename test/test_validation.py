"""Tests for twin_bridge.twin.validation: every rejection class, normalisation and stamp rules."""

import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.twin.validation import (
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
    (joints(vel=(np.inf, np.nan)), RejectReason.NON_FINITE, 'velocities not finite (a)'),
    (joints(pos=()), RejectReason.NO_POSITIONS, '2 names but no positions'),
    (joints(pos=(), vel=(1.0, 2.0)), RejectReason.NO_POSITIONS, 'velocity/effort-only'),
    (joints(names=('a', 'x')), RejectReason.UNKNOWN_JOINT, "['x']"),
    (joints(names=('a', 'a')), RejectReason.DUPLICATE_JOINT, "['a']"),
])
def test_bad_joint_states_are_rejected_with_reason(sample, reason, words):
    verdict = check_joint_state(sample, KNOWN)
    assert not verdict.ok and verdict.sample is None
    assert verdict.reason is reason
    assert words in verdict.detail


def test_ros2_control_nan_fields_nan_velocity_is_zero_and_efforts_are_dropped():
    # joint_state_broadcaster: NaN for every interface a joint lacks
    verdict = check_joint_state(joints(names=('a', 'b', 'c'), pos=(0.1, 0.2, 0.3),
                                       vel=(1.5, np.nan, np.nan),
                                       eff=(np.nan, np.nan, np.inf)), KNOWN)
    assert verdict.ok, verdict.detail
    np.testing.assert_array_equal(verdict.sample.positions, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(verdict.sample.velocities, [1.5, 0.0, 0.0])
    assert verdict.sample.efforts is None
    # a finite effort array is dropped too (never used), a wrong-length one still rejected
    assert check_joint_state(joints(eff=(1.0, 2.0)), KNOWN).sample.efforts is None
    assert check_joint_state(joints(eff=(np.nan,)), KNOWN).reason is RejectReason.LENGTH_MISMATCH
    # NaN positions are never "not reported"
    assert check_joint_state(joints(pos=(np.nan, 0.0), vel=(0.0, 0.0)),
                             KNOWN).reason is RejectReason.NON_FINITE


def test_unknown_joints_can_be_ignored():
    sample = joints(names=('x', 'a', 'y', 'c'), pos=(np.nan, 0.1, 9.0, 0.3),
                    vel=(np.inf, 1.0, 0.0, np.nan))
    assert check_joint_state(sample, KNOWN).reason is RejectReason.UNKNOWN_JOINT
    verdict = check_joint_state(sample, KNOWN, ignore_unknown=True)
    assert verdict.ok, verdict.detail             # values of ignored joints are not checked
    assert verdict.sample.names == ('a', 'c') and verdict.ignored == ('x', 'y')
    np.testing.assert_array_equal(verdict.sample.positions, [0.1, 0.3])
    np.testing.assert_array_equal(verdict.sample.velocities, [1.0, 0.0])
    assert check_joint_state(joints(), KNOWN, ignore_unknown=True).ignored == ()
    # nothing known at all: still a rejection; duplicates are never ignored
    only_unknown = check_joint_state(joints(names=('x', 'y')), KNOWN, ignore_unknown=True)
    assert only_unknown.reason is RejectReason.UNKNOWN_JOINT
    dupes = check_joint_state(joints(names=('x', 'x')), KNOWN, ignore_unknown=True)
    assert dupes.reason is RejectReason.DUPLICATE_JOINT
    bad_known = check_joint_state(joints(names=('x', 'a'), pos=(0.0, np.inf)), KNOWN,
                                  ignore_unknown=True)
    assert bad_known.reason is RejectReason.NON_FINITE and '(a)' in bad_known.detail


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
    assert guard.check(now + 1, now)[0] is None        # an isolated stale sample is forgotten
    guard.accept(now + 1)
    assert guard.check(now - 500, now)[0] is RejectReason.STAMP_BACKWARDS
    with pytest.raises(ValueError):
        StampGuard(-1)
    with pytest.raises(ValueError):
        StampGuard(0, resync_samples=0)


MS = 1_000_000


def test_stamp_guard_follows_a_new_timeline_after_n_increasing_samples():
    guard = StampGuard(max_future_ns=0, resync_samples=10)
    now = 1_000_000_000_000
    guard.accept(now)
    back = now - 30_000 * MS                           # the clock jumped back 30 s
    for i in range(9):
        reason, detail = guard.check(back + i * 20 * MS, now)
        assert reason is RejectReason.STAMP_BACKWARDS, i
        assert f'{i + 1} consecutive increasing samples' in detail
    guard.check(back + 8 * 20 * MS, now)               # a repeated stamp does not count...
    assert guard.check(back + 8 * 20 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    assert guard.check(back + 9 * 20 * MS, now) == (None, '')   # ...the 10th increasing does
    assert guard.last_ns == now and guard.timeline_resets == 0
    assert guard.accept(back + 9 * 20 * MS) == 30_000 * MS - 180 * MS
    assert guard.timeline_resets == 1 and guard.last_ns == back + 180 * MS
    assert guard.check(back + 200 * MS, now)[0] is None         # the new timeline runs on
    assert guard.accept(back + 200 * MS) == 0


def test_stamp_guard_run_is_broken_by_going_back_or_by_the_current_timeline():
    guard = StampGuard(max_future_ns=0, resync_samples=4)
    now = 1_000_000_000_000
    guard.accept(now)
    for stamp in (now - 100 * MS, now - 90 * MS, now - 80 * MS):
        assert guard.check(stamp, now)[0] is RejectReason.STAMP_BACKWARDS
    # a sample older than the run starts a new run (a stuck or replaying source)
    assert guard.check(now - 95 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    assert guard.check(now - 85 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    assert guard.check(now - 84 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    # the current timeline is alive: accepting from it ends the run
    assert guard.check(now + 0, now)[0] is None
    guard.accept(now)
    assert guard.check(now - 83 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    assert 'increasing samples' in guard.check(now - 82 * MS, now)[1]
    assert guard.timeline_resets == 0


def test_stamp_guard_follows_a_slow_new_timeline_after_its_span():
    guard = StampGuard(max_future_ns=0, resync_samples=10, resync_span_ns=1000 * MS)
    now = 1_000_000_000_000
    guard.accept(now)
    back = now - 60_000 * MS
    assert guard.check(back, now)[0] is RejectReason.STAMP_BACKWARDS
    assert guard.check(back + 2000 * MS, now)[0] is RejectReason.STAMP_BACKWARDS  # 2 samples
    assert guard.check(back + 2500 * MS, now)[0] is None        # 3 samples spanning >= 1 s
    assert guard.accept(back + 2500 * MS) > 0


def test_reason_values_are_stable_diagnostic_names():
    assert {r.value for r in RejectReason} >= {
        'empty', 'no_positions', 'length_mismatch', 'non_finite', 'unknown_joint',
        'duplicate_joint', 'zero_quaternion', 'non_unit_quaternion', 'future_stamp',
        'stamp_backwards'}
