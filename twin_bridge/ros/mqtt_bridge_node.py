"""``twin_mqtt``: robots that speak MQTT as ordinary ROS robots, and the twin's outputs back.

Per robot: ``<prefix>/<robot>/state`` (JSON) -> ``/<ns>/joint_states`` + ``/<ns>/odom``,
``<prefix>/<robot>/scan`` -> ``/<ns>/scan``; ``/<ns>/virtual/{odom,joint_states,scan}`` ->
``<prefix>/<robot>/virtual/...`` (JSON). Nothing else is sent to a robot: no commands, unless
``forward_commands`` is set (then also ``/<ns>/virtual/cmd_vel_safe``, the gated command).
The logic is in :mod:`twin_bridge.mqtt`.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.mqtt.bridge_config import PARAMETERS, MqttBridgeConfig, ros_topic
from twin_bridge.mqtt.robot_link import Received
from twin_bridge.mqtt.schema import VelocityCommand
from twin_bridge.mqtt.twin_adapter import MqttTwinAdapter
from twin_bridge.ros.conversions import (
    diagnostics_to_msg,
    joint_state_from_msg,
    joint_state_to_msg,
    odometry_from_msg,
    odometry_to_msg,
    scan_from_msg,
    scan_to_msg,
    time_to_ns,
)
from twin_bridge.ros.qos import qos_profile
from twin_bridge.ros.shutdown import run_node

WARN_THROTTLE_S = 5.0


class MqttBridgeNode(Node):
    """Publishes each MQTT robot's state on ROS and its twin's outputs on MQTT."""

    def __init__(self) -> None:
        super().__init__('twin_mqtt')
        values = {name: self.declare_parameter(name, default).value
                  for name, (default, _) in PARAMETERS.items()}
        self.config = config = MqttBridgeConfig.from_values(values)
        reliable = qos_profile('reliable', config.qos_depth)
        self._ros_outputs: dict[str, tuple] = {}
        for robot, ns in config.namespaces.items():
            self._ros_outputs[robot] = (
                self.create_publisher(JointState, ros_topic(ns, 'joint_states'), reliable),
                self.create_publisher(Odometry, ros_topic(ns, 'odom'), reliable),
                self.create_publisher(LaserScan, ros_topic(ns, 'scan'), qos_profile_sensor_data))
            self.create_subscription(Odometry, ros_topic(ns, 'virtual/odom'),
                                     lambda m, r=robot: self._send_odometry(r, m), reliable)
            self.create_subscription(JointState, ros_topic(ns, 'virtual/joint_states'),
                                     lambda m, r=robot: self._send_joint_states(r, m), reliable)
            self.create_subscription(LaserScan, ros_topic(ns, 'virtual/scan'),
                                     lambda m, r=robot: self._send_scan(r, m),
                                     qos_profile_sensor_data)
        self._diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._loggers = {robot: self.get_logger().get_child(robot) for robot in config.robots}
        self.adapter = MqttTwinAdapter(
            config.broker, config.prefix, config.robots, on_received=self._received,
            state_qos=config.state_qos, stale_timeout=config.stale_timeout,
            client_id=config.client_id, log=self.get_logger().info,
            forward_commands=config.forward_commands)
        if config.forward_commands:
            self._forward_commands(reliable)
        self.create_timer(config.diagnostics_period, self._check_health)
        self.adapter.start()
        self.get_logger().info(
            f'MQTT {config.broker.describe()} prefix {config.prefix!r}: '
            + ', '.join(f'{r} <-> {ns}' for r, ns in config.namespaces.items())
            + ('' if config.forward_commands else
               '; only virtual/* state goes to the robots (no commands)'))

    def _forward_commands(self, qos: object) -> None:
        """Subscribe every robot's gated command, to be sent on to the robot over MQTT."""
        stamped = self.config.cmd_vel_stamped
        msg_type = TwistStamped if stamped else Twist
        for robot, ns in self.config.namespaces.items():
            self.create_subscription(msg_type, ros_topic(ns, 'virtual/cmd_vel_safe'),
                                     lambda m, r=robot: self._send_command(r, m), qos)
        self.get_logger().warning(
            '!!! forward_commands is TRUE: the twin\'s gated command (virtual/cmd_vel_safe) '
            f'of every robot is sent on {self.config.prefix}/<robot>/virtual/cmd_vel_safe FOR '
            'THE PHYSICAL ROBOTS. It moves a robot that acts on it. !!!')

    def _received(self, received: Received) -> None:
        """A robot's message (on the MQTT thread): publish it, or log why it was rejected."""
        try:
            self._publish(received)
        except Exception as exc:  # the context may be shut down under the MQTT thread
            if rclpy.ok(context=self.context):
                self.get_logger().error(f'{received.robot}: cannot publish: {exc!r}',
                                        throttle_duration_sec=WARN_THROTTLE_S)

    def _publish(self, received: Received) -> None:
        joint_pub, odom_pub, scan_pub = self._ros_outputs[received.robot]
        logger = self._loggers[received.robot]
        if received.rejected is not None:
            logger.warning(f'{received.stream} rejected: {received.rejected}',
                           throttle_duration_sec=WARN_THROTTLE_S)
            return
        if received.recovered:
            logger.info(f'{received.stream} recovered')
        if received.state is not None:
            joints, odometry = received.state.joints, received.state.odometry
            if joints is not None:
                joint_pub.publish(joint_state_to_msg(joints))
            if odometry is not None:
                odom_pub.publish(odometry_to_msg(odometry, odometry.frame_id,
                                                 odometry.child_frame_id))
        if received.scan is not None:
            scan_pub.publish(scan_to_msg(received.scan, received.scan.stamp_ns))

    def _send_odometry(self, robot: str, msg: Odometry) -> None:
        self._send(robot, self.adapter.send_odometry, odometry_from_msg(msg))

    def _send_joint_states(self, robot: str, msg: JointState) -> None:
        self._send(robot, self.adapter.send_joint_states, joint_state_from_msg(msg))

    def _send_scan(self, robot: str, msg: LaserScan) -> None:
        scan = scan_from_msg(msg)
        self._send(robot, lambda r, s: self.adapter.send_scan(r, s, s.stamp_ns), scan)

    def _send_command(self, robot: str, msg: Twist | TwistStamped) -> None:
        twist = msg.twist if isinstance(msg, TwistStamped) else msg
        stamp = time_to_ns(msg.header.stamp) if isinstance(msg, TwistStamped) else 0
        lin, ang = twist.linear, twist.angular
        command = VelocityCommand(np.array([lin.x, lin.y, lin.z]), np.array([ang.x, ang.y, ang.z]),
                                  stamp or time.time_ns())
        self._send(robot, self.adapter.send_command, command)

    def _send(self, robot: str, send: object, sample: object) -> None:
        try:
            send(robot, sample)
        except ValueError as exc:  # a NaN in the twin's output: JSON has no NaN
            self._loggers[robot].warning(f'not sent over MQTT: {exc}',
                                         throttle_duration_sec=WARN_THROTTLE_S)

    def _check_health(self) -> None:
        now = time.monotonic()
        for robot, stream in self.adapter.poll(now):
            self._loggers[robot].warning(f'{stream} stale (no good message for '
                                         f'{self.config.stale_timeout:g} s, or broker away)')
        self._diagnostics.publish(diagnostics_to_msg(self.adapter.statuses(now), time.time_ns(),
                                                     self.get_name(), prefix='twin_mqtt'))

    def stop(self) -> None:
        """Say offline on MQTT, disconnect, and log what went through."""
        self.adapter.stop()
        self.get_logger().info('summary:\n  ' + '\n  '.join(
            self.adapter.summary_lines(time.monotonic())))


def _parse_cli(argv: list[str]) -> None:
    epilog = None
    if '-h' in argv or '--help' in argv:  # node_config imports the simulator: only for help
        from twin_bridge.twin.node_config import parameter_help
        epilog = '\n'.join(['ROS parameters (set with --ros-args -p name:=value), default in ():',
                            *parameter_help(PARAMETERS)])
    parser = argparse.ArgumentParser(
        prog='twin_mqtt', formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            'Robots that speak MQTT as ROS robots: each robot\'s JSON state on '
            '<prefix>/<robot>/state becomes /<ns>/joint_states and /<ns>/odom (its scan on '
            '<prefix>/<robot>/scan becomes /<ns>/scan), and the twin\'s /<ns>/virtual/odom, '
            'virtual/joint_states and virtual/scan go back as JSON on '
            '<prefix>/<robot>/virtual/... (odom and joint_states retained, QoS 1). No '
            'commands are sent to the robots unless forward_commands is true (then also the '
            'twin\'s gated virtual/cmd_vel_safe). Parameters also in config/twin_mqtt.yaml.',
            100),
        epilog=epilog)
    parser.parse_args(argv)


def main(args: list[str] | None = None) -> int:
    """Run ``twin_mqtt`` until SIGINT/SIGTERM; return the exit code."""
    argv = sys.argv if args is None else ['twin_mqtt', *args]
    _parse_cli(remove_ros_args(argv)[1:])
    return run_node('twin_mqtt', argv, MqttBridgeNode, on_exit=MqttBridgeNode.stop)

if __name__ == '__main__':
    sys.exit(main())
