"""Tests for prediction: exact constant-twist arcs, diff-drive twist from wheel velocities."""

import math

import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.wheel_geometry import WheelGeometry
from twin_bridge.errors import TwinBridgeError
from twin_bridge.stand_in.motion_profiles import DiffDriveGeometry, make_motion
from twin_bridge.twin.prediction import (
    KinematicPredictor,
    constant_twist_path,
    prediction_times,
)

GEOMETRY = WheelGeometry('left_wheel_joint', 'right_wheel_joint', radius=0.06, separation=0.32)


def _odom(x=0.0, y=0.0, yaw=0.0, v=(0.0, 0.0), w=0.0, stamp_ns=0) -> OdometrySample:
    return OdometrySample(np.array([x, y, 0.0]),
                          np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
                          np.array([v[0], v[1], 0.0]), np.array([0.0, 0.0, w]), stamp_ns)


def _reference_path(x, y, yaw, vx, vy, w, times, substeps=2000):
    """Plain-Python midpoint integration of the unicycle with lateral velocity."""
    out = [(x, y, yaw)]
    for t0, t1 in zip(times[:-1], times[1:], strict=True):
        h = (t1 - t0) / substeps
        for _ in range(substeps):
            mid = yaw + 0.5 * h * w
            x += h * (vx * math.cos(mid) - vy * math.sin(mid))
            y += h * (vx * math.sin(mid) + vy * math.cos(mid))
            yaw += h * w
        out.append((x, y, yaw))
    return np.array(out)


@pytest.mark.parametrize('w', [0.0, 1e-7, 0.3, -2.5])
def test_constant_twist_matches_integration(w):
    times = prediction_times(1.0, 0.1)
    x, y, yaw = constant_twist_path(0.4, -1.0, 0.7, 0.5, w, times, lateral=0.1)
    ref = _reference_path(0.4, -1.0, 0.7, 0.5, 0.1, w, times)
    np.testing.assert_allclose(np.column_stack([x, y, yaw]), ref, atol=1e-9)


def test_circle_closes():
    times = np.array([0.0, 2 * math.pi])
    x, y, _ = constant_twist_path(1.0, 2.0, 0.3, 0.5, 1.0, times)
    assert (x[-1], y[-1]) == (pytest.approx(1.0), pytest.approx(2.0))


def test_prediction_times():
    np.testing.assert_allclose(prediction_times(1.0, 0.3), [0, 0.3, 0.6, 0.9, 1.0])
    assert len(prediction_times(1.0, 0.05)) == 21
    for bad in [(0.0, 0.1), (1.0, -1.0), (math.nan, 0.1)]:
        with pytest.raises(TwinBridgeError):
            prediction_times(*bad)


def test_wheels_give_the_twist():
    predictor = KinematicPredictor(GEOMETRY)
    wl, wr = GEOMETRY.joint_velocities(0.4, 0.5)
    joints = JointStateSample(('pan', 'left_wheel_joint', 'right_wheel_joint'),
                              np.zeros(3), np.array([9.0, wl, wr]))
    # The odometry twist disagrees: the wheels win.
    path = predictor.predict(_odom(v=(1.0, 0.0), w=0.0, stamp_ns=5), joints)
    assert path.source == 'wheels' and path.stamp_ns == 5
    assert (path.linear, path.angular) == (pytest.approx(0.4), pytest.approx(0.5))
    assert path.times[-1] == 1.0 and path.at(1.0)[2] == pytest.approx(0.5)
    # No velocities (or NaN, or the wheels not named): the odometry twist.
    for sample in (JointStateSample(joints.names, np.zeros(3)),
                   JointStateSample(joints.names, np.zeros(3), np.array([0, math.nan, 1.0])),
                   JointStateSample(('pan',), np.zeros(1), np.zeros(1)), None):
        path = predictor.predict(_odom(v=(1.0, 0.0), w=0.2), sample)
        assert path.source == 'odometry' and path.linear == 1.0 and path.angular == 0.2


def test_constant_twist_without_geometry_keeps_lateral():
    path = KinematicPredictor().predict(_odom(yaw=math.pi / 2, v=(0.0, 0.5)))
    # Sideways to the body's left while facing +y: motion along -x.
    np.testing.assert_allclose(path.at(1.0), [-0.5, 0.0, math.pi / 2], atol=1e-12)


def test_full_pose_keeps_roll_pitch_and_turns_yaw():
    q0 = np.array([0.0, 0.0, math.sin(0.1), math.cos(0.1)])
    odom = OdometrySample(np.array([0.0, 0.0, 0.3]), q0, np.zeros(3), np.array([0, 0, 1.0]))
    path = KinematicPredictor(horizon=0.5, step=0.25).predict(odom)
    positions, quats = path.positions(), path.orientations()
    assert positions.shape == (3, 3) and np.all(positions[:, 2] == 0.3)
    assert [yaw_from_quat(q) for q in quats] == pytest.approx([0.2, 0.45, 0.7])


def test_figure_eight_one_second_ahead_within_two_centimetres():
    geometry = DiffDriveGeometry(0.06, 0.32)
    motion = make_motion('figure_eight', [('left_wheel_joint', None, None),
                                          ('right_wheel_joint', None, None)],
                         ('left_wheel_joint', 'right_wheel_joint'), geometry=geometry)
    predictor = KinematicPredictor(GEOMETRY)
    errors = []
    for t in np.arange(0.0, 20.0, 0.25):
        path = predictor.predict(motion.odometry(t), motion.joint_state(t))
        truth = motion.odometry(t + 1.0).position[:2]
        errors.append(np.hypot(*(path.at(1.0)[:2] - truth)))
    assert np.median(errors) < 0.02


def test_bad_inputs():
    with pytest.raises(TwinBridgeError):
        KinematicPredictor(horizon=0.0)
    with pytest.raises(TwinBridgeError):
        KinematicPredictor().predict(_odom(v=(math.inf, 0.0)))
    path = KinematicPredictor().predict(_odom())
    with pytest.raises(TwinBridgeError):
        path.at(1.5)
