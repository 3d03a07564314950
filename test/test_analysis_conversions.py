"""Tests for analysis_conversions: drift and prediction results as ROS messages."""

import math

import numpy as np
import pytest
from visualization_msgs.msg import Marker

from twin_bridge.core.state import OdometrySample
from twin_bridge.ros.analysis_conversions import (
    drift_status_to_msg,
    path_to_msg,
    pose_correction_to_msg,
    world_changes_to_msg,
)
from twin_bridge.ros.conversions import time_to_ns
from twin_bridge.twin.drift.pose_correction import PoseCorrection
from twin_bridge.twin.prediction import KinematicPredictor


def test_drift_status_is_named_per_cause_with_numeric_values():
    msg = drift_status_to_msg('pose', 2, {'dx': 0.05, 'dyaw_deg': 2.0}, 'robot')
    assert msg.name == 'twin drift: pose' and msg.level == bytes([2])
    assert 'detected' in msg.message and 'dx=0.05' in msg.message
    values = {kv.key: float(kv.value) for kv in msg.values}
    assert values == {'dx': 0.05, 'dyaw_deg': 2.0}
    ok = drift_status_to_msg('wheels', 0, {}, 'robot')
    assert ok.level == bytes([0]) and ok.message == 'ok' and not ok.values


def test_pose_correction_carries_pose_and_covariance_in_amcl_layout():
    cov = np.array([[1e-4, 2e-5, 0.0], [2e-5, 4e-4, 0.0], [0.0, 0.0, 9e-6]])
    correction = PoseCorrection(5 * 10**9, np.array([1.0, -2.0, math.pi / 2]), cov,
                                np.zeros(3))
    msg = pose_correction_to_msg(correction, 0.1)
    assert msg.header.frame_id == 'odom' and time_to_ns(msg.header.stamp) == 5 * 10**9
    p = msg.pose.pose
    assert (p.position.x, p.position.y, p.position.z) == (1.0, -2.0, 0.1)
    assert p.orientation.z == pytest.approx(math.sqrt(0.5))
    full = np.array(msg.pose.covariance).reshape(6, 6)
    assert full[0, 0] == 1e-4 and full[0, 1] == 2e-5 and full[1, 1] == 4e-4
    assert full[5, 5] == 9e-6 and full[2, 2] == 0.0


def test_world_changes_clear_old_markers_then_draw_each_change():
    msg = world_changes_to_msg([(1.0, 2.0, 0.3), (-1.0, 0.5, 0.01)], 10**9)
    assert msg.markers[0].action == Marker.DELETEALL
    discs = [m for m in msg.markers if m.type == Marker.CYLINDER]
    assert [(m.pose.position.x, m.pose.position.y) for m in discs] == [(1.0, 2.0), (-1.0, 0.5)]
    assert discs[0].scale.x == pytest.approx(0.6) and discs[1].scale.x == pytest.approx(0.05)
    assert len({m.id for m in msg.markers[1:]}) == 4
    assert world_changes_to_msg([], 0).markers[0].action == Marker.DELETEALL


def test_predicted_path_is_a_stamped_nav_path():
    odom = OdometrySample(np.array([0.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                          linear_velocity=np.array([0.5, 0.0, 0.0]), stamp_ns=2 * 10**9)
    path = KinematicPredictor(horizon=1.0, step=0.25).predict(odom)
    msg = path_to_msg(path)
    assert msg.header.frame_id == 'odom' and len(msg.poses) == len(path.times)
    last = msg.poses[-1]
    assert last.pose.position.x == pytest.approx(0.5)
    assert time_to_ns(last.header.stamp) == 3 * 10**9
