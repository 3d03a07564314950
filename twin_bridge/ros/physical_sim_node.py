"""The stand-in physical robot: scripted joint_states and odom (and optionally scan) over DDS."""

from __future__ import annotations

import argparse
import sys
import textwrap
import threading
import time
from typing import Any

from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
import rclpy
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.core.name_value import parse_name_value_args
from twin_bridge.description.robot_description import (
    RobotDescription,
    default_robot_path,
    load_robot_description,
)
from twin_bridge.errors import ConfigError
from twin_bridge.ros.conversions import (
    ns_to_time,
    scan_to_msg,
    set_odometry_state,
    twist_command,
)
from twin_bridge.ros.qos import qos_profile
from twin_bridge.ros.shutdown import run_node
from twin_bridge.stand_in.cmd_vel_motion import CmdVelBase
from twin_bridge.stand_in.faults import FaultInjector, fault_help, parse_faults
from twin_bridge.stand_in.motion_profiles import (
    CMD_VEL_MOTION,
    MAX_RATE_HZ,
    MOTIONS,
    DiffDriveGeometry,
    MeasurementNoise,
    make_motion,
)
from twin_bridge.stand_in.pacing import PeriodicSchedule
from twin_bridge.twin.node_config import parameter_help

#: name -> (default, help); the single source for declare_parameter and ``--help``.
PARAMETERS: dict[str, tuple[object, str]] = {
    'joint_states_rate': (100.0, f'joint_states rate in Hz (0 = off, up to {MAX_RATE_HZ:.0f})'),
    'odom_rate': (50.0, f'odom rate in Hz (0 = off, up to {MAX_RATE_HZ:.0f})'),
    'motion': ('figure_eight', f'scripted motion: {" | ".join(MOTIONS)}; or {CMD_VEL_MOTION}: '
                               'follow the velocity commands on cmd_vel_topic with the '
                               'dynamics below'),
    'speed': (0.3, 'figure-eight forward speed in m/s (the figure grows with it; at 0.3 it '
                   'stays clear of the shipped worlds\' obstacles)'),
    'period': (20.0, 'seconds per figure-eight'),
    'sweep_period': (8.0, 'seconds per pan/arm sweep'),
    'noise_stddev': (0.0, 'Gaussian noise on published positions (m, rad)'),
    'seed': (0, 'seed of the noise generator (and of the scan noise)'),
    'publish_scan': (False, 'also publish this robot\'s own scan from a second embedded world'),
    'world': ('warehouse', 'world for publish_scan: a shipped world name or an SDF path'),
    'robot_description_file': ('', 'robot xacro/URDF ("" = the package default robot)'),
    'robot_description_args': ([''], 'xacro args as name:=value strings'),
    'wheel_radius': (0.06, 'wheel radius in m (diff-drive kinematics)'),
    'wheel_separation': (0.32, 'distance between the wheels in m'),
    'odom_frame': ('odom', 'odometry frame id'),
    'base_frame': ('base_link', 'odometry child frame id'),
    'joint_states_topic': ('joint_states', 'output topic for sensor_msgs/JointState'),
    'odom_topic': ('odom', 'output topic for nav_msgs/Odometry'),
    'scan_topic': ('scan', 'output topic for sensor_msgs/LaserScan (publish_scan)'),
    'qos_depth': (10, 'history depth of the publishers'),
    'faults': ([''], 'faults to inject, each KIND:KEY=VALUE,... (see "Faults" below)'),
    'cmd_vel_topic': ('cmd_vel', f'motion {CMD_VEL_MOTION}: the commands followed '
                                 '(geometry_msgs/Twist, TwistStamped with cmd_vel_stamped)'),
    'cmd_vel_stamped': (False, f'motion {CMD_VEL_MOTION}: commands are TwistStamped'),
    'start_x': (0.0, f'motion {CMD_VEL_MOTION}: start x in the odom frame (m)'),
    'start_y': (0.0, f'motion {CMD_VEL_MOTION}: start y (m)'),
    'start_yaw': (0.0, f'motion {CMD_VEL_MOTION}: start heading (rad)'),
    'response_time': (0.05, f'motion {CMD_VEL_MOTION}: first-order time constant of the '
                            'twist (s)'),
    'max_linear_accel': (3.0, f'motion {CMD_VEL_MOTION}: m/s^2'),
    'max_angular_accel': (6.0, f'motion {CMD_VEL_MOTION}: rad/s^2'),
    'command_timeout': (0.5, f'motion {CMD_VEL_MOTION}: a command older than this is zero '
                             '(s)'),
}
_WARN_THROTTLE_S = 2.0


class PhysicalSimNode(Node):
    """Publishes a scripted robot's state at configurable rates from one pacing thread.

    Stamps are wall-clock time taken right before each publish, so a subscriber's receive
    time minus the header stamp is the transport (plus processing) latency.
    """

    def __init__(self) -> None:
        super().__init__('physical_sim')
        p = {name: self.declare_parameter(name, default).value
             for name, (default, _) in PARAMETERS.items()}
        rates = {'joint_states': float(p['joint_states_rate']), 'odom': float(p['odom_rate'])}
        for name, rate in rates.items():
            if not 0.0 <= rate <= MAX_RATE_HZ:
                raise ValueError(f'{name}_rate must be within 0..{MAX_RATE_HZ:.0f} Hz, got {rate}')
        xacro_args = parse_name_value_args(p['robot_description_args'], 'robot_description_args')
        robot = load_robot_description(p['robot_description_file'] or default_robot_path(),
                                       xacro_args or None)
        joints = [(j.name, j.lower, j.upper) for j in map(robot.joint, robot.movable_joint_names)]
        faults = parse_faults(p['faults'], int(p['seed']), 'faults')
        self._base = None
        if p['motion'] == CMD_VEL_MOTION:
            self._base = self._follow_commands(p, faults, robot.movable_joint_names,
                                               robot.wheel_joint_names)
        self._motion = make_motion(
            p['motion'], joints, robot.wheel_joint_names, speed=float(p['speed']),
            period=float(p['period']), sweep_period=float(p['sweep_period']),
            geometry=DiffDriveGeometry(float(p['wheel_radius']), float(p['wheel_separation'])),
            base=self._base)
        self._noise = MeasurementNoise(float(p['noise_stddev']), int(p['seed']))
        self._faults = FaultInjector(faults, self._motion.joint_names, robot.wheel_joint_names)
        if self._faults.scan_faults and not p['publish_scan']:
            raise ConfigError(f'faults: {self._faults.scan_faults[0].describe()} changes the '
                              'scan; set publish_scan:=true')

        state_qos = qos_profile('reliable', int(p['qos_depth']))
        self._joint_pub = self.create_publisher(JointState, p['joint_states_topic'], state_qos)
        self._odom_pub = self.create_publisher(Odometry, p['odom_topic'], state_qos)
        self._joint_msg = JointState()
        self._joint_msg.name = list(self._motion.joint_names)
        self._odom_msg = Odometry()
        self._odom_msg.header.frame_id = p['odom_frame']
        self._odom_msg.child_frame_id = p['base_frame']

        self._start = time.monotonic()
        self._schedule = PeriodicSchedule(self._start)
        self._emitters = {'joint_states': self._publish_joint_state,
                            'odom': self._publish_odometry}
        for name, rate in rates.items():
            if rate > 0:
                self._schedule.add(name, rate)
        self._scanner = None
        if p['publish_scan']:
            self._setup_scan(p, robot)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='physical_sim_pacer',
                                        daemon=True)
        if len(self._schedule):
            self._thread.start()
        self.get_logger().info(
            f'publishing {self._motion.joint_names} motion={p["motion"]} '
            f'joint_states={rates["joint_states"]} Hz odom={rates["odom"]} Hz'
            f'{" + scan" if self._scanner else ""}')
        for fault in self._faults.faults:
            self.get_logger().info(f'injecting fault {fault.describe()} from t={fault.at:g} s')

    def _follow_commands(self, p: dict[str, Any], faults: list, joint_names: tuple[str, ...],
                         wheels: tuple[str, str] | None) -> CmdVelBase:
        """The base that follows ``cmd_vel_topic`` (a ``wheel_slip`` makes it lag its
        wheels: they follow the command, the base moves 1 / factor as far)."""
        slips = FaultInjector(faults, joint_names, wheels)
        base = CmdVelBase((float(p['start_x']), float(p['start_y']), float(p['start_yaw'])),
                          response_time=float(p['response_time']),
                          max_linear_accel=float(p['max_linear_accel']),
                          max_angular_accel=float(p['max_angular_accel']),
                          command_timeout=float(p['command_timeout']),
                          slip=lambda t: 1.0 / slips.wheel_slip(t))
        self._stamped = bool(p['cmd_vel_stamped'])
        self.create_subscription(TwistStamped if self._stamped else Twist, p['cmd_vel_topic'],
                                 self._on_command, qos_profile('sensor_data',
                                                               int(p['qos_depth'])))
        self.get_logger().info(f'following the commands on '
                               f'{self.resolve_topic_name(p["cmd_vel_topic"])}')
        return base

    def _on_command(self, msg: Any) -> None:
        linear, angular = twist_command(msg.twist if self._stamped else msg)
        if self._base is not None and not self._base.command(
                linear, angular, time.monotonic() - self._start):
            self.get_logger().warning('rejected a non-finite command (counted)',
                                      throttle_duration_sec=_WARN_THROTTLE_S)

    def _setup_scan(self, p: dict[str, Any], robot: RobotDescription) -> None:
        from twin_bridge.stand_in.fault_scan import FaultyScanner  # mujoco only when needed
        scanner = FaultyScanner(p['world'], robot, self._faults, seed=int(p['seed']))
        if scanner.lidar is None:
            scanner.close()
            if self._faults.scan_faults:
                raise ConfigError('faults: the robot has no lidar, so no scan to fault')
            self.get_logger().warning('publish_scan: the robot has no lidar; no scan published')
            return
        self._scanner = scanner
        self._scan_pub = self.create_publisher(LaserScan, p['scan_topic'],
                                               qos_profile_sensor_data)
        self._schedule.add('scan', scanner.lidar.update_rate)
        self._emitters['scan'] = self._publish_scan

    def _run(self) -> None:
        """The pacing loop: sleep until the next deadline, publish, repeat."""
        try:
            while not self._stop.is_set():
                name, due = self._schedule.next_due()
                delay = due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                self._emitters[name](time.monotonic() - self._start)
                self._schedule.done(name, time.monotonic())
        except Exception as exc:  # the context may be shut down under us
            if not self._stop.is_set() and rclpy.ok(context=self.context):
                self.get_logger().error(f'publishing stopped: {exc!r}')

    def _publish_joint_state(self, t: float) -> None:
        sample = self._noise.joint_state(self._faults.joint_state(self._motion.joint_state(t), t))
        msg = self._joint_msg
        msg.position = sample.positions.tolist()
        msg.velocity = sample.velocities.tolist()
        msg.header.stamp = ns_to_time(time.time_ns())
        self._joint_pub.publish(msg)

    def _publish_odometry(self, t: float) -> None:
        sample = self._noise.odometry(self._faults.odometry(self._motion.odometry(t), t))
        msg = self._odom_msg
        set_odometry_state(msg, sample)
        msg.header.stamp = ns_to_time(time.time_ns())
        self._odom_pub.publish(msg)

    def _publish_scan(self, t: float) -> None:
        # The scan sees the true (noise-free) pose; its own noise comes from the lidar model,
        # its faults from the scanner.
        scan = self._scanner.scan(t, self._motion.odometry(t), self._motion.joint_state(t))
        if scan is None:
            return
        msg = scan_to_msg(scan, time.time_ns())
        self._scan_pub.publish(msg)

    def published(self, name: str) -> int:
        """Messages published so far on stream ``name`` ('joint_states', 'odom', 'scan')."""
        return self._schedule.ticks(name)

    def counts_line(self) -> str:
        """Published and skipped (loop fell behind) messages per stream, for the exit log."""
        return ', '.join(f'{name}={self._schedule.ticks(name)} (skipped '
                         f'{self._schedule.skipped(name)})' for name in self._emitters
                         if name in self._schedule)

    def stop(self) -> None:
        """Stop the pacing thread and release the scan worlds."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        if self._scanner is not None:
            self._scanner.close()
            self._scanner = None


def _parse_cli(argv: list[str]) -> None:
    epilog = '\n'.join([
        'ROS parameters (set with --ros-args -p name:=value), default in ():',
        *parameter_help(PARAMETERS), '',
        'Faults, e.g. -p "faults:=[\'lidar_yaw:deg=2,at=5\', \'range_bias:m=0.05\']": each',
        'KIND:KEY=VALUE,... is on from at=T s after start (default 0); seed=N seeds it (default',
        'seed + its index). The true motion goes on (the scan is cast from it); only what is',
        'published is off. Kinds (KEY=UPPER: required):',
        *fault_help()])
    parser = argparse.ArgumentParser(
        prog='physical_sim', formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            'A stand-in physical robot: publishes joint_states and odom (frame odom -> '
            'base_link) from a scripted motion with wall-clock stamps; optionally its own '
            'scan. Stops cleanly (exit 0) on SIGINT/SIGTERM.', 100),
        epilog=epilog)
    parser.parse_args(argv)


def main(args: list[str] | None = None) -> int:
    """Run the ``physical_sim`` node until SIGINT/SIGTERM; return the exit code."""
    argv = sys.argv if args is None else ['physical_sim', *args]
    _parse_cli(remove_ros_args(argv)[1:])

    def stop(node: PhysicalSimNode) -> None:
        node.stop()
        print(f'physical_sim: published {node.counts_line()}', file=sys.stderr)

    return run_node('physical_sim', argv, PhysicalSimNode, on_exit=stop)

if __name__ == '__main__':
    sys.exit(main())
