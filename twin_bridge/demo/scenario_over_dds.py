"""A safety scenario through the real twin node over DDS, checked like the embedded harness.

Processes: the stand-in robot (``physical_sim``, ``motion: cmd_vel``, at the scenario's start
in its world, publishing odometry and scans), the twin node (``twin_bridge``, gate on,
``forward_commands: true`` with ``forward_topic`` the stand-in's command input: the only
way commands reach the robot) and the scenario's controller (``twin_scenario_controller``:
its script or controller on ``cmd_vel``, its e-stops on ``e_stop``). This process watches
the stand-in's odometry (the truth), the gated commands on ``virtual/cmd_vel_safe``, the
e-stops and the ``twin safety`` status, builds a
:class:`~twin_bridge.scenarios.trace.Trace` (clearance from the robot's pose in the
scenario's world; time 0 at the first gated command) and checks the scenario's
expectations on it. The physical world is the world file: scenarios with ``obstacles``,
faults or stale-input events are refused (the stand-in cannot stage them).
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from pathlib import Path
import time
from typing import Any

import mujoco
import numpy as np

from twin_bridge.core.state import OdometrySample
from twin_bridge.demo.process_group import ProcessGroup
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.errors import ConfigError
from twin_bridge.scenarios.loader import load_scenario
from twin_bridge.scenarios.physical import RobotContacts, world_spec
from twin_bridge.scenarios.runner import ScenarioResult
from twin_bridge.scenarios.spec import Scenario
from twin_bridge.scenarios.trace import Trace
from twin_bridge.twin.safety.gate import REASONS, VERDICTS

__all__ = ['ROBOT_COMMAND_TOPIC', 'run_over_dds']

#: The stand-in's command input, where the twin forwards the gated commands.
ROBOT_COMMAND_TOPIC = 'robot/cmd_vel'
_SETTLE_S = 1.5   # after the controller is done: the robot stops, the last diagnostics arrive
_MATCH_S = 2.0   # for the pairs the graph shows to match (0.5 s was once too short)


def _check_supported(scenario: Scenario) -> None:
    s = scenario
    if s.obstacles or s.faults:
        raise ConfigError(f'{s.source}: over DDS the physical world is the world file: '
                          'obstacles and faults are not supported')
    if s.events.stale_scan or s.events.stale_odometry:
        raise ConfigError(f'{s.source}: events: stale inputs are not supported over DDS')


def _processes(scenario: Scenario, group: ProcessGroup, world: str) -> None:
    s = scenario
    robot = {'robot_description_file': s.robot} if s.robot else {}
    args = {'robot_description_args': [f'{k}:={v}' for k, v in s.robot_args.items()]} \
        if s.robot_args else {}
    group.spawn_node('physical_sim', 'twin_bridge.ros.physical_sim_node', {
        'motion': 'cmd_vel', 'cmd_vel_topic': ROBOT_COMMAND_TOPIC, 'start_x': s.start.x,
        'start_y': s.start.y, 'start_yaw': s.start.yaw, 'world': world, 'publish_scan': True,
        'seed': s.run.seed, **robot, **args})
    group.spawn_node('twin_bridge', 'twin_bridge.ros.bridge_node', {
        'world': world, 'gate': True, 'forward_commands': True,
        'forward_topic': ROBOT_COMMAND_TOPIC, 'stop_horizon': s.gate.stop_horizon,
        'safety_margin': s.gate.safety_margin, 'source_timeout': s.gate.source_timeout,
        'drift_check': False, 'prediction_rate': 0.0, 'ensemble_rate': 0.0, **robot, **args})


class _Watch:
    """What this process records from the topics (callbacks on one executor thread)."""

    def __init__(self) -> None:
        self.odometry: list[tuple[float, float, float, float, float, float]] = []
        self.commands: list[tuple[float, float]] = []      # the controller's latest
        self.gated: list[tuple[float, tuple[float, float], tuple[float, float]]] = []
        self.e_stops: list[float] = []
        self.safety: dict[str, str] = {}

    def on_odom(self, msg: Any) -> None:
        from twin_bridge.core.transforms import yaw_from_quat
        from twin_bridge.ros.conversions import odometry_from_msg

        s = odometry_from_msg(msg)
        self.odometry.append((time.monotonic(), float(s.position[0]), float(s.position[1]),
                              float(yaw_from_quat(s.orientation)),
                              float(s.linear_velocity[0]), float(s.angular_velocity[2])))

    def on_command(self, msg: Any) -> None:
        self.commands = [(msg.linear.x, msg.angular.z)]

    def on_gated(self, msg: Any) -> None:
        command = self.commands[0] if self.commands else (math.nan, math.nan)
        self.gated.append((time.monotonic(), command, (msg.linear.x, msg.angular.z)))

    def on_e_stop(self, msg: Any, info: Any) -> None:
        # When it was sent (the publisher's clock: this machine's), on the monotonic clock:
        # the subscription may have matched after the fact (the publisher is latched).
        if msg.data:
            sent = info.get('source_timestamp', 0) * 1e-9 or time.time()
            self.e_stops.append(sent - (time.time() - time.monotonic()))

    def on_diagnostics(self, msg: Any) -> None:
        for status in msg.status:
            if status.name == 'twin safety':
                self.safety = {kv.key: kv.value for kv in status.values}


def _watch(scenario: Scenario, source: str, group: ProcessGroup,
           startup_timeout: float) -> _Watch:
    from diagnostic_msgs.msg import DiagnosticArray
    from geometry_msgs.msg import Twist
    from nav_msgs.msg import Odometry
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import Bool

    from twin_bridge.ros.private_context import PrivateContext
    from twin_bridge.ros.qos import qos_profile

    watch = _Watch()
    dead = lambda: bool(group.dead())  # noqa: E731
    with PrivateContext('scenario_watch') as ros:
        node, best_effort = ros.node, qos_profile('sensor_data', 50)
        node.create_subscription(Odometry, 'odom', watch.on_odom, best_effort)
        node.create_subscription(Twist, 'cmd_vel', watch.on_command, best_effort)
        node.create_subscription(Twist, 'virtual/cmd_vel_safe', watch.on_gated, best_effort)
        node.create_subscription(Bool, 'e_stop', watch.on_e_stop, QoSProfile(
            history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE,
            durability=DurabilityPolicy.TRANSIENT_LOCAL))
        node.create_subscription(DiagnosticArray, '/diagnostics', watch.on_diagnostics, 10)
        # The twin is up once it reports its gate and the path to the robot is there (the
        # gate's forward publisher and the stand-in's subscription); then the controller.
        def ready() -> bool:
            return (bool(watch.safety) and bool(watch.odometry)
                    and node.count_publishers(ROBOT_COMMAND_TOPIC) > 0
                    and node.count_subscribers(ROBOT_COMMAND_TOPIC) > 0
                    and node.count_subscribers('cmd_vel') > 0)

        if not ros.spin_until(ready, startup_timeout, dead):
            raise ConfigError('scenario over DDS: the twin or the stand-in did not come up\n'
                              + '\n'.join(p.tail() for p in group.processes.values()))
        ros.spin_for(_MATCH_S)   # the pairs the graph shows also match each other
        controller = group.spawn_node('controller', 'twin_bridge.ros.scenario_controller_node',
                                      {'scenario': source, 'exit_when_done': True})
        limit = scenario.run.duration + startup_timeout
        ros.spin_until(lambda: not controller.running(), limit,
                       lambda: any(p is not controller for p in group.dead()))
        ros.spin_for(_SETTLE_S)
        if controller.returncode not in (0, None):
            raise ConfigError(f'scenario over DDS: the controller failed\n{controller.tail()}')
    return watch


def _trace(scenario: Scenario, watch: _Watch) -> Trace:
    if not watch.gated:
        raise ConfigError('scenario over DDS: no gated command came back on '
                          'virtual/cmd_vel_safe')
    t0 = watch.gated[0][0]
    robot = load_robot_description(scenario.robot or default_robot_path(),
                                   scenario.robot_args or None)
    physical = EmbeddedBackend(world_spec(scenario, True), robot, lidar_noise=False)
    try:
        contacts = RobotContacts(physical)
        trace = Trace()
        for t, x, y, yaw, v, w in watch.odometry:
            if t < t0:
                continue
            physical.mirror(OdometrySample(
                np.array([x, y, 0.0]), np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
                np.zeros(3), np.zeros(3), 0, 'odom', robot.root_link))
            mujoco.mj_kinematics(physical.model, physical.data)
            clearance = contacts.clearance()
            trace.sample(t - t0, (x, y, yaw), v, w, clearance,
                         'robot / world' if clearance <= 0.0 else '')
    finally:
        physical.close()
    for t, command, out in watch.gated:
        trace.command_tick(t - t0, command, out, '', '', math.nan)
    trace.e_stops = [t - t0 for t in watch.e_stops]
    trace.verdict_counts = _counts(watch.safety, VERDICTS, '')
    trace.reason_counts = _counts(watch.safety, REASONS, 'reason.')
    return trace.finish()


def _counts(values: Mapping[str, str], names: tuple[str, ...], prefix: str) -> dict[str, int]:
    out = {}
    for name in names:
        try:
            out[name] = int(values.get(prefix + name, '0'))
        except ValueError:
            out[name] = 0
    return out


def run_over_dds(path: str | Path, *, startup_timeout: float = 60.0,
                 log_dir: Path | None = None) -> ScenarioResult:
    """Run the scenario file at ``path`` through the twin node over DDS (see the module doc).

    :raise ConfigError: an unsupported scenario, processes that do not come up or fail
    """
    began = time.perf_counter()
    scenario = load_scenario(path)
    _check_supported(scenario)
    world = scenario.world
    with ProcessGroup(log_dir) as group:
        _processes(scenario, group, world)
        setup = time.perf_counter() - began
        began = time.perf_counter()
        watch = _watch(scenario, str(Path(path).resolve()), group, startup_timeout)
        group.stop_all()
    wall = time.perf_counter() - began
    trace = _trace(scenario, watch)
    checks = tuple(e.check(trace, scenario) for e in scenario.expectations)  # type: ignore[attr-defined]
    return ScenarioResult(scenario.name, scenario.source, scenario, trace, checks, wall, setup)
