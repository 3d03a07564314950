"""``twin_scenario_controller``: a scenario's script or a Python controller as a ROS node.

Publishes the command of a scenario file (its ``commands`` script or ``controller``) or of a
controller entry point on ``cmd_vel`` every period, and the scenario's e-stop events on
``e_stop``; time 0 is the robot's first odometry. A controller gets an
:class:`~twin_bridge.scenarios.controllers.Observation` from the newest ``odom`` and ``scan``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap
import time

from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
import rclpy
from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Bool

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.errors import ConfigError
from twin_bridge.ros.conversions import ns_to_time, odometry_from_msg, scan_from_msg, set_twist
from twin_bridge.ros.qos import qos_profile
from twin_bridge.ros.shutdown import run_node
from twin_bridge.scenarios.controllers import Observation, load_controller
from twin_bridge.scenarios.loader import load_scenario
from twin_bridge.scenarios.scenario_driver import ScenarioDriver
from twin_bridge.twin.node_config import parameter_help

#: name -> (default, help); the single source for declare_parameter and ``--help``.
PARAMETERS: dict[str, tuple[object, str]] = {
    'scenario': ('', 'scenario YAML file: its commands script or controller, goal, e-stops, '
                     'duration and period'),
    'controller': ('', "controller entry point 'package.module:function' (instead of the "
                       "scenario's)"),
    'controller_args': ('', 'JSON object: keyword arguments for the controller factory'),
    'goal_x': (math.nan, "goal x for the controller (NaN: the scenario's goal)"),
    'goal_y': (math.nan, 'goal y'),
    'period': (0.0, "command period in s (0: the scenario's control_period, else 0.1)"),
    'cmd_vel_topic': ('cmd_vel', 'where the commands go'),
    'cmd_vel_stamped': (False, 'publish geometry_msgs/TwistStamped'),
    'odom_topic': ('odom', "the robot's odometry (time 0 is its first message)"),
    'scan_topic': ('scan', "the robot's scan for the controller ('' = none)"),
    'e_stop_topic': ('e_stop', 'where the scenario\'s e-stop events go (std_msgs/Bool)'),
    'exit_when_done': (False, "exit (code 0) after the scenario's duration"),
    'wait_for_subscribers': (1, 'start the clock only once cmd_vel (and e_stop, when the '
                                'scenario has e-stops) has this many subscribers, so nothing '
                                'is lost to discovery (e.g. 2: the robot and a recorder; 0: '
                                'do not wait)'),
}


#: How often due e-stop events are looked for (s).
_EVENT_PERIOD = 0.01


class ScenarioControllerNode(Node):
    """Runs a :class:`ScenarioDriver` on a timer (see the module doc)."""

    def __init__(self) -> None:
        super().__init__('scenario_controller')
        p = {name: self.declare_parameter(name, default).value
             for name, (default, _) in PARAMETERS.items()}
        scenario = load_scenario(p['scenario']) if p['scenario'] else None
        controller = None
        if p['controller']:
            try:
                args = json.loads(p['controller_args']) if p['controller_args'] else None
            except json.JSONDecodeError as exc:
                raise ConfigError(f'controller_args: not JSON: {exc}') from exc
            if args is not None and not isinstance(args, dict):
                raise ConfigError('controller_args: expected a JSON object')
            controller = load_controller(p['controller'], args, 'controller')
        goal = (float(p['goal_x']), float(p['goal_y']))
        self._driver = ScenarioDriver(scenario, controller,
                                      goal if all(map(math.isfinite, goal)) else None)
        period = float(p['period']) or (scenario.run.control_period if scenario else 0.1)
        if not (math.isfinite(period) and period > 0):
            raise ConfigError(f'period: expected > 0, got {period}')
        self._stamped, self._exit = bool(p['cmd_vel_stamped']), bool(p['exit_when_done'])
        msg_type = TwistStamped if self._stamped else Twist
        self._msg = msg_type()
        self._pub = self.create_publisher(msg_type, p['cmd_vel_topic'],
                                          qos_profile('reliable', 10))
        # Latched like an e-stop button's publisher: a late subscriber still gets the events.
        self._e_stop_pub = self.create_publisher(Bool, p['e_stop_topic'], QoSProfile(
            history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL))
        self._odom: tuple[tuple[float, float, float], tuple[float, float]] | None = None
        self._scan: ScanData | None = None
        self._start: float | None = None
        self.create_subscription(Odometry, p['odom_topic'], self._on_odom,
                                 qos_profile_sensor_data)
        if p['scan_topic']:
            self.create_subscription(LaserScan, p['scan_topic'], self._on_scan,
                                     qos_profile_sensor_data)
        self._wait = int(p['wait_for_subscribers'])
        if self._wait < 0:
            raise ConfigError(f'wait_for_subscribers: expected >= 0, got {self._wait}')
        self._needs_e_stop = bool(scenario and scenario.events.e_stop)
        self.create_timer(period, self._tick)
        self.create_timer(_EVENT_PERIOD, self._events)   # e-stops on time, between commands
        self.done = False
        #: Commands published, controller outputs that were not two finite numbers.
        self.counts = {'commands': 0, 'bad': 0, 'e_stop_events': 0}
        self.get_logger().info(
            f'{"scenario " + scenario.name if scenario else p["controller"]}: commands on '
            f'{self.resolve_topic_name(p["cmd_vel_topic"])} every {period:g} s, from the '
            f'first {self.resolve_topic_name(p["odom_topic"])}')

    def _on_odom(self, msg: Odometry) -> None:
        s = odometry_from_msg(msg)
        pose = (float(s.position[0]), float(s.position[1]), float(yaw_from_quat(s.orientation)))
        if all(math.isfinite(v) for v in pose):
            self._odom = (pose, (float(s.linear_velocity[0]), float(s.angular_velocity[2])))
            if self._start is None and self._listened_to():
                self._start = time.monotonic()

    def _listened_to(self) -> bool:
        return self._pub.get_subscription_count() >= self._wait and (
            not self._needs_e_stop or self._e_stop_pub.get_subscription_count() >= self._wait)

    def _on_scan(self, msg: LaserScan) -> None:
        try:
            self._scan = scan_from_msg(msg)
        except ValueError:
            self._scan = None

    def _publish_e_stops(self, events: tuple[bool, ...], t: float) -> None:
        for engaged in events:
            self._e_stop_pub.publish(Bool(data=engaged))
            self.counts['e_stop_events'] += 1
            self.get_logger().info(f'e-stop {"ENGAGED" if engaged else "released"} at '
                                   f'{t:.2f} s')

    def _events(self) -> None:
        if self._start is not None:
            t = time.monotonic() - self._start
            self._publish_e_stops(self._driver.events_due(t), t)

    def _tick(self) -> None:
        if self._start is None or self._odom is None:
            return
        t = time.monotonic() - self._start
        obs = Observation(t, *self._odom, self._scan, self._driver.goal)
        step = self._driver.step(t, obs)
        self._publish_e_stops(step.e_stops, t)   # before the command, as the harness does
        self.counts['bad'] += int(step.bad)
        if self._stamped:
            self._msg.header.stamp = ns_to_time(time.time_ns())
        set_twist(self._msg.twist if self._stamped else self._msg, *step.command)
        self._pub.publish(self._msg)
        self.counts['commands'] += 1
        if t >= self._driver.duration and self._exit:
            self.done = True


def _parse_cli(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog='twin_scenario_controller', formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "A scenario's script or a Python controller as a ROS node: publishes cmd_vel "
            "each period and the scenario's e-stop events, from the robot's first odometry. "
            'Stops cleanly (exit 0) on SIGINT/SIGTERM.', 100),
        epilog='\n'.join(['ROS parameters (set with --ros-args -p name:=value), default in ():',
                          *parameter_help(PARAMETERS)]))
    parser.parse_args(argv)


def main(args: list[str] | None = None) -> int:
    """Run the node until done (``exit_when_done``) or SIGINT/SIGTERM; return the exit code."""
    argv = sys.argv if args is None else ['twin_scenario_controller', *args]
    _parse_cli(remove_ros_args(argv)[1:])

    def spin(node: ScenarioControllerNode) -> None:
        while rclpy.ok() and not node.done:
            rclpy.spin_once(node, timeout_sec=0.1)

    return run_node('twin_scenario_controller', argv, ScenarioControllerNode, spin=spin,
                    on_exit=lambda node: print(f'twin_scenario_controller: {node.counts}',
                                               file=sys.stderr))

if __name__ == '__main__':
    sys.exit(main())
