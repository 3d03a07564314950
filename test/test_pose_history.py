"""Tests for pose_history: interpolation, bounds, ordering, bad input."""

import math

import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import quat_from_rpy, yaw_from_quat
from twin_bridge.errors import TwinBridgeError
from twin_bridge.twin.pose_history import PoseHistory, slerp

S = 1_000_000_000


def test_interpolates_position_linearly_and_yaw_along_the_short_arc():
    h = PoseHistory()
    assert h.add(1 * S, np.array([0.0, 0.0, 0.0]), quat_from_rpy(0, 0, 3.0))
    assert h.add(2 * S, np.array([1.0, 2.0, 0.0]), quat_from_rpy(0, 0, -3.0))
    x, y, yaw = h.planar_at(1 * S + S // 4)
    assert (x, y) == pytest.approx((0.25, 0.5))
    # 3.0 -> -3.0 the short way is through pi (0.283 rad total), a quarter of it: 3.0708
    assert yaw == pytest.approx(3.0 + 0.25 * (2 * math.pi - 6.0), abs=1e-9)
    np.testing.assert_allclose(h.planar_at(2 * S), [1.0, 2.0, -3.0], atol=1e-12)


def test_slerp_matches_a_plain_yaw_reference():
    for a, b, t in [(0.1, 0.9, 0.3), (-1.0, 2.0, 0.75), (2.5, -2.5, 0.5)]:
        q = slerp(quat_from_rpy(0, 0, a), quat_from_rpy(0, 0, b), t)
        d = math.atan2(math.sin(b - a), math.cos(b - a))
        expected = a + t * d
        got = yaw_from_quat(q)
        assert math.atan2(math.sin(got - expected), math.cos(got - expected)) == pytest.approx(
            0.0, abs=1e-9)
        assert np.linalg.norm(q) == pytest.approx(1.0)


def test_outside_the_history_or_across_a_gap_is_none():
    h = PoseHistory(max_gap_ns=S)
    assert h.planar_at(5) is None
    h.add(1 * S, np.zeros(3), quat_from_rpy(0, 0, 0))
    h.add(2 * S, np.ones(3), quat_from_rpy(0, 0, 0))
    h.add(4 * S, np.ones(3), quat_from_rpy(0, 0, 0))
    assert h.at(S - 1) is None
    assert h.at(4 * S + 1) is None
    assert h.at(3 * S) is None  # 2 s gap > max_gap
    assert h.at(int(1.5 * S)) is not None


def test_memory_is_bounded_and_old_poses_are_dropped():
    h = PoseHistory(capacity=4)
    for i in range(10):
        h.add(i * S, np.array([float(i), 0, 0]), quat_from_rpy(0, 0, 0))
    assert len(h) == 4
    assert h.span == (6 * S, 9 * S)
    assert h.planar_at(5 * S) is None
    assert h.planar_at(int(7.5 * S))[0] == pytest.approx(7.5)


def test_stamps_must_increase():
    h = PoseHistory()
    assert h.add(2 * S, np.zeros(3), quat_from_rpy(0, 0, 0))
    assert not h.add(2 * S, np.ones(3), quat_from_rpy(0, 0, 0))
    assert not h.add(S, np.ones(3), quat_from_rpy(0, 0, 0))
    assert len(h) == 1
    h.clear()
    assert h.add(S, np.ones(3), quat_from_rpy(0, 0, 0))


def test_odometry_samples_and_bad_input():
    h = PoseHistory()
    sample = OdometrySample(position=np.array([1.0, 2.0, 0.0]),
                            orientation=np.array([0.0, 0.0, 0.0, 2.0]), stamp_ns=S)
    assert h.add_odometry(sample)
    np.testing.assert_allclose(h.at(S)[1], [0, 0, 0, 1])  # normalised
    with pytest.raises(TwinBridgeError, match='zero quaternion'):
        h.add(2 * S, np.zeros(3), np.zeros(4))
    with pytest.raises(TwinBridgeError, match='not finite'):
        h.add(2 * S, np.array([np.nan, 0, 0]), quat_from_rpy(0, 0, 0))
    with pytest.raises(TwinBridgeError, match='expected'):
        h.add(2 * S, np.zeros(2), quat_from_rpy(0, 0, 0))
    with pytest.raises(TwinBridgeError, match='capacity'):
        PoseHistory(capacity=1)
