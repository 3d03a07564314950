"""The command gate: pass, slow or stop each velocity command before it reaches the robot.

For each command ``(v, omega)`` the robot's full collision footprint is swept along the
command's exact arc over ``stop_horizon`` seconds
(:class:`~twin_bridge.embedded.footprint_sweep.FootprintSweep`) against the world and the
latest scan's unexplained returns (:class:`~.scan_obstacles.ScanObstacles`), and ``u``, the
time until it comes within ``safety_margin`` at the command, decides:

- **pass**: nothing within ``safety_margin`` for ``stop_horizon`` s (``u = inf``);
- **slow**: the command scaled by ``s = min(u / stop_horizon, s_brake)``, so the scaled
  command keeps ``stop_horizon`` s from the margin (nav2's *approach* behaviour: the robot
  closes in on the margin, never crosses it) and the robot can always brake before it:
  ``s_brake`` solves ``reaction_time s + B s^2 / 2 = u`` with ``B = max(|v| / max_linear_decel,
  |omega| / max_angular_decel)`` (the arc distance, in full-command seconds, covered while
  reacting and braking from ``s`` times the command);
- **stop**: ``s < min_scale`` (no safe scale), stale inputs, an engaged e-stop, or an invalid
  command.

No bisection over sweeps is needed: scaling ``(v, omega)`` together keeps the arc (its
curvature) and only slows travel along it, so one sweep at the full command gives ``u`` for
every scale. Commands beyond ``max_linear``/``max_angular`` are first scaled to the limit
(keeping the arc; reason ``speed_limit`` when nothing else slows them); NaN, infinite or
commands beyond ``reject_factor`` times the limits are rejected (``invalid_command``).
Stale inputs stop: without odometry (or a scan, when the gate has a scan source) newer than
``source_timeout`` s, a stale sensor never looks like free space.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
import math

import numpy as np

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.footprint_sweep import SCAN_OBSTACLE, FootprintSweep, SweepResult
from twin_bridge.errors import ConfigError, TwinBridgeError
from twin_bridge.twin.safety.scan_obstacles import ScanObstacles

__all__ = ['REASONS', 'VERDICTS', 'Command', 'CommandGate', 'GateConfig', 'GateVerdict',
           'RobotState']

VERDICTS = ('pass', 'slow', 'stop')
#: Every reason a verdict gives (the counts are keyed by these).
REASONS = ('free', 'idle', 'speed_limit', 'obstacle', 'scan_obstacle', 'e_stop',
           'invalid_command', 'stale_odometry', 'stale_scan')
_NON_NEGATIVE = ('safety_margin', 'reaction_time', 'min_scale')


@dataclass(frozen=True)
class GateConfig:
    """Tunables of a :class:`CommandGate` (SI units; see the module doc for their roles).

    ``time_step``/``resolution`` are the sweep's prefilter grid (s) and distance tolerance
    (m); ``scan_source``: the gate expects scans (and stops when they go stale).
    """

    stop_horizon: float = 1.5
    safety_margin: float = 0.1
    max_linear: float = 1.0
    max_angular: float = 2.0
    max_linear_decel: float = 1.0
    max_angular_decel: float = 3.0
    reaction_time: float = 0.1
    min_scale: float = 0.05
    source_timeout: float = 0.5
    scan_source: bool = True
    reject_factor: float = 10.0
    time_step: float = 0.05
    resolution: float = 0.002

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == 'scan_source':
                continue
            value = getattr(self, f.name)
            zero_ok = f.name in _NON_NEGATIVE
            if not (math.isfinite(value) and (value >= 0 if zero_ok else value > 0)):
                bound = '>= 0' if zero_ok else '> 0'
                raise ConfigError(f'GateConfig.{f.name} must be finite and {bound}, got '
                                  f'{value}')
        if self.reject_factor < 1 or self.min_scale >= 1:
            raise ConfigError(f'GateConfig: reject_factor must be >= 1 and min_scale < 1, got '
                              f'{self.reject_factor}, {self.min_scale}')


@dataclass(frozen=True)
class Command:
    """A planar velocity command: ``linear`` (m/s, body x) and ``angular`` (rad/s, yaw)."""

    linear: float
    angular: float


@dataclass(frozen=True)
class RobotState:
    """Where the robot is, given explicitly: base ``position`` (world, 3), ``(x, y, z, w)``
    ``orientation``, optional ``joints``, and ``received``, the monotonic time (s) the pose
    was measured (for staleness)."""

    position: np.ndarray
    orientation: np.ndarray
    joints: JointStateSample | None = None
    received: float | None = None


@dataclass(frozen=True)
class GateVerdict:
    """One command's verdict.

    ``verdict``: ``'pass'``, ``'slow'`` or ``'stop'``; ``reason``: one of :data:`REASONS`;
    ``time_to_collision``: s until the footprint comes within ``safety_margin`` at the
    command as given (``inf``: not within the horizon; NaN: not judged, e.g. stale or
    invalid); ``scale``: ``command_out`` over the command (0 for stop); ``command_out``:
    the gated ``(v, omega)``; ``clearance``: the smallest footprint-obstacle distance along
    the way (m); ``obstacle``: what would be hit (a world geom, ``'scan point'``, or ``''``).
    """

    verdict: str
    reason: str
    time_to_collision: float
    scale: float
    command_out: tuple[float, float]
    clearance: float = math.nan
    obstacle: str = ''


class CommandGate:
    """Judge velocity commands against the twin (see the module doc).

    The robot's pose comes from ``backend`` (its ``odometry()``/``joint_state()``: the
    twin's mirrored state) unless :meth:`judge` is given a :class:`RobotState`. Call
    :meth:`on_odometry` whenever fresh physical odometry has been mirrored and
    :meth:`on_scan` with each physical scan.

    :param sweep: the robot's footprint sweep in the twin's world
    :param config: tunables
    :param backend: where the mirrored state is read
    :param obstacles: unexplained scan returns (required when ``config.scan_source``)
    :raise ConfigError: ``scan_source`` without ``obstacles``
    """

    def __init__(self, sweep: FootprintSweep, config: GateConfig | None = None, *,
                 backend: SimulatorBackend | None = None,
                 obstacles: ScanObstacles | None = None) -> None:
        self.config = cfg = config or GateConfig()
        if cfg.scan_source and obstacles is None:
            raise ConfigError('CommandGate: scan_source needs obstacles (a ScanObstacles)')
        self.sweep, self.backend, self.obstacles = sweep, backend, obstacles
        sweep.time_step, sweep.resolution = cfg.time_step, cfg.resolution
        self._odom_time: float | None = None
        self._e_stop = False
        #: Verdicts given, per verdict and per reason (keys fixed: bounded).
        self.verdict_counts = dict.fromkeys(VERDICTS, 0)
        self.reason_counts = dict.fromkeys(REASONS, 0)
        #: The latest verdict.
        self.last: GateVerdict | None = None

    @classmethod
    def from_backend(cls, backend: EmbeddedBackend, config: GateConfig | None = None,
                     **obstacle_kwargs: object) -> CommandGate:
        """A gate on ``backend``'s robot and world (scan obstacles when ``scan_source`` and
        the robot has a lidar; otherwise the gate ignores scans)."""
        cfg = config or GateConfig()
        obstacles = None
        if cfg.scan_source and backend.lidar is not None:
            obstacles = ScanObstacles.from_backend(backend, **obstacle_kwargs)
        elif cfg.scan_source:
            cfg = GateConfig(**{**cfg.__dict__, 'scan_source': False})
        sweep = FootprintSweep.from_backend(backend, time_step=cfg.time_step,
                                            resolution=cfg.resolution)
        return cls(sweep, cfg, backend=backend, obstacles=obstacles)

    # -- inputs --------------------------------------------------------------------------
    def on_odometry(self, now: float) -> None:
        """Fresh physical odometry reached the twin at monotonic time ``now`` (s)."""
        self._odom_time = float(now)

    def on_scan(self, scan: ScanData, now: float,
                lidar_pose: tuple[np.ndarray, float] | None = None) -> np.ndarray:
        """Take a physical scan received at ``now``: its unexplained returns become the scan
        obstacles. ``lidar_pose`` is the lidar's world ``(origin, yaw)`` at the scan (default:
        the backend's mirrored lidar pose). :return: the obstacle points ``(n, 2)``"""
        if self.obstacles is None:
            return np.zeros((0, 2))
        if lidar_pose is None:
            if not isinstance(self.backend, EmbeddedBackend):
                raise ConfigError('CommandGate.on_scan: no lidar pose and no embedded backend')
            origin, quat = self.backend.lidar_pose()
            lidar_pose = (origin, yaw_from_quat(quat))
        return self.obstacles.update(scan, lidar_pose[0], lidar_pose[1], now)

    def engage_e_stop(self) -> None:
        """Latch the e-stop: every verdict is stop (``e_stop``) until released."""
        self._e_stop = True

    def release_e_stop(self) -> None:
        """Release the e-stop latch."""
        self._e_stop = False

    @property
    def e_stopped(self) -> bool:
        """Whether the e-stop is latched."""
        return self._e_stop

    # -- the verdict ---------------------------------------------------------------------
    def judge(self, command: Command | tuple[float, float], now: float,
              state: RobotState | None = None) -> GateVerdict:
        """The verdict on ``command`` at monotonic time ``now`` (s), from ``state`` or the
        backend's mirrored state. Never raises on bad input: it stops."""
        linear, angular = _unpack(command)
        cfg = self.config
        if self._e_stop:
            return self._stop('e_stop')
        if not (math.isfinite(linear) and math.isfinite(angular)) or (
                abs(linear) > cfg.reject_factor * cfg.max_linear
                or abs(angular) > cfg.reject_factor * cfg.max_angular):
            return self._stop('invalid_command')
        if not self._place(state, now):
            return self._stop('stale_odometry')
        if cfg.scan_source and (self.obstacles is None or self.obstacles.time is None
                                or now - self.obstacles.time > cfg.source_timeout):
            return self._stop('stale_scan')
        if linear == 0.0 and angular == 0.0:
            return self._give('pass', 'idle', math.inf, 1.0, (0.0, 0.0))
        limit = min(1.0, cfg.max_linear / abs(linear) if linear else 1.0,
                    cfg.max_angular / abs(angular) if angular else 1.0)
        v, w = linear * limit, angular * limit
        points = self.obstacles.points if self.obstacles is not None else None
        result = self.sweep.sweep(v, w, cfg.stop_horizon, cfg.safety_margin, points)
        return self._decide(result, v, w, limit)

    def _decide(self, result: SweepResult, v: float, w: float, limit: float) -> GateVerdict:
        cfg = self.config
        if result.free:
            verdict = ('pass', 'free') if limit >= 1.0 else ('slow', 'speed_limit')
            return self._give(*verdict, math.inf, limit, (v, w), result)
        u = result.time  # full-command seconds along the arc until the margin
        brake = max(abs(v) / cfg.max_linear_decel, abs(w) / cfg.max_angular_decel)
        tau = cfg.reaction_time
        if brake > 0:
            s_brake = (-tau + math.sqrt(tau * tau + 2.0 * brake * u)) / brake
        else:
            s_brake = u / tau if tau > 0 else math.inf
        scale = min(1.0, u / cfg.stop_horizon, s_brake)
        reason = 'scan_obstacle' if result.obstacle == SCAN_OBSTACLE else 'obstacle'
        ttc = u * limit
        if scale < cfg.min_scale:
            return self._give('stop', reason, ttc, 0.0, (0.0, 0.0), result)
        return self._give('slow', reason, ttc, scale * limit, (v * scale, w * scale), result)

    def _place(self, state: RobotState | None, now: float) -> bool:
        """Put the sweep's robot where it is; ``False`` when that is unknown or stale."""
        timeout = self.config.source_timeout
        try:
            if state is not None:
                if state.received is None or now - state.received > timeout:
                    return False
                self.sweep.set_state(state.position, state.orientation, state.joints)
                return True
            if self.backend is None or self._odom_time is None or (
                    now - self._odom_time > timeout):
                return False
            odom = self.backend.odometry()
            if odom is None:
                return False
            self.sweep.set_state(odom.position, odom.orientation, self.backend.joint_state())
        except TwinBridgeError:  # a bad pose stops the robot, never the node
            return False
        return True

    def _stop(self, reason: str) -> GateVerdict:
        return self._give('stop', reason, math.nan, 0.0, (0.0, 0.0))

    def _give(self, verdict: str, reason: str, ttc: float, scale: float,
              out: tuple[float, float], result: SweepResult | None = None) -> GateVerdict:
        self.verdict_counts[verdict] += 1
        self.reason_counts[reason] += 1
        self.last = GateVerdict(verdict, reason, ttc, scale, (float(out[0]), float(out[1])),
                                math.nan if result is None else result.clearance,
                                '' if result is None else result.obstacle)
        return self.last


def _unpack(command: Command | tuple[float, float]) -> tuple[float, float]:
    """``(v, omega)`` as floats (NaN for anything that is not a number)."""
    try:
        if isinstance(command, Command):
            return float(command.linear), float(command.angular)
        linear, angular = command
        return float(linear), float(angular)
    except (TypeError, ValueError):
        return math.nan, math.nan
