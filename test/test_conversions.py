"""Tests for twin_bridge.ros.conversions: round trips and LaserScan/diagnostics fields."""

from array import array
import math

from diagnostic_msgs.msg import DiagnosticStatus
from nav_msgs.msg import Odometry
import numpy as np
import pytest
from sensor_msgs.msg import JointState

from twin_bridge.core.lidar import LidarSpec, ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.ros.conversions import (
    diagnostics_to_msg,
    joint_state_from_msg,
    joint_state_to_msg,
    ns_to_time,
    odometry_from_msg,
    odometry_to_msg,
    scan_to_msg,
    set_odometry_state,
    time_to_ns,
)
from twin_bridge.twin.stream_monitor import Level, StreamStatus


def test_time_round_trip_and_clamp():
    ns = 1_700_000_123_456_789_012
    t = ns_to_time(ns)
    assert (t.sec, t.nanosec) == (1_700_000_123, 456_789_012)
    assert time_to_ns(t) == ns
    assert time_to_ns(ns_to_time(-5)) == 0


def test_joint_state_round_trip():
    sample = JointStateSample(('pan_joint', 'tilt_joint'), np.array([0.25, -0.5]),
                              np.array([1.0, 2.0]), None, stamp_ns=123_000_000_456)
    msg = joint_state_to_msg(sample)
    assert isinstance(msg.position, array) and list(msg.effort) == []
    back = joint_state_from_msg(msg)
    assert back.names == sample.names and back.stamp_ns == sample.stamp_ns
    np.testing.assert_array_equal(back.positions, sample.positions)
    np.testing.assert_array_equal(back.velocities, sample.velocities)
    assert back.efforts is None


def test_joint_state_from_malformed_msg_keeps_the_problem_for_validation():
    msg = JointState(name=['a', 'b'], position=[float('nan')])
    sample = joint_state_from_msg(msg)
    assert len(sample.names) == 2 and len(sample.positions) == 1
    assert math.isnan(sample.positions[0])


def test_odometry_round_trip_with_frames():
    sample = OdometrySample(np.array([1.0, -2.0, 0.1]), np.array([0, 0, 0.6, 0.8]),
                            np.array([0.5, 0, 0]), np.array([0, 0, -0.2]), stamp_ns=42)
    msg = odometry_to_msg(sample, 'robot1/odom', 'robot1/base_link')
    assert isinstance(msg, Odometry)
    assert msg.header.frame_id == 'robot1/odom' and msg.child_frame_id == 'robot1/base_link'
    back = odometry_from_msg(msg)
    for name in ('position', 'orientation', 'linear_velocity', 'angular_velocity'):
        np.testing.assert_array_equal(getattr(back, name), getattr(sample, name))
    assert back.stamp_ns == 42 and back.frame_id == 'robot1/odom'


def test_set_odometry_state_rewrites_a_reused_message_in_place():
    msg = odometry_to_msg(OdometrySample(np.ones(3), np.array([0, 0, 0.6, 0.8])),
                          'odom', 'base_link')
    msg.header.stamp = ns_to_time(7)
    second = OdometrySample(np.array([3.0, 4.0, 0.0]), np.array([0, 0, 0, 1.0]),
                            np.array([0.2, 0.0, 0.0]), np.array([0.0, 0.0, 0.1]))
    set_odometry_state(msg, second)
    assert msg.header.frame_id == 'odom' and msg.child_frame_id == 'base_link'
    assert time_to_ns(msg.header.stamp) == 7
    back = odometry_from_msg(msg)
    for name in ('position', 'orientation', 'linear_velocity', 'angular_velocity'):
        np.testing.assert_array_equal(getattr(back, name), getattr(second, name))


def test_scan_fields_follow_the_lidar_spec():
    spec = LidarSpec('lidar', 'lidar_link', 'lidar_link', 720, -math.pi,
                     math.pi - 2 * math.pi / 720, 0.12, 12.0, update_rate=20.0)
    ranges = np.linspace(0.5, 11.0, 720).astype(np.float32)
    ranges[3] = np.inf
    scan = ScanData(spec.frame_id, spec.min_angle, spec.max_angle, spec.angle_increment,
                    0.0, 1 / spec.update_rate, spec.range_min, spec.range_max, ranges)
    msg = scan_to_msg(scan, 5_000_000_001, frame_id='robot1/lidar_link')
    assert msg.header.frame_id == 'robot1/lidar_link'
    assert time_to_ns(msg.header.stamp) == 5_000_000_001
    assert msg.angle_min == pytest.approx(-math.pi)
    assert msg.angle_increment == pytest.approx(2 * math.pi / 720)
    assert msg.angle_min + 719 * msg.angle_increment == pytest.approx(msg.angle_max)
    assert msg.scan_time == pytest.approx(0.05) and msg.time_increment == 0.0
    assert (msg.range_min, msg.range_max) == pytest.approx((0.12, 12.0))
    got = np.frombuffer(msg.ranges, dtype=np.float32)
    np.testing.assert_array_equal(got, ranges)
    assert len(msg.intensities) == 0
    assert scan_to_msg(scan, 0).header.frame_id == 'lidar_link'


def test_diagnostics_one_status_per_stream():
    statuses = [
        StreamStatus('joint_states', Level.WARN, 'stale', (('received', '3'),)),
        StreamStatus('virtual/scan', Level.OK, 'ok', (('published', '9'), ('rate_hz', '20'))),
    ]
    msg = diagnostics_to_msg(statuses, 10**9, 'twin_robot')
    assert [s.name for s in msg.status] == ['twin_bridge: joint_states',
                                            'twin_bridge: virtual/scan']
    assert msg.status[0].level == DiagnosticStatus.WARN
    assert msg.status[1].level == DiagnosticStatus.OK
    assert msg.status[0].hardware_id == 'twin_robot'
    assert {kv.key: kv.value for kv in msg.status[1].values} == {'published': '9',
                                                                 'rate_hz': '20'}
    assert msg.header.stamp.sec == 1


def test_inputs_are_views_and_reused_outputs_are_rewritten_whole():
    msg = JointState(name=['a', 'b'], position=[0.5, 0.25], velocity=[1.0, 2.0])
    sample = joint_state_from_msg(msg)
    assert np.shares_memory(sample.positions, np.frombuffer(msg.position))  # no copy
    out = JointState()
    joint_state_to_msg(JointStateSample(('a', 'b'), np.array([1.0, 2.0]), np.ones(2),
                                        np.ones(2), stamp_ns=5), 'f', out)
    again = joint_state_to_msg(JointStateSample(('c',), np.array([3.0]), stamp_ns=-1), msg=out)
    assert again is out and list(out.name) == ['c'] and list(out.position) == [3.0]
    assert list(out.velocity) == [] and list(out.effort) == [] and out.header.frame_id == ''
    assert time_to_ns(out.header.stamp) == 0                     # negative clamps to 0
    odom = Odometry()
    first = OdometrySample(np.ones(3), np.array([0, 0, 0.6, 0.8]), stamp_ns=9)
    assert odometry_to_msg(first, 'odom', 'base_link', odom) is odom
    assert time_to_ns(odom.header.stamp) == 9 and odom.pose.pose.orientation.w == 0.8
