"""The stand-in's faults over real DDS: an odometry offset and a lidar yaw, each at its time."""

import math
import signal
import subprocess
import sys

from nav_msgs.msg import Odometry
import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data
from ros_harness import RosTestContext, spawn_node
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.stand_in.motion_profiles import make_motion

AT = 5.0               # onset of both faults, s after the node starts
MARGIN = 0.1           # messages this close to the onset are not judged
SWEEP_PERIOD = 200.0   # long, so the pan angle tells the node's time unambiguously
OFFSET = (0.2, -0.1, 5.0)
YAW_BEAMS = 20         # lidar_yaw 10 deg = 20 beams of 0.5 deg


def _stamp(msg) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


class NodeClock:
    """The node's own time (s since start) of a stamp, read off the swept pan joint.

    With motion ``sweep`` the pan joint is ``c + A sin(w t)``, its velocity ``A w cos(w t)``,
    so every joint_states message gives the ``t`` it was computed for; the stamps (wall clock
    taken right before publishing) of all streams share one offset from it.
    """

    def __init__(self) -> None:
        robot = load_robot_description(default_robot_path())
        joints = [(j.name, j.lower, j.upper) for j in map(robot.joint, robot.movable_joint_names)]
        motion = make_motion('sweep', joints, robot.wheel_joint_names, sweep_period=SWEEP_PERIOD)
        self.pan = motion.joint_names.index(motion.sweep.names[0])
        self.centre = float(motion.sweep.centers[0])
        self.omega = 2.0 * math.pi / SWEEP_PERIOD
        self.offsets: list[float] = []

    def add(self, msg: JointState) -> None:
        pos, vel = msg.position[self.pan], msg.velocity[self.pan]
        t = math.atan2(pos - self.centre, vel / self.omega) / self.omega
        self.offsets.append(_stamp(msg) - t)

    def time(self, msg) -> float:
        return _stamp(msg) - float(np.median(self.offsets))


def test_odometry_offset_and_lidar_yaw_appear_at_their_time():
    clock = NodeClock()
    faults = [f'pose_offset:dx={OFFSET[0]},dy={OFFSET[1]},dyaw_deg={OFFSET[2]},at={AT}',
              f'lidar_yaw:deg=10,at={AT}']
    with RosTestContext('physical_sim_faults') as ros, spawn_node(
            'twin_bridge.ros.physical_sim_node',
            params={'motion': 'sweep', 'sweep_period': SWEEP_PERIOD, 'joint_states_rate': 50.0,
                    'odom_rate': 50.0, 'publish_scan': True, 'world': 'warehouse',
                    'faults': faults}) as proc:
        joints = ros.collect('joint_states', JointState, 100)
        odom = ros.collect('odom', Odometry, 100)
        scans = ros.collect('scan', LaserScan, qos_profile_sensor_data)

        def past(collector, t: float) -> bool:
            return len(collector) > 0 and clock.time(collector.last) > t

        def flowing() -> bool:
            for msg in joints.messages[len(clock.offsets):]:
                clock.add(msg)
            return len(joints) > 0 and past(odom, AT + 1.0) and past(scans, AT + 1.0)

        assert ros.spin_until(flowing, 90.0, proc), proc.output()
        later = len(joints)
        assert ros.spin_until(lambda: len(joints) > later + 10, 20.0, proc), proc.output()
        assert proc.stop(signal.SIGINT) == 0, proc.output()
    log = proc.output()
    assert (f'injecting fault pose_offset dx={OFFSET[0]:g} dy={OFFSET[1]:g} '
            f'dyaw_deg={OFFSET[2]:g} from t={AT:g} s') in log
    assert f'injecting fault lidar_yaw deg=10 from t={AT:g} s' in log

    # The joint states went on, true (the base stands still: wheels at zero) after the onset.
    after_joints = [m for m in joints.messages if clock.time(m) > AT + MARGIN]
    assert len(after_joints) > 10
    assert all(m.position[0] == 0.0 and m.position[1] == 0.0 for m in after_joints)

    # /odom: at the true pose (the origin) before, off by the offset after.
    def pose(msg: Odometry) -> list[float]:
        p, q = msg.pose.pose.position, msg.pose.pose.orientation
        return [p.x, p.y, math.degrees(yaw_from_quat(np.array([q.x, q.y, q.z, q.w])))]

    times = [clock.time(m) for m in odom.messages]
    before = [pose(m) for m, t in zip(odom.messages, times, strict=True) if t < AT - MARGIN]
    after = [pose(m) for m, t in zip(odom.messages, times, strict=True) if t > AT + MARGIN]
    assert before and after, times
    np.testing.assert_allclose(before, np.zeros((len(before), 3)), atol=1e-9)
    np.testing.assert_allclose(after, np.tile(OFFSET, (len(after), 1)), atol=1e-9)
    # The twist is the true one (standing still) throughout.
    assert all(m.twist.twist.linear.x == 0.0 for m in odom.messages)

    # The scan: cast with the lidar turned by 10 deg after the onset, from the same true pose.
    times = [clock.time(m) for m in scans.messages]
    first = np.asarray([m for m, t in zip(scans.messages, times, strict=True)
                        if t < AT - MARGIN][-1].ranges)
    turned = np.asarray([m for m, t in zip(scans.messages, times, strict=True)
                         if t > AT + MARGIN][0].ranges)
    rolled = np.roll(first, -YAW_BEAMS)
    ok = np.isfinite(rolled) & np.isfinite(turned)
    both = np.isfinite(first) & np.isfinite(turned)
    assert ok.sum() > 500 and both.sum() > 500
    assert np.median(np.abs(turned[ok] - rolled[ok])) < 0.03  # the lidar's own 1 cm noise
    assert np.median(np.abs(turned[both] - first[both])) > 0.1


@pytest.mark.parametrize('params, message', [
    ({'faults': ['lidar_yaw:degrees=2']}, "faults 'lidar_yaw:degrees=2': unknown key"),
    ({'faults': ['range_bias:m=0.05']}, 'set publish_scan:=true'),
    ({'faults': ['obstacle_moved:name=shelf_a,dx=0.3'], 'publish_scan': True},
     "no obstacle 'shelf_a'"),
])
def test_bad_fault_fails_clearly(params, message):
    proc = spawn_node('twin_bridge.ros.physical_sim_node', params=params)
    assert proc.wait(60.0) == 2, proc.output()
    assert message in proc.output()
    assert 'Traceback' not in proc.output()


def test_help_documents_the_faults():
    out = subprocess.run([sys.executable, '-m', 'twin_bridge.ros.physical_sim_node', '--help'],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    for text in ('faults', 'pose_offset:', 'obstacle_moved:name=NAME', 'lidar_yaw:deg=DEG',
                 'wheel_slip:factor=FACTOR', 'scan_noise:stddev=STDDEV', 'range_bias:m=M'):
        assert text in out
