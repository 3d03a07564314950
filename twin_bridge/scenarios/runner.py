"""Run a scenario in the embedded twin with dynamics, every command through the gate.

Two models of the same robot: the **physical** one (the world as it really is: the file,
every ``obstacles`` entry, ``obstacle_moved`` faults) is stepped with dynamics, its wheels
velocity-servoed to the gated command; its contacts and clearances are the truth the
expectations judge, and its lidar gives the physical scan. The **twin** (the world as the
map has it) mirrors the physical odometry and joints through the scenario's faults each
command period, and the :class:`~twin_bridge.twin.safety.gate.CommandGate` on it judges
each command against its map and the scan's unexplained returns. Time is simulated (no
sleeping), so a run is as fast as the computer and deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
import math
from pathlib import Path
import time

import mujoco
import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.robot_description import (
    RobotDescription,
    default_robot_path,
    load_robot_description,
)
from twin_bridge.description.wheel_geometry import wheel_geometry
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.errors import ConfigError, TwinBridgeError
from twin_bridge.scenarios.controllers import Controller, Observation, load_controller
from twin_bridge.scenarios.expectations import Check
from twin_bridge.scenarios.loader import load_scenario
from twin_bridge.scenarios.outlines import geom_outline, outlines_near
from twin_bridge.scenarios.physical import RobotContacts, world_spec
from twin_bridge.scenarios.spec import Events, Scenario
from twin_bridge.scenarios.trace import Trace
from twin_bridge.stand_in.faults import FaultInjector
from twin_bridge.twin.safety.gate import CommandGate

__all__ = ['SAMPLE_PERIOD', 'Drawing', 'ScenarioResult', 'run_file', 'run_scenario']

#: The physics is sampled (contacts, clearance, speed) at least this often (s).
SAMPLE_PERIOD = 0.02
_EPS = 1e-9


@dataclass
class Drawing:
    """What the plot shows: physical and mapped world outlines near the path, the robot's
    outlines at the first stop verdict and at the end."""

    physical: list[tuple[str, np.ndarray]] = field(default_factory=list)
    mapped: list[tuple[str, np.ndarray]] = field(default_factory=list)
    robot_stop: list[np.ndarray] = field(default_factory=list)
    robot_end: list[np.ndarray] = field(default_factory=list)


@dataclass
class ScenarioResult:
    """One scenario's outcome: the ``checks`` of its expectations on the ``trace``, or the
    ``error`` that kept it from running; ``wall_time`` of the run loop, ``setup_time``."""

    name: str
    source: str
    scenario: Scenario | None = None
    trace: Trace | None = None
    checks: tuple[Check, ...] = ()
    wall_time: float = 0.0
    setup_time: float = 0.0
    error: str = ''
    drawing: Drawing | None = None

    @property
    def passed(self) -> bool:
        """Ran, and every expectation held."""
        return not self.error and all(c.passed for c in self.checks)

    @property
    def sim_time(self) -> float:
        """Simulated seconds."""
        return self.trace.sim_time if self.trace is not None else 0.0

    @property
    def speed_up(self) -> float:
        """Simulated over wall-clock seconds of the run loop."""
        return self.sim_time / self.wall_time if self.wall_time > 0 else math.inf


_ROBOTS: dict[tuple[str, tuple[tuple[str, str], ...]], RobotDescription] = {}


def _robot(scenario: Scenario) -> RobotDescription:
    """The scenario's robot, loaded once per file and arguments in this process."""
    path = scenario.robot or str(default_robot_path())
    key = (path, tuple(sorted(scenario.robot_args.items())))
    if key not in _ROBOTS:
        try:
            _ROBOTS[key] = load_robot_description(path, scenario.robot_args or None)
        except TwinBridgeError as exc:
            raise ConfigError(f'{scenario.source}: robot: {exc}') from exc
    return _ROBOTS[key]


def _odometry(x: float, y: float, yaw: float, frame: str) -> OdometrySample:
    return OdometrySample(np.array([x, y, 0.0]),
                          np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
                          np.zeros(3), np.zeros(3), 0, 'odom', frame)


def _planar(odom: OdometrySample) -> OdometrySample:
    """``odom`` as a planar robot's odometry reports it: on the floor, yaw only."""
    yaw = yaw_from_quat(odom.orientation)
    return replace(odom, position=np.array([odom.position[0], odom.position[1], 0.0]),
                   orientation=np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
                   linear_velocity=np.array([odom.linear_velocity[0], 0.0, 0.0]),
                   angular_velocity=np.array([0.0, 0.0, odom.angular_velocity[2]]))


def _pose(odom: OdometrySample) -> tuple[float, float, float]:
    return float(odom.position[0]), float(odom.position[1]), float(yaw_from_quat(
        odom.orientation))


class _Run:
    """One run's state (built by :func:`run_scenario`)."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = s = scenario
        robot = _robot(s)
        self.wheels = wheel_geometry(robot)
        if self.wheels is None:
            raise ConfigError(f'{s.source}: robot: not a differential drive (no wheel pair)')
        opts = s.run
        try:
            self.physical = EmbeddedBackend(world_spec(s, True), robot, lidar_seed=seed,
                                            lidar_noise=opts.lidar_noise, timestep=opts.timestep)
            self.twin = EmbeddedBackend(world_spec(s, False), robot, lidar_noise=False,
                                        timestep=opts.timestep)
        except ConfigError:
            raise
        except TwinBridgeError as exc:
            raise ConfigError(f'{s.source}: world: {exc}') from exc
        self.physical.mirror(_odometry(s.start.x, s.start.y, s.start.yaw, robot.root_link))
        self.contacts = RobotContacts(self.physical)
        self._check_start()
        self.gate = CommandGate.from_backend(self.twin, s.gate)
        self.injector = FaultInjector(s.faults, self.twin.joint_names, self.wheels.joint_names)
        self.controller: Controller | None = None
        if s.controller is not None:
            self.controller = load_controller(s.controller, s.controller_args,
                                              f'{s.source}: controller')
        self.trace = Trace()
        self.scan: ScanData | None = None

    def _check_start(self) -> None:
        s, m, d = self.scenario, self.physical.model, self.physical.data
        mujoco.mj_forward(m, d)
        if self.contacts.clearance() <= 0.0:
            what = self.contacts.contact() or 'a world geom'
            raise ConfigError(f'{s.source}: start: the robot at x={s.start.x:g}, '
                              f'y={s.start.y:g}, yaw={s.start.yaw:g} is in collision ({what})')

    def _faulty_scan(self, t: float) -> ScanData | None:
        scan = self.physical.scan()
        if scan is None:
            return None
        scan = self.injector.scan(scan, t)
        yaw = self.injector.lidar_yaw(t)
        if yaw:  # a turned lidar: every beam reads the range of the beam yaw further on
            shift = int(round(yaw / scan.angle_increment))
            scan = replace(scan, ranges=np.roll(scan.ranges, -shift))
        return scan

    def sample(self, t: float) -> None:
        odom = self.physical.odometry()
        assert odom is not None
        self.trace.sample(t, _pose(odom), float(odom.linear_velocity[0]),
                          float(odom.angular_velocity[2]), self.contacts.clearance(),
                          self.contacts.contact())

    def tick(self, t: float, next_scan: float) -> float:
        """One command period from ``t``; returns when the next scan is due."""
        s, gate, events = self.scenario, self.gate, self.scenario.events
        for te in events.e_stop:
            if t - s.run.control_period < te <= t + _EPS:
                gate.engage_e_stop()
                self.trace.e_stops.append(te)
        for tr in events.e_stop_release:
            if t - s.run.control_period < tr <= t + _EPS:
                gate.release_e_stop()
        true = self.physical.odometry()
        joints = self.physical.joint_state()
        assert true is not None
        reported = self.injector.odometry(_planar(true), t)
        if not Events.within(events.stale_odometry, t):
            self.twin.mirror(reported, None if joints is None
                             else self._held_joints(self.injector.joint_state(joints, t)))
            gate.on_odometry(t)
        if t >= next_scan - _EPS:
            next_scan += s.run.scan_period
            if not Events.within(events.stale_scan, t):
                self.scan = self._faulty_scan(t)
                if self.scan is not None:
                    gate.on_scan(self.scan, t)
        if self.controller is None:
            command = s.scripted_command(t + _EPS)
        else:
            last = gate.last
            command = self.controller(Observation(
                t, _pose(reported), (float(true.linear_velocity[0]),
                                     float(true.angular_velocity[2])), self.scan,
                None if s.goal is None else (s.goal.x, s.goal.y),
                last.verdict if last else '', last.reason if last else ''))
        verdict = gate.judge(command, t)
        if verdict.verdict == 'stop' and self.trace.stop_pose is None:
            self.trace.stop_pose = _pose(true)
            self.stop_outlines = self._robot_outlines()
        try:
            cmd = (float(command[0]), float(command[1]))
        except (TypeError, ValueError, IndexError):
            cmd = (math.nan, math.nan)
        self.trace.command_tick(t, cmd, verdict.command_out, verdict.verdict, verdict.reason,
                                verdict.time_to_collision)
        left, right = self.wheels.joint_velocities(*verdict.command_out)
        wheels = {self.wheels.left_joint: float(left), self.wheels.right_joint: float(right)}
        period = s.run.control_period
        n_sub = max(1, int(round(period / SAMPLE_PERIOD)))
        for j in range(n_sub):
            self.physical.step(period / n_sub, wheels)
            self.sample(t + period * (j + 1) / n_sub)
        return next_scan

    def _held_joints(self, joints: JointStateSample) -> JointStateSample | None:
        """The joints that shape the footprint: all but the wheels (a turning wheel is the
        same cylinder, and the sweep would rebuild its shapes for every new wheel angle)."""
        keep = [i for i, n in enumerate(joints.names) if n not in self.wheels.joint_names]
        if not keep:
            return None
        return JointStateSample(names=tuple(joints.names[i] for i in keep),
                                positions=np.asarray(joints.positions)[keep])

    def _robot_outlines(self) -> list[np.ndarray]:
        m, d = self.physical.model, self.physical.data
        mujoco.mj_kinematics(m, d)
        return [geom_outline(m, d, int(g)) for g in self.contacts.robot_ids]

    def drawing(self) -> Drawing:
        tr = self.trace
        pts = np.column_stack([tr.x, tr.y])
        lo, hi = pts.min(axis=0) - 2.0, pts.max(axis=0) + 2.0
        if self.scenario.goal is not None:
            g = np.array([self.scenario.goal.x, self.scenario.goal.y])
            lo, hi = np.minimum(lo, g - 1.0), np.maximum(hi, g + 1.0)
        twin = RobotContacts(self.twin)
        mujoco.mj_kinematics(self.twin.model, self.twin.data)
        return Drawing(outlines_near(self.physical.model, self.physical.data,
                                     self.contacts.world_ids, lo, hi),
                       outlines_near(self.twin.model, self.twin.data, twin.world_ids, lo, hi),
                       getattr(self, 'stop_outlines', []), self._robot_outlines())


def run_scenario(scenario: Scenario, *, seed: int | None = None,
                 progress: Callable[[float], None] | None = None) -> ScenarioResult:
    """Run ``scenario`` (seeded with ``seed``, default its ``run.seed``) and check its
    expectations. :param progress: called with the sim time after each command period
    :raise ConfigError: the scenario cannot be set up (naming the file and key)"""
    began = time.perf_counter()
    run = _Run(scenario, scenario.run.seed if seed is None else seed)
    setup = time.perf_counter() - began
    began = time.perf_counter()
    period = scenario.run.control_period
    run.sample(0.0)
    next_scan = 0.0
    for k in range(int(round(scenario.run.duration / period))):
        next_scan = run.tick(k * period, next_scan)
        if progress is not None:
            progress((k + 1) * period)
    wall = time.perf_counter() - began
    trace = run.trace
    trace.verdict_counts = dict(run.gate.verdict_counts)
    trace.reason_counts = dict(run.gate.reason_counts)
    trace.finish()
    checks = tuple(e.check(trace, scenario) for e in scenario.expectations)  # type: ignore[attr-defined]
    return ScenarioResult(scenario.name, scenario.source, scenario, trace, checks, wall, setup,
                          drawing=run.drawing())


def run_file(path: str | Path, *, seed: int | None = None,
             progress: Callable[[float], None] | None = None) -> ScenarioResult:
    """Load and run one scenario file; a file that cannot be loaded or set up gives a result
    with ``error`` set (never raises a :class:`TwinBridgeError`)."""
    path = Path(path)
    try:
        scenario = load_scenario(path)
        return run_scenario(scenario, seed=seed, progress=progress)
    except TwinBridgeError as exc:
        return ScenarioResult(path.stem, str(path), error=str(exc))
