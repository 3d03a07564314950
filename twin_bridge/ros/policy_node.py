"""``twin_policy``: a trained TwinNav policy drives the twin from its scan and odometry."""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
import time

from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import LaserScan

from twin_bridge.learning.nav_policy import NavPolicy
from twin_bridge.learning.policy_driver import PolicyDriver
from twin_bridge.ros.conversions import set_twist
from twin_bridge.ros.qos import qos_profile
from twin_bridge.ros.shutdown import run_node
from twin_bridge.twin.node_config import parameter_help

__all__ = ['PARAMETERS', 'PolicyNode', 'main']

#: name -> (default, help); the single source for declare_parameter and ``--help``.
PARAMETERS: dict[str, tuple[object, str]] = {
    'policy': ('runs/nav', 'directory with policy.zip and policy.json (twin_train output)'),
    'scan_topic': ('virtual/scan', 'sensor_msgs/LaserScan the policy sees (the twin\'s scan)'),
    'odom_topic': ('virtual/odom', 'nav_msgs/Odometry of the robot (the twin\'s odometry)'),
    'goal_topic': ('goal_pose', 'geometry_msgs/PoseStamped goal, in the odometry frame'),
    'cmd_vel_topic': ('cmd_vel', 'where commands go: by default the twin\'s command gate '
                                 'input (the gate publishes virtual/cmd_vel_safe and forwards '
                                 'to the robot only with forward_commands: true)'),
    'cmd_vel_stamped': (False, 'publish geometry_msgs/TwistStamped instead of Twist'),
    'rate': (20.0, 'command rate in Hz (the policy was trained at 20 Hz)'),
    'goal_tolerance': (0.25, 'distance in m at which the goal counts as reached (then: stop)'),
    'input_timeout': (0.5, 'scan or odometry older than this (s): publish a stop'),
}


class PolicyNode(Node):
    """Subscribes scan, odometry and goal; publishes the policy's command at ``rate``."""

    def __init__(self) -> None:
        super().__init__('twin_policy')
        p = {name: self.declare_parameter(name, default).value
             for name, (default, _) in PARAMETERS.items()}
        rate = float(p['rate'])
        if not (math.isfinite(rate) and 0 < rate <= 1000):
            raise ValueError(f'rate must be in (0, 1000] Hz, got {rate}')
        self.driver = PolicyDriver(NavPolicy(p['policy']),
                                   goal_tolerance=float(p['goal_tolerance']),
                                   input_timeout=float(p['input_timeout']))
        self._stamped = bool(p['cmd_vel_stamped'])
        self._pub = self.create_publisher(TwistStamped if self._stamped else Twist,
                                          p['cmd_vel_topic'], qos_profile('reliable', 10))
        self.create_subscription(LaserScan, p['scan_topic'], self._on_scan,
                                 qos_profile_sensor_data)
        self.create_subscription(Odometry, p['odom_topic'], self._on_odom,
                                 qos_profile('sensor_data', 10))
        self.create_subscription(PoseStamped, p['goal_topic'], self._on_goal,
                                 qos_profile('reliable', 1))
        self.create_timer(1.0 / rate, self._tick)
        self._last_reason = ''
        self.get_logger().info(
            f'policy {p["policy"]}: {self.resolve_topic_name(p["scan_topic"])} + '
            f'{self.resolve_topic_name(p["odom_topic"])} + goals on '
            f'{self.resolve_topic_name(p["goal_topic"])} -> '
            f'{self.resolve_topic_name(p["cmd_vel_topic"])} at {rate:g} Hz')

    def _on_scan(self, msg: LaserScan) -> None:
        if not self.driver.on_scan(msg.ranges, msg.angle_min, msg.angle_increment,
                                   time.monotonic()):
            self.get_logger().warning('malformed scan ignored',
                                      throttle_duration_sec=5.0)

    def _on_odom(self, msg: Odometry) -> None:
        q, t = msg.pose.pose.orientation, msg.twist.twist
        yaw = math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z))
        pos = msg.pose.pose.position
        if not self.driver.on_odometry(pos.x, pos.y, yaw, t.linear.x, t.angular.z,
                                       msg.header.frame_id, time.monotonic()):
            self.get_logger().warning('non-finite odometry ignored', throttle_duration_sec=5.0)

    def _on_goal(self, msg: PoseStamped) -> None:
        pos = msg.pose.position
        if self.driver.on_goal(pos.x, pos.y, msg.header.frame_id):
            self.get_logger().info(f'goal ({pos.x:.2f}, {pos.y:.2f}) in '
                                   f'"{msg.header.frame_id}"')
        else:
            self.get_logger().warning(f'goal refused (non-finite, or frame '
                                      f'"{msg.header.frame_id}" is not the odometry\'s)',
                                      throttle_duration_sec=5.0)

    def _tick(self) -> None:
        command = self.driver.tick(time.monotonic())
        if command is None:
            return
        if command.reason != self._last_reason:
            self.get_logger().info(f'commanding: {command.reason} (goal {command.distance:.2f}'
                                   ' m away)')
            self._last_reason = command.reason
        msg = TwistStamped() if self._stamped else Twist()
        if self._stamped:
            msg.header.stamp = self.get_clock().now().to_msg()
            set_twist(msg.twist, command.linear, command.angular)
        else:
            set_twist(msg, command.linear, command.angular)
        self._pub.publish(msg)

    def counts_line(self) -> str:
        """Commands per reason and rejected inputs per reason, for the shutdown summary."""
        sent = ', '.join(f'{k} {v}' for k, v in sorted(self.driver.commands.items())) or 'none'
        bad = ', '.join(f'{k} {v}' for k, v in sorted(self.driver.rejected.items())) or 'none'
        return f'commands: {sent}; rejected inputs: {bad}'


def _parse_cli(argv: list[str]) -> None:
    epilog = '\n'.join(['ROS parameters (set with --ros-args -p name:=value or --params-file '
                        'config/twin_policy.yaml), default in ():', *parameter_help(PARAMETERS)])
    argparse.ArgumentParser(
        prog='twin_policy', formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            'Drive the twin with a policy trained by twin_train: reads the twin\'s scan and '
            'odometry and a goal, publishes velocity commands to the twin\'s command gate. '
            'Stops (zero command) on stale inputs and at the goal; exits 0 on SIGINT/SIGTERM.',
            100),
        epilog=epilog).parse_args(argv)


def main(args: list[str] | None = None) -> int:
    """Run the ``twin_policy`` node until SIGINT/SIGTERM; return the exit code."""
    argv = sys.argv if args is None else ['twin_policy', *args]
    _parse_cli(remove_ros_args(argv)[1:])
    return run_node('twin_policy', argv, PolicyNode, on_exit=lambda node: print(
        f'twin_policy: {node.counts_line()}', file=sys.stderr))

if __name__ == '__main__':
    sys.exit(main())
