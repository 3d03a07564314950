"""Tests for drift.wheel_odometry on synthetic drives: slip detected, estimated; none raised."""

import math

import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_from_rpy
from twin_bridge.twin.drift.wheel_odometry import DiffDriveGeometry, WheelSlipDetector

GEOMETRY = DiffDriveGeometry('left_wheel_joint', 'right_wheel_joint', 0.06, 0.32)
NAMES = ('pan_joint', 'left_wheel_joint', 'right_wheel_joint')


def drive(detector, *, slip=0.0, seconds=3.0, slip_from=0.0, seed=0, speed=0.3, turn=0.4):
    """Drive an arc; odometry at 50 Hz, joint states at 40 Hz (other stamps). Returns the
    time of the first alarm after ``slip_from`` (or None)."""
    rng = np.random.default_rng(seed)
    x = y = yaw = 0.0
    left = right = 0.0
    dt = 0.001
    first = None
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
            detector.add_odometry(OdometrySample(position=np.array([x, y, 0.0]),
                                                 orientation=quat_from_rpy(0, 0, yaw),
                                                 stamp_ns=stamp))
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


def test_samples_without_wheels_and_early_joint_states_are_handled():
    detector = WheelSlipDetector(GEOMETRY)
    detector.add_joints(JointStateSample(names=('pan_joint',), positions=np.zeros(1)))
    # joint states ahead of odometry wait for it
    detector.add_joints(JointStateSample(names=NAMES, positions=np.zeros(3), stamp_ns=5))
    assert detector.slip is None
    for i, x in enumerate([0.0, 0.05]):
        detector.add_odometry(OdometrySample(position=np.array([x, 0, 0]),
                                             orientation=np.array([0, 0, 0, 1.0]),
                                             stamp_ns=i * 10))
    detector.add_joints(JointStateSample(names=NAMES, positions=np.array([0, 1.0, 1.0]),
                                         stamp_ns=10))
    # 5 ns: x = 0.025 (start); 10 ns: x = 0.05, wheels 0.06 m -> 0.06 / 0.025 - 1
    assert detector.slip == pytest.approx(0.06 / 0.025 - 1)
    with pytest.raises(ValueError):
        DiffDriveGeometry('l', 'r', 0.0, 0.3)
