"""Tests for drift.lidar_calibration: the frame test tells a pose error from a lidar yaw."""

import numpy as np
import pytest

from twin_bridge.twin.drift.lidar_calibration import FrameTest, fit_range_model
from twin_bridge.twin.drift.se2 import compose, inverse

SENSOR = np.array([0.1, 0.0, 0.0])
COV = np.diag([1e-6, 1e-6, 1e-8])


def path(n=20, moving=True):
    step = np.array([0.03, 0.0, 0.02]) if moving else np.zeros(3)
    poses = [np.array([1.0, 2.0, 0.3])]
    for _ in range(n - 1):
        poses.append(compose(poses[-1], step))
    return poses


@pytest.mark.parametrize('moving', [True, False])
def test_a_sensor_frame_rotation_is_lidar(moving):
    test = FrameTest(SENSOR)
    yaw = np.radians(2.0)
    for i, odom in enumerate(path(moving=moving)):
        matched = compose(compose(compose(odom, SENSOR), np.array([0, 0, yaw])),
                          inverse(SENSOR))
        test.add(i, odom, matched, COV)
    d = test.decide()
    assert d.cause == 'lidar' and d.yaw_offset == pytest.approx(yaw)


def test_a_world_frame_transform_is_pose():
    test = FrameTest(SENSOR)
    c = np.array([0.05, -0.02, np.radians(2.0)])
    for i, odom in enumerate(path()):
        test.add(i, odom, compose(c, odom), COV)
    d = test.decide()
    assert d.cause == 'pose'
    np.testing.assert_allclose(d.world_correction, c, atol=1e-9)
    assert test.decide(since=100) is None


def test_range_model_reference_fit():
    v = np.linspace(1, 10, 50)
    scale, bias = fit_range_model(v, 1.02 * v + 0.05)
    assert (scale, bias) == pytest.approx((1.02, 0.05))
    with pytest.raises(ValueError):
        fit_range_model(np.array([np.inf]), np.array([1.0]))
