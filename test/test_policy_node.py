"""twin_policy over real DDS: scans + odometry + a goal in, sane commands out; stop at the
goal and on stale odometry; --help and the parameters file agree; clean exit on SIGINT."""

from __future__ import annotations

import math
from pathlib import Path
import signal
import subprocess
import sys

from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry
from nav_policy_fixture import make_untrained_policy
import numpy as np
from rclpy.qos import qos_profile_sensor_data
from ros_harness import RosTestContext, spawn_node
from sensor_msgs.msg import LaserScan
import yaml

from twin_bridge.learning.nav_policy import NavPolicy
from twin_bridge.ros.policy_node import PARAMETERS

CONFIG = Path(__file__).resolve().parent.parent / 'config' / 'twin_policy.yaml'


def _scan() -> LaserScan:
    msg = LaserScan()
    msg.header.frame_id = 'lidar_link'
    msg.angle_min, msg.angle_increment = -math.pi, 2 * math.pi / 360
    msg.angle_max = msg.angle_min + 359 * msg.angle_increment
    msg.range_min, msg.range_max = 0.12, 12.0
    msg.ranges = [3.0] * 180 + [float('inf')] * 180
    return msg


def _odom(x: float) -> Odometry:
    msg = Odometry()
    msg.header.frame_id, msg.child_frame_id = 'odom', 'base_link'
    msg.pose.pose.position.x = x
    msg.pose.pose.orientation.w = 1.0
    return msg


def _goal(x: float, y: float) -> PoseStamped:
    msg = PoseStamped()
    msg.header.frame_id = 'odom'
    msg.pose.position.x, msg.pose.position.y = x, y
    msg.pose.orientation.w = 1.0
    return msg


def test_policy_node_publishes_sane_commands_and_stops(tmp_path: Path) -> None:
    policy_dir = make_untrained_policy(tmp_path / 'policy')
    layout = NavPolicy(policy_dir).layout
    with RosTestContext('policy_probe') as ros, spawn_node(
            'twin_bridge.ros.policy_node', params={'policy': str(policy_dir)}) as proc:
        cmds = ros.collect('cmd_vel', Twist, 50)
        scan_pub = ros.node.create_publisher(LaserScan, 'virtual/scan', qos_profile_sensor_data)
        odom_pub = ros.node.create_publisher(Odometry, 'virtual/odom', 10)
        goal_pub = ros.node.create_publisher(PoseStamped, 'goal_pose', 1)
        assert ros.wait_for_subscribers(goal_pub, 30.0, process=proc), proc.output()
        state = {'x': 0.0, 'feed': True}

        def feed() -> None:
            if state['feed']:
                scan_pub.publish(_scan())
                odom_pub.publish(_odom(state['x']))

        ros.node.create_timer(0.05, feed)
        goal_pub.publish(_goal(2.0, 1.0))
        assert ros.spin_until(lambda: len(cmds) >= 10, 20.0, proc), proc.output()
        v = np.array([m.linear.x for m in cmds.messages])
        w = np.array([m.angular.z for m in cmds.messages])
        assert np.all(np.isfinite(v)) and np.all(np.isfinite(w))
        assert np.all(np.abs(v) <= layout.max_linear + 1e-6)
        assert np.all(np.abs(w) <= layout.max_angular + 1e-6)
        assert np.any(np.abs(v) + np.abs(w) > 1e-4)  # the policy itself, not a stop
        # Reaching the goal: a stop, then silence until the next goal.
        state['x'] = 1.9
        goal_pub.publish(_goal(2.0, 0.0))
        assert ros.spin_until(lambda: cmds.last.linear.x == 0.0 and cmds.last.angular.z == 0.0,
                              10.0, proc), proc.output()
        # Stale odometry: a new goal gets stops only.
        state['feed'] = False
        cmds.clear()
        goal_pub.publish(_goal(-2.0, 0.0))
        # (fresh for input_timeout = 0.5 s more, then stops only)
        assert ros.spin_until(lambda: len(cmds) >= 5 and all(
            m.linear.x == 0.0 and m.angular.z == 0.0 for m in cmds.messages[-5:]),
            10.0, proc), proc.output()
        assert proc.stop(signal.SIGINT) == 0, proc.output()
        assert 'goal_reached' in proc.output() and 'stale_odometry' in proc.output()


def test_missing_policy_is_a_clear_error(tmp_path: Path) -> None:
    with spawn_node('twin_bridge.ros.policy_node',
                    params={'policy': str(tmp_path / 'none')}) as proc:
        assert proc.wait(30.0) == 2, proc.output()
        assert 'policy file not found' in proc.output()


def test_help_and_parameters_file_list_every_parameter() -> None:
    out = subprocess.run([sys.executable, '-m', 'twin_bridge.ros.policy_node', '--help'],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    params = yaml.safe_load(CONFIG.read_text(encoding='utf-8'))['twin_policy']['ros__parameters']
    assert set(params) == set(PARAMETERS)
    for name, (default, _) in PARAMETERS.items():
        assert name in out
        assert params[name] == default
