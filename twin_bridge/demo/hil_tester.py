"""Hardware-in-the-loop: one controller on the physical robot and on the twin, compared.

:class:`HardwareInLoopTester` drives the physical robot with a controller over DDS (the
stand-in ``physical_sim`` in ``motion: cmd_vel``, started here; a real robot only with
``live=True``), records its odometry and the time-stamped commands, then drives the twin's
dynamics (:class:`~twin_bridge.scenarios.hil_twin.TwinDynamics`) from the same start pose
with the same commands and compares the two trajectories aligned by time
(:func:`~twin_bridge.scenarios.hil_compare.compare`).

A controller is a Python callable taking an
:class:`~twin_bridge.scenarios.controllers.Observation` and returning ``(v, w)``, an entry
point ``'package.module:function'``, or a ROS node given as a command line (a list of
strings) that publishes on the robot's ``cmd_vel``: it is started here, after the robot is up,
and its commands are recorded as they arrive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import os
from pathlib import Path
from typing import Any

from twin_bridge.demo.process_group import ProcessGroup
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.errors import ConfigError
from twin_bridge.ros.hil_driver import HilDriver, HilRecording
from twin_bridge.scenarios.controllers import Controller, load_controller
from twin_bridge.scenarios.hil_compare import (
    CommandLog,
    HilComparison,
    HilThresholds,
    Trajectory,
    compare,
)
from twin_bridge.scenarios.hil_report import write_report
from twin_bridge.scenarios.hil_twin import TwinDynamics

__all__ = ['HardwareInLoopTester', 'HilResult', 'run_hil']


@dataclass
class HilResult:
    """A run's outcome: the comparison, both trajectories, the commands, the recording and
    where the report went (``None`` without an output directory)."""

    comparison: HilComparison
    physical: Trajectory
    twin: Trajectory
    commands: CommandLog
    recording: HilRecording
    report: tuple[Path, Path] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``'validated'`` or ``'mismatch'``."""
        return self.comparison.verdict


class HardwareInLoopTester:
    """Compare a controller on the physical robot with the same commands in the twin.

    :param world: the twin's world (shipped name or SDF path; also the stand-in's scan world)
    :param robot_description_file: the robot (``None``: the package's)
    :param start: the stand-in's start pose ``(x, y, yaw)`` (odom = world frame)
    :param goal: ``(x, y)`` given to the controller, for the times to goal
    :param tolerance: goal tolerance (m)
    :param duration: driving time (s)
    :param control_period: a Python controller's command period (s)
    :param thresholds: what validates
    :param live: drive a real robot already running on the topics below; without it the
        stand-in is started and nothing is sent anywhere else
    :param stand_in: extra ``physical_sim`` parameters (e.g. ``{'faults': [...]}``)
    :param output: directory for ``report.json`` and ``report.png`` (``None``: none)
    :param startup_timeout: how long to wait for the robot's odometry (s)
    """

    def __init__(self, world: str = 'warehouse', robot_description_file: str | None = None,
                 *, start: tuple[float, float, float] = (0.0, 0.0, 0.0),
                 goal: tuple[float, float] | None = None, tolerance: float = 0.25,
                 duration: float = 8.0, control_period: float = 0.1,
                 thresholds: HilThresholds | None = None, live: bool = False,
                 cmd_vel_topic: str = 'cmd_vel', odom_topic: str = 'odom',
                 scan_topic: str = 'scan', stamped: bool = False,
                 stand_in: Mapping[str, Any] | None = None, output: str | Path | None = None,
                 startup_timeout: float = 60.0) -> None:
        if not (duration > 0 and control_period > 0):
            raise ConfigError('HIL: duration and control_period must be > 0')
        self.world, self.robot_file = world, robot_description_file
        self.start, self.goal, self.tolerance = start, goal, float(tolerance)
        self.duration, self.control_period = float(duration), float(control_period)
        self.thresholds = thresholds or HilThresholds()
        self.live, self.stamped = live, stamped
        self.topics = (cmd_vel_topic, odom_topic, scan_topic)
        self.stand_in = dict(stand_in or {})
        self.output = None if output is None else Path(output)
        self.startup_timeout = float(startup_timeout)
        self._twin: TwinDynamics | None = None

    def _twin_dynamics(self) -> TwinDynamics:
        if self._twin is None:
            robot = load_robot_description(self.robot_file or default_robot_path())
            self._twin = TwinDynamics(self.world, robot)
        return self._twin

    def _stand_in_params(self) -> dict[str, Any]:
        cmd, odom, scan = self.topics
        params: dict[str, Any] = {
            'motion': 'cmd_vel', 'cmd_vel_topic': cmd, 'cmd_vel_stamped': self.stamped,
            'odom_topic': odom, 'scan_topic': scan or 'scan', 'world': self.world,
            'start_x': float(self.start[0]), 'start_y': float(self.start[1]),
            'start_yaw': float(self.start[2]), 'publish_scan': bool(scan)}
        if self.robot_file:
            params['robot_description_file'] = self.robot_file
        params.update(self.stand_in)
        return params

    def test_control_algorithm(self, controller: Controller | str | Sequence[str],
                               controller_args: dict[str, object] | None = None
                               ) -> HilResult:
        """Run ``controller`` on the physical robot, then its commands in the twin, and
        compare (see the module doc).

        :raise ConfigError: a controller that does not load, a robot that never publishes
            odometry, a run without commands or odometry to compare
        """
        kind, control = _controller(controller, controller_args)
        self._twin_dynamics()  # load the twin first: a bad world fails before the robot moves
        with ProcessGroup() as group:
            if not self.live:
                group.spawn_node('physical_sim', 'twin_bridge.ros.physical_sim_node',
                                 self._stand_in_params())
            recording = self._drive(group, kind, control)
            group.stop_all()
        return self._compare(recording, kind)

    def _drive(self, group: ProcessGroup, kind: str, control: Any) -> HilRecording:
        with HilDriver(*self.topics, stamped=self.stamped) as driver:
            dead = lambda: bool(group.dead())  # noqa: E731
            if not driver.wait_for_odometry(self.startup_timeout, dead):
                tails = '\n'.join(p.tail() for p in group.processes.values())
                raise ConfigError(f'HIL: no odometry on {self.topics[1]} within '
                                  f'{self.startup_timeout:g} s\n{tails}'.rstrip())
            if kind == 'python':
                return driver.drive(control, self.duration, self.control_period, self.goal,
                                    dead)
            group.spawn('controller', list(control), env=dict(os.environ))
            return driver.listen(self.duration, self.startup_timeout, dead)

    def _compare(self, recording: HilRecording, kind: str) -> HilResult:
        if len(recording.odometry) < 2 or not recording.commands:
            raise ConfigError(f'HIL: nothing to compare ({len(recording.odometry)} odometry '
                              f'samples, {len(recording.commands)} commands)')
        physical, commands = recording.trajectory(), recording.command_log()
        t0 = float(commands.t[0])
        x, y, yaw = (float(v) for v in physical.at(t0))
        twin = self._twin_dynamics().run(commands, (x, y, yaw), physical.end, start=t0)
        comparison = compare(physical, twin, thresholds=self.thresholds, goal=self.goal,
                             tolerance=self.tolerance, start=t0)
        meta = {'world': self.world, 'robot': self.robot_file or str(default_robot_path()),
                'physical': 'live robot' if self.live else 'physical_sim (motion cmd_vel)',
                'stand_in': {k: v for k, v in self.stand_in.items()},
                'controller': kind, 'start_pose': [x, y, yaw],
                'goal': list(self.goal) if self.goal else None,
                'commands_recorded': len(recording.commands),
                'odometry_samples': len(recording.odometry),
                'bad_controller_outputs': recording.bad_commands}
        report = None
        if self.output is not None:
            report = write_report(self.output, comparison, physical, twin, commands, meta,
                                  self.goal)
        return HilResult(comparison, physical, twin, commands, recording, report, meta)

    def close(self) -> None:
        """Release the twin's model."""
        if self._twin is not None:
            self._twin.close()
            self._twin = None


def _controller(controller: Controller | str | Sequence[str],
                args: dict[str, object] | None) -> tuple[str, Any]:
    """``('python', callable)`` or ``('node', argv)``."""
    if isinstance(controller, str):
        return 'python', load_controller(controller, args, 'controller')
    if callable(controller):
        return 'python', controller
    argv = list(controller)
    if not argv or not all(isinstance(a, str) for a in argv):
        raise ConfigError('controller: expected a callable, an entry point '
                          "'package.module:function' or a command line (list of strings)")
    return 'node', argv


def run_hil(controller: Controller | str | Sequence[str], **kwargs: Any) -> HilResult:
    """One :meth:`HardwareInLoopTester.test_control_algorithm` with a fresh tester."""
    tester = HardwareInLoopTester(**kwargs)
    try:
        return tester.test_control_algorithm(controller)
    finally:
        tester.close()
