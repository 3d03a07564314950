"""Drive with a trained policy from live scans, odometry and a goal (no ROS: the node's core).

The driver keeps the newest scan, odometry sample and goal, each validated on arrival (bad
ones are counted per reason and dropped). :meth:`PolicyDriver.tick` says what to command:
nothing before a goal, a stop when the scan or odometry is older than ``input_timeout``
(or missing) and when the goal is reached (the goal is then cleared), otherwise the policy's
``(v, omega)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
import math

import numpy as np

from twin_bridge.learning.nav_policy import NavPolicy

__all__ = ['Command', 'PolicyDriver']


@dataclass(frozen=True)
class Command:
    """A velocity command and why: ``reason`` is ``policy``, ``goal_reached``,
    ``stale_scan`` or ``stale_odometry``; ``distance`` is to the goal (m, NaN unknown)."""

    linear: float
    angular: float
    reason: str
    distance: float = math.nan


class PolicyDriver:
    """The policy node's logic (see the module doc).

    :param policy: the loaded policy
    :param goal_tolerance: distance (m) at which the goal counts as reached
    :param input_timeout: oldest scan/odometry (s) the policy may act on
    """

    def __init__(self, policy: NavPolicy, *, goal_tolerance: float = 0.25,
                 input_timeout: float = 0.5) -> None:
        if not (goal_tolerance > 0 and input_timeout > 0):
            raise ValueError(f'goal_tolerance and input_timeout must be > 0, got '
                             f'{goal_tolerance}, {input_timeout}')
        self.policy = policy
        self.goal_tolerance = float(goal_tolerance)
        self.input_timeout = float(input_timeout)
        self.rejected: Counter[str] = Counter()
        self.commands: Counter[str] = Counter()
        self._scan: tuple[np.ndarray, float, float, float] | None = None
        self._odom: tuple[tuple[float, float, float], tuple[float, float], str, float] | None
        self._odom = None
        self._goal: tuple[float, float, str] | None = None

    @property
    def goal(self) -> tuple[float, float, str] | None:
        """The active goal ``(x, y, frame)`` (``None`` without one)."""
        return self._goal

    def on_scan(self, ranges: np.ndarray, angle_min: float, angle_increment: float,
                now: float) -> bool:
        """Keep a scan (REP-117 ranges, sensor frame); False (counted) if it is malformed."""
        ranges = np.asarray(ranges, dtype=np.float64)
        if ranges.ndim != 1 or not len(ranges):
            self.rejected['scan_empty'] += 1
            return False
        if not (math.isfinite(angle_min) and math.isfinite(angle_increment)
                and angle_increment != 0.0):
            self.rejected['scan_angles'] += 1
            return False
        self._scan = (ranges, float(angle_min), float(angle_increment), now)
        return True

    def on_odometry(self, x: float, y: float, yaw: float, linear: float, angular: float,
                    frame: str, now: float) -> bool:
        """Keep a planar pose and twist in ``frame``; False (counted) if not finite."""
        if not all(math.isfinite(v) for v in (x, y, yaw, linear, angular)):
            self.rejected['odometry_non_finite'] += 1
            return False
        self._odom = ((float(x), float(y), float(yaw)), (float(linear), float(angular)),
                      frame, now)
        return True

    def on_goal(self, x: float, y: float, frame: str) -> bool:
        """Set the goal ``(x, y)`` in ``frame`` (``''``: the odometry's frame); False (counted)
        if not finite or in another frame than the odometry's."""
        if not (math.isfinite(x) and math.isfinite(y)):
            self.rejected['goal_non_finite'] += 1
            return False
        if frame and self._odom is not None and frame != self._odom[2]:
            self.rejected['goal_frame'] += 1
            return False
        self._goal = (float(x), float(y), frame)
        return True

    def tick(self, now: float) -> Command | None:
        """What to command now (``None``: no goal, command nothing)."""
        if self._goal is None:
            return None
        if self._odom is None or now - self._odom[3] > self.input_timeout:
            return self._count(Command(0.0, 0.0, 'stale_odometry'))
        pose, twist, _, _ = self._odom
        gx, gy, _ = self._goal
        distance = math.hypot(gx - pose[0], gy - pose[1])
        if distance < self.goal_tolerance:
            self._goal = None
            return self._count(Command(0.0, 0.0, 'goal_reached', distance))
        if self._scan is None or now - self._scan[3] > self.input_timeout:
            return self._count(Command(0.0, 0.0, 'stale_scan', distance))
        ranges, angle_min, increment, _ = self._scan
        obs = self.policy.observe(ranges, angle_min, increment, pose, twist, (gx, gy))
        v, w = self.policy.command(obs)
        return self._count(Command(v, w, 'policy', distance))

    def _count(self, command: Command) -> Command:
        self.commands[command.reason] += 1
        return command
