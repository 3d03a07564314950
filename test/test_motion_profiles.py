"""Tests for the scripted motions of the stand-in robot (pure functions of time)."""

import math

import numpy as np
import pytest

from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.stand_in.motion_profiles import (
    DiffDriveGeometry,
    FigureEight,
    JointSweep,
    MeasurementNoise,
    make_motion,
)

JOINTS = [('left_wheel_joint', None, None), ('right_wheel_joint', None, None),
          ('pan_joint', -2.5, 2.5), ('tilt_joint', -0.7, 0.7)]
WHEELS = ('left_wheel_joint', 'right_wheel_joint')


def _integrate(t: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid integral from t[0] (a reference independent of the series)."""
    steps = 0.5 * (rate[1:] + rate[:-1]) * np.diff(t)
    return np.concatenate([[0.0], np.cumsum(steps)])


def test_figure_eight_pose_is_integral_of_twist():
    fig = FigureEight(speed=0.7, period=12.0)
    t = np.linspace(0.0, 30.0, 300_001)
    b = fig(t)
    # Body twist rotated into the odom frame, integrated numerically.
    x_ref = _integrate(t, b.linear * np.cos(b.yaw))
    y_ref = _integrate(t, b.linear * np.sin(b.yaw))
    yaw_ref = _integrate(t, b.angular)
    assert np.max(np.abs(b.x - x_ref)) < 1e-6
    assert np.max(np.abs(b.y - y_ref)) < 1e-6
    assert np.max(np.abs(b.yaw - yaw_ref)) < 1e-6
    assert np.allclose(b.distance, _integrate(t, b.linear))


def test_figure_eight_closes_and_crosses_itself():
    fig = FigureEight(speed=0.5, period=20.0)
    end = fig(20.0)
    assert abs(float(end.x)) < 1e-9 and abs(float(end.y)) < 1e-9
    assert abs(float(end.yaw)) < 1e-9
    # A figure-eight: the path visits both sides of its long axis and has real extent.
    b = fig(np.linspace(0.0, 20.0, 2001))
    assert b.x.min() < -0.5 and b.x.max() > 0.5
    assert b.y.max() > 3.0
    # The crossing point: halfway up, the path passes x = 0 with a non-zero heading.
    half = fig(5.0)
    assert abs(float(half.x)) < 1e-9
    assert abs(float(half.y) - b.y.max() / 2) < 1e-6


def test_wheel_angles_follow_diff_drive_kinematics():
    geometry = DiffDriveGeometry(wheel_radius=0.06, wheel_separation=0.32)
    motion = make_motion('figure_eight', JOINTS, WHEELS, speed=0.5, period=10.0,
                         geometry=geometry)
    times = np.linspace(0.0, 12.0, 24_001)
    states = [motion.joint_state(t) for t in times]
    left = np.array([s.positions[0] for s in states])
    right = np.array([s.positions[1] for s in states])
    left_rate = np.array([s.velocities[0] for s in states])
    right_rate = np.array([s.velocities[1] for s in states])
    # Wheel angles are the integrals of the wheel rates...
    assert np.max(np.abs(left - _integrate(times, left_rate))) < 1e-5
    assert np.max(np.abs(right - _integrate(times, right_rate))) < 1e-5
    # ...and the wheel rates reproduce the odometry twist: v = r (wl + wr) / 2,
    # w = r (wr - wl) / b.
    for t, wl, wr in zip(times[::1000], left_rate[::1000], right_rate[::1000], strict=True):
        odom = motion.odometry(t)
        v = geometry.wheel_radius * (wl + wr) / 2
        w = geometry.wheel_radius * (wr - wl) / geometry.wheel_separation
        assert v == pytest.approx(odom.linear_velocity[0], abs=1e-12)
        assert w == pytest.approx(odom.angular_velocity[2], abs=1e-12)


def test_odometry_sample_matches_base_motion():
    motion = make_motion('figure_eight', JOINTS, WHEELS)
    odom = motion.odometry(3.3, stamp_ns=42)
    base = motion.base(3.3)
    assert odom.stamp_ns == 42
    assert odom.frame_id == 'odom' and odom.child_frame_id == 'base_link'
    assert np.allclose(odom.position, [float(base.x), float(base.y), 0.0])
    assert np.linalg.norm(odom.orientation) == pytest.approx(1.0)
    yaw_wrapped = math.atan2(math.sin(float(base.yaw)), math.cos(float(base.yaw)))
    assert yaw_from_quat(odom.orientation) == pytest.approx(yaw_wrapped)


def test_sweep_stays_within_limits_and_covers_them():
    motion = make_motion('sweep', JOINTS, WHEELS, sweep_period=4.0)
    positions = np.array([motion.joint_state(t).positions for t in np.linspace(0, 8, 4001)])
    pan, tilt = positions[:, 2], positions[:, 3]
    assert pan.min() >= -2.5 and pan.max() <= 2.5
    assert tilt.min() >= -0.7 and tilt.max() <= 0.7
    assert pan.max() - pan.min() > 0.8 * 5.0  # sweeps most of the range
    assert tilt.max() - tilt.min() > 0.8 * 1.4
    assert np.all(positions[:, :2] == 0.0)  # 'sweep' keeps the base and wheels still
    still = make_motion('figure_eight', JOINTS, WHEELS).odometry(0.0)
    assert np.allclose(still.position, 0.0)


def test_sweep_velocity_is_derivative_of_position():
    sweep = JointSweep.within_limits(['a', 'b'], [-1.0, 0.0], [1.0, 2.0], period=3.0)
    t, h = 1.234, 1e-6
    numeric = (sweep.positions(t + h) - sweep.positions(t - h)) / (2 * h)
    assert np.allclose(sweep.velocities(t), numeric, atol=1e-6)


def test_still_motion_does_not_move():
    motion = make_motion('still', JOINTS, WHEELS)
    for t in (0.0, 1.0, 17.5):
        assert np.all(motion.joint_state(t).positions == 0.0)
        assert np.all(motion.joint_state(t).velocities == 0.0)
        assert np.all(motion.odometry(t).position == 0.0)
    # A joint whose range excludes zero rests at its nearest limit.
    offset = make_motion('still', [('lift', 0.1, 0.4), ('neg', -0.9, -0.2)])
    assert np.allclose(offset.joint_state(3.0).positions, [0.1, -0.2])


def test_seeded_noise_is_reproducible_and_has_the_requested_spread():
    motion = make_motion('figure_eight', JOINTS, WHEELS)
    clean = motion.joint_state(2.0)

    def draw(seed):
        noise = MeasurementNoise(0.01, seed)
        return np.array([noise.joint_state(clean).positions for _ in range(2000)])

    a, b, c = draw(7), draw(7), draw(8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.std(a - clean.positions) == pytest.approx(0.01, rel=0.1)
    odom = MeasurementNoise(0.02, 3).odometry(motion.odometry(2.0))
    assert np.linalg.norm(odom.orientation) == pytest.approx(1.0)
    assert MeasurementNoise(0.0, 1).joint_state(clean) is clean


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match='unknown motion'):
        make_motion('zigzag', JOINTS, WHEELS)
    with pytest.raises(ValueError, match='period'):
        FigureEight(period=0.0)
    with pytest.raises(ValueError, match='stddev'):
        MeasurementNoise(float('nan'))
    with pytest.raises(ValueError, match='not among'):
        make_motion('still', JOINTS, ('left_wheel_joint', 'nope'))
    with pytest.raises(ValueError, match="joint 'x'"):
        JointSweep.within_limits(['x'], [1.0], [0.0])
