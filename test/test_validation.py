"""Tests for twin_bridge.twin.validation: every rejection class, normalisation and stamp rules."""

import math

import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.twin.validation import (
    JointStateCheck,
    RejectReason,
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


def test_reason_values_are_stable_diagnostic_names():
    assert {r.value for r in RejectReason} >= {
        'empty', 'no_positions', 'length_mismatch', 'non_finite', 'unknown_joint',
        'duplicate_joint', 'zero_quaternion', 'non_unit_quaternion', 'future_stamp',
        'stamp_backwards', 'negative_stamp', 'out_of_range', 'moving_child_frame'}


# -- magnitudes, quoting, the cached fast path (issue 8) ---------------------------------------

@pytest.mark.parametrize('sample, words', [
    (odom(pos=(1e100, 0, 0)), 'position out of range (x: |value| > 1e+06)'),
    (odom(pos=(0, 0, 2e154)), 'position out of range (z'),
    (odom(pos=(0, -1.5e6, 0)), 'position out of range (y'),
    (odom(lin=(0, 0, 1e7)), 'linear_velocity out of range (z'),
    (odom(ang=(1e300, 1e300, 0)), 'angular_velocity out of range (x, y'),
])
def test_odometry_beyond_the_magnitude_bound_is_out_of_range(sample, words):
    verdict = check_odometry(sample)
    assert verdict.reason is RejectReason.OUT_OF_RANGE and words in verdict.detail
    assert check_odometry(odom(pos=(1e6, -1e6, 0.0), lin=(1e6, 0, 0))).ok  # the bound itself
    assert check_odometry(odom(pos=(5.0, 0, 0)), max_magnitude=1.0).reason is (
        RejectReason.OUT_OF_RANGE)


def test_joint_values_beyond_their_bounds_are_out_of_range():
    # positions get more room: continuous wheel joints accumulate their angle
    assert check_joint_state(joints(pos=(5e8, -5e8)), KNOWN).ok
    far = check_joint_state(joints(pos=(0.0, 2e9)), KNOWN)
    assert far.reason is RejectReason.OUT_OF_RANGE and 'positions out of range (b' in far.detail
    fast = check_joint_state(joints(vel=(2e6, np.nan)), KNOWN)
    assert fast.reason is RejectReason.OUT_OF_RANGE and '(a: |value| > 1e+06)' in fast.detail
    assert check_joint_state(joints(pos=(1e200, 0.0)), KNOWN).reason is RejectReason.OUT_OF_RANGE
    assert check_joint_state(joints(pos=(np.inf, 0.0)), KNOWN).reason is RejectReason.NON_FINITE


def test_rejection_texts_quote_few_and_shortened_names():
    huge = 'n' * 1_000_000
    verdict = check_joint_state(joints(names=('a', huge)), KNOWN)
    assert verdict.reason is RejectReason.UNKNOWN_JOINT
    assert len(verdict.detail) < 300 and '…(1000000 chars)' in verdict.detail
    many = tuple(f'x{i}' for i in range(50)) + (huge,)
    verdict = check_joint_state(joints(names=many, pos=np.zeros(51)), KNOWN)
    assert len(verdict.detail) < 300 and 'and 46 more' in verdict.detail
    verdict = check_joint_state(joints(names=(huge, huge)), KNOWN)
    assert verdict.reason is RejectReason.DUPLICATE_JOINT and len(verdict.detail) < 300
    verdict = check_joint_state(JointStateSample(('a', huge), np.array([0.0, np.nan])),
                                frozenset({'a', huge}))
    assert verdict.reason is RejectReason.NON_FINITE and len(verdict.detail) < 300


def test_good_samples_pass_through_without_copies():
    sample = joints()
    assert check_joint_state(sample, KNOWN).sample is sample
    pose = odom()
    assert check_odometry(pose).sample is pose        # exactly unit: kept bit for bit
    q = np.array([0.0, 0.0, np.sin(0.3), np.cos(0.3)]) * (1 + 1e-12)
    normalised = check_odometry(odom(quat=q)).sample.orientation
    assert np.array_equal(normalised, q / math.hypot(*q))   # divided once by its norm


def test_cached_name_resolution_matches_the_uncached_reference():
    """JointStateCheck remembers name tuples: every verdict equals a fresh check's."""
    rng = np.random.default_rng(4)
    for ignore in (False, True):
        check = JointStateCheck(KNOWN, ignore_unknown=ignore, cache_size=3)
        pool = [('a', 'b'), ('c',), ('a', 'x'), ('b', 'a', 'c'), ('x', 'y'), ('a', 'a')]
        for _ in range(200):
            names = pool[rng.integers(len(pool))]
            pos = rng.choice([0.5, -1.0, np.nan, 1e10], size=len(names), p=[.6, .3, .05, .05])
            sample = joints(names=names, pos=pos, vel=rng.normal(size=len(names)))
            got = check(sample)
            want = check_joint_state(sample, KNOWN, ignore_unknown=ignore)
            assert (got.reason, got.detail, got.ignored) == (want.reason, want.detail,
                                                             want.ignored)
            if want.ok:
                assert got.sample.names == want.sample.names
                np.testing.assert_array_equal(got.sample.positions, want.sample.positions)
                np.testing.assert_array_equal(got.sample.velocities, want.sample.velocities)
        assert len(check._cache) <= 3
