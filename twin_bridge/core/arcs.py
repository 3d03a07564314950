"""The exact planar motion under a constant body twist (circle arcs, closed form)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ['arc_pose', 'arc_poses']

# Below this |yaw rate * t| the formulas switch to their Taylor series (no 0/0).
_SMALL_ANGLE = 1e-4


def arc_poses(linear: float, angular: float, times: np.ndarray, lateral: float = 0.0
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Body-frame displacement ``(dx, dy, dyaw)`` after each of ``times`` seconds of a
    constant twist (``linear`` along the body x axis, ``lateral`` along y, m/s; ``angular``
    rad/s about z): ``integral_0^t R(angular s) (linear, lateral) ds``.
    """
    times = np.asarray(times, dtype=float)
    turn = angular * times
    small = np.abs(turn) < _SMALL_ANGLE
    safe = np.where(small, 1.0, turn)
    # s(t) = sin(wt)/w, c(t) = (1 - cos(wt))/w, as t * series in wt near zero.
    s = np.where(small, times * (1.0 - turn ** 2 / 6.0), times * np.sin(safe) / safe)
    c = np.where(small, times * (0.5 * turn - turn ** 3 / 24.0),
                 times * (1.0 - np.cos(safe)) / safe)
    return linear * s - lateral * c, linear * c + lateral * s, turn


def arc_pose(linear: float, angular: float, t: float) -> tuple[float, float, float]:
    """:func:`arc_poses` at one time, in plain floats (the search's inner loop)."""
    turn = angular * t
    if abs(turn) < _SMALL_ANGLE:
        s = t * (1.0 - turn * turn / 6.0)
        c = t * (0.5 * turn - turn ** 3 / 24.0)
    else:
        s = t * math.sin(turn) / turn
        c = t * (1.0 - math.cos(turn)) / turn
    return linear * s, linear * c, turn
