"""A stand-in base that follows velocity commands with dynamics of its own.

:class:`CmdVelBase` is a differential-drive base whose body twist follows the latest command
``(v, w)`` as a first-order lag (time constant ``response_time``) limited by the
accelerations ``max_linear_accel`` / ``max_angular_accel``; the pose is the exact integral
of the twist (circle arcs over sub-steps of at most ``substep`` s). A command older than
``command_timeout`` s counts as zero (a robot stops when its driver goes quiet). A
``slip`` below 1 makes the base move only that share of what its wheels turn (the wheels
follow the command, the ground does not: the stand-in's ``wheel_slip`` fault of factor
``f`` is a slip of ``1 / f`` here, and the published wheels, turned ``f`` times as far as
the base by the fault, match the command again). It is called like the scripted motions,
``base(t) -> BaseMotion``, with non-decreasing ``t``; an earlier ``t`` gives the current state.
"""

from __future__ import annotations

from collections.abc import Callable
import math
import threading

import numpy as np

from twin_bridge.core.arcs import arc_pose
from twin_bridge.stand_in.motion_profiles import BaseMotion

__all__ = ['CmdVelBase']


def _respond(value: float, target: float, dt: float, tau: float, accel: float
             ) -> tuple[float, float]:
    """A first-order lag (time constant ``tau``) from ``value`` toward ``target`` over
    ``dt`` s, as a ramp of ``accel`` where that is slower: ``(new value, mean over dt)``."""
    if tau > 0:
        decay = math.exp(-dt / tau)
        new = target + (value - target) * decay
        mean = target + (value - target) * tau / dt * (1.0 - decay)
    else:
        new = mean = target
    if abs(new - value) > accel * dt:
        new = value + math.copysign(accel * dt, target - value)
        mean = 0.5 * (value + new)
    return new, mean


class CmdVelBase:
    """A base that drives the commanded twist (see the module doc).

    :param start: the start pose ``(x, y, yaw)`` (odom frame)
    :param response_time: first-order time constant of the twist (s, >= 0; 0: immediate)
    :param max_linear_accel: m/s^2 (> 0)
    :param max_angular_accel: rad/s^2 (> 0)
    :param command_timeout: a command older than this is zero (s, > 0)
    :param slip: the base's travel per wheel travel at time ``t`` (``None``: 1)
    :param substep: longest integration step (s)
    :raise ValueError: a bad parameter
    """

    def __init__(self, start: tuple[float, float, float] = (0.0, 0.0, 0.0), *,
                 response_time: float = 0.05, max_linear_accel: float = 3.0,
                 max_angular_accel: float = 6.0, command_timeout: float = 0.5,
                 slip: Callable[[float], float] | None = None, substep: float = 0.002
                 ) -> None:
        values = (*start, response_time, max_linear_accel, max_angular_accel,
                  command_timeout, substep)
        if not all(math.isfinite(float(x)) for x in values) or response_time < 0 or min(
                max_linear_accel, max_angular_accel, command_timeout, substep) <= 0:
            raise ValueError('cmd_vel base: start must be finite, response_time >= 0, '
                             'accelerations, command_timeout and substep > 0')
        self.response_time, self.command_timeout = float(response_time), float(command_timeout)
        self.max_linear_accel = float(max_linear_accel)
        self.max_angular_accel = float(max_angular_accel)
        self.substep = float(substep)
        self._slip = slip
        self._lock = threading.Lock()
        self._command = (0.0, 0.0)
        self._command_time = -math.inf
        self._t = 0.0
        x, y, yaw = (float(v) for v in start)
        self._pose = [x, y, yaw]
        self._twist = [0.0, 0.0]           # the wheels' (v, w)
        self._moved = [0.0, 0.0]           # the base's (v, w): the wheels' times the slip
        self._distance = 0.0               # the base's signed path length
        #: Commands taken (finite) and rejected (non-finite).
        self.counts = {'commands': 0, 'rejected': 0}

    def command(self, linear: float, angular: float, t: float) -> bool:
        """Take the command ``(linear, angular)`` (m/s, rad/s) given at time ``t`` (s since
        start). A non-finite command is rejected (counted; the base keeps the last one).
        :return: whether it was taken"""
        if not (math.isfinite(linear) and math.isfinite(angular) and math.isfinite(t)):
            self.counts['rejected'] += 1
            return False
        with self._lock:
            self._command = (float(linear), float(angular))
            self._command_time = float(t)
        self.counts['commands'] += 1
        return True

    def _target(self, t: float) -> tuple[float, float]:
        if t - self._command_time > self.command_timeout:
            return 0.0, 0.0
        return self._command

    def _advance(self, t: float) -> None:
        while self._t < t - 1e-12:
            dt = min(self.substep, t - self._t)
            v_cmd, w_cmd = self._target(self._t)
            v1, v = _respond(self._twist[0], v_cmd, dt, self.response_time,
                             self.max_linear_accel)
            w1, w = _respond(self._twist[1], w_cmd, dt, self.response_time,
                             self.max_angular_accel)
            slip = 1.0 if self._slip is None else float(self._slip(self._t))
            dx, dy, turn = arc_pose(v * slip, w * slip, dt)
            x, y, yaw = self._pose
            c, s = math.cos(yaw), math.sin(yaw)
            self._pose = [x + c * dx - s * dy, y + s * dx + c * dy, yaw + turn]
            self._distance += v * slip * dt
            self._twist = [v1, w1]
            self._moved = [v1 * slip, w1 * slip]
            self._t += dt

    def __call__(self, t: np.ndarray | float) -> BaseMotion:
        """The base's true state at time ``t`` (s since start; integrated up to it)."""
        with self._lock:
            self._advance(float(t))
            x, y, yaw = self._pose
            v, w = self._moved
            distance = self._distance
        return BaseMotion(np.float64(x), np.float64(y), np.float64(yaw), np.float64(v),
                          np.float64(w), np.float64(distance))
