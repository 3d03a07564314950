"""Tests for drift.wheel_odometry on synthetic drives: slip detected, estimated; none raised."""

import math

import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_from_rpy
from twin_bridge.stand_in.faults import transform_pose
from twin_bridge.twin.drift.wheel_odometry import DiffDriveGeometry, WheelSlipDetector

GEOMETRY = DiffDriveGeometry('left_wheel_joint', 'right_wheel_joint', 0.06, 0.32)
NAMES = ('pan_joint', 'left_wheel_joint', 'right_wheel_joint')


def drive(detector, *, slip=0.0, seconds=3.0, slip_from=0.0, seed=0, speed=0.3, turn=0.4,
          odom_jump=None, jump_at=1.0):
    """Drive an arc; odometry at 50 Hz, joint states at 40 Hz (other stamps). Returns the
    time of the first alarm after ``slip_from`` (or None). ``odom_jump`` ``(dx, dy, dyaw)``:
    from ``jump_at`` on the odometry is off by that rigid motion (a pose fault, wheels true)."""
    rng = np.random.default_rng(seed)
    x = y = yaw = 0.0
    left = right = 0.0
    dt = 0.001
    first = None
    pivot = None
    for k in range(int(seconds / dt)):
        t = k * dt
        v, w = speed, turn * math.sin(t)
        x += v * math.cos(yaw) * dt
        y += v * math.sin(yaw) * dt
        yaw += w * dt
        gain = 1.0 + (slip if t >= slip_from else 0.0)
        r, sep = GEOMETRY.wheel_radius, GEOMETRY.wheel_separation
        left += gain * (v - w * sep / 2) / r * dt
        right += gain * (v + w * sep / 2) / r * dt
        stamp = int(round(t * 1e9))
        if k % 20 == 0:
            odom = OdometrySample(position=np.array([x, y, 0.0]),
                                  orientation=quat_from_rpy(0, 0, yaw), stamp_ns=stamp)
            if odom_jump is not None and t >= jump_at:
                pivot = np.array([x, y]) if pivot is None else pivot
                odom = transform_pose(odom, pivot, *odom_jump)
            detector.add_odometry(odom)
        if k % 25 == 7:
            enc = rng.normal(0.0, 1e-3, 2)  # encoder noise (rad)
            detector.add_joints(JointStateSample(
                names=NAMES, positions=np.array([0.0, left + enc[0], right + enc[1]]),
                stamp_ns=stamp))
        if first is None and t >= slip_from and detector.alarm:
            first = t - slip_from
    return first


@pytest.mark.parametrize('seed', range(3))
def test_no_slip_raises_nothing(seed):
    detector = WheelSlipDetector(GEOMETRY)
    assert drive(detector, seconds=6.0, seed=seed) is None
    assert detector.segment_count > 50
    assert abs(detector.slip) < 0.01


@pytest.mark.parametrize('slip', [0.1, -0.1, 0.2])
def test_slip_is_detected_within_a_second_and_estimated(slip):
    detector = WheelSlipDetector(GEOMETRY)
    delay = drive(detector, slip=slip, seconds=4.0, slip_from=2.0)
    assert delay is not None and delay < 1.0
    assert detector.slip == pytest.approx(slip, abs=0.02)


@pytest.mark.parametrize('jump', [(0.05, 0.0, math.radians(2)), (0.0, -0.08, 0.0),
                                  (0.15, 0.1, math.radians(5))])
@pytest.mark.parametrize('seed', range(4))
def test_a_pose_jump_in_odometry_is_not_wheel_slip(jump, seed):
    """An odometry pose that jumps once (a pose fault: the wheels stay true) is one outlier,
    however it falls into segments: the wheels raise nothing; real slip still does."""
    for jump_at in (1.0 + 0.0037 * seed, 1.011 + 0.0053 * seed):
        detector = WheelSlipDetector(GEOMETRY)
        assert drive(detector, seconds=3.0, seed=seed, odom_jump=jump, jump_at=jump_at) is None
    detector = WheelSlipDetector(GEOMETRY)
    delay = drive(detector, slip=0.1, seconds=4.0, slip_from=2.0, seed=seed, odom_jump=jump)
    assert delay is not None and delay < 1.0


def test_samples_without_wheels_and_early_odometry_are_handled():
    detector = WheelSlipDetector(GEOMETRY)
    detector.add_joints(JointStateSample(names=('pan_joint',), positions=np.zeros(1)))
    # odometry ahead of the joint states waits for them
    for stamp, x in [(0, 0.0), (5, 0.025)]:
        detector.add_odometry(OdometrySample(position=np.array([x, 0, 0]),
                                             orientation=np.array([0, 0, 0, 1.0]),
                                             stamp_ns=stamp))
    assert detector.slip is None
    detector.add_joints(JointStateSample(names=NAMES, positions=np.zeros(3), stamp_ns=0))
    detector.add_joints(JointStateSample(names=NAMES, positions=np.array([0, 1.0, 1.0]),
                                         stamp_ns=10))
    # wheels at 5 ns: 0.5 rad = 0.03 m against 0.025 m of odometry
    assert detector.slip == pytest.approx(0.03 / 0.025 - 1)
    with pytest.raises(ValueError):
        DiffDriveGeometry('l', 'r', 0.0, 0.3)
