"""A safety scenario as plain data: world, robot, start, commands or controller, expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
import math

from twin_bridge.stand_in.faults import Fault
from twin_bridge.twin.safety.gate import GateConfig

__all__ = ['Events', 'Goal', 'Obstacle', 'Pose2D', 'RunOptions', 'Scenario', 'Segment']


@dataclass(frozen=True)
class Pose2D:
    """A planar pose: ``x``, ``y`` (m) and ``yaw`` (rad) in the world frame."""

    x: float
    y: float
    yaw: float = 0.0


@dataclass(frozen=True)
class Goal:
    """Where the robot should get to: within ``tolerance`` m of ``(x, y)``."""

    x: float
    y: float
    tolerance: float = 0.25


@dataclass(frozen=True)
class Segment:
    """A scripted command ``(v, w)`` (m/s, rad/s) held from ``start`` to ``end`` (s)."""

    start: float
    end: float
    v: float
    w: float


@dataclass(frozen=True)
class Obstacle:
    """An obstacle added to the world: a ``box`` (full sizes x, y, z) or a ``cylinder``
    (radius, height) standing on the floor at ``(x, y)`` turned by ``yaw``. Physical only
    (the twin's map lacks it: the gate sees it only in the scan) unless ``mapped``."""

    name: str
    shape: str
    size: tuple[float, ...]
    x: float
    y: float
    yaw: float = 0.0
    mapped: bool = False


@dataclass(frozen=True)
class Events:
    """Timed events (s): e-stop engaged / released, windows ``(from, to)`` in which no scan
    or no odometry reaches the gate."""

    e_stop: tuple[float, ...] = ()
    e_stop_release: tuple[float, ...] = ()
    stale_scan: tuple[tuple[float, float], ...] = ()
    stale_odometry: tuple[tuple[float, float], ...] = ()

    @staticmethod
    def within(windows: tuple[tuple[float, float], ...], t: float) -> bool:
        """Whether ``t`` falls in one of ``windows`` (start included, end excluded)."""
        return any(lo <= t < hi for lo, hi in windows)


@dataclass(frozen=True)
class RunOptions:
    """How a scenario runs: sim ``duration`` (s), the command ``control_period`` and
    ``scan_period`` (s), the physics ``timestep`` (s), ``seed`` and the lidar's noise."""

    duration: float = 10.0
    control_period: float = 0.1
    scan_period: float = 0.1
    timestep: float = 0.002
    seed: int = 0
    lidar_noise: bool = True


@dataclass(frozen=True)
class Scenario:
    """One safety scenario (see :mod:`twin_bridge.scenarios.loader` for the YAML schema).

    ``world`` is a shipped world name or an SDF path; ``robot`` a URDF/xacro/SDF path
    (``None``: the package's robot) with xacro ``robot_args``. Exactly one of ``commands``
    (a script) and ``controller`` (a ``'package.module:function'`` entry point, called with
    ``controller_args`` first when they are given) drives the robot. ``expectations`` are
    :class:`~twin_bridge.scenarios.expectations.Expectation` objects.
    """

    name: str
    world: str
    start: Pose2D
    source: str = '<scenario>'
    description: str = ''
    robot: str | None = None
    robot_args: dict[str, str] = field(default_factory=dict)
    goal: Goal | None = None
    faults: tuple[Fault, ...] = ()
    obstacles: tuple[Obstacle, ...] = ()
    commands: tuple[Segment, ...] = ()
    controller: str | None = None
    controller_args: dict[str, object] | None = None
    events: Events = Events()
    gate: GateConfig = GateConfig()
    run: RunOptions = RunOptions()
    expectations: tuple[object, ...] = ()

    def scripted_command(self, t: float) -> tuple[float, float]:
        """The scripted ``(v, w)`` at time ``t`` (zero outside every segment)."""
        for seg in self.commands:
            if seg.start <= t < seg.end:
                return seg.v, seg.w
        return 0.0, 0.0

    @property
    def script_end(self) -> float:
        """When the script's last finite segment ends (0 without one)."""
        ends = [s.end for s in self.commands if math.isfinite(s.end)]
        return max(ends, default=0.0)
