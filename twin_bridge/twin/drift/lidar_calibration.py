"""Pose error or lidar yaw offset? Test which frame the per-scan matched corrections are
constant in, over a window of scans.

An odometry (pose) error is a rigid transform constant in the world/odom frame:
``T_true = C * T_odom``. A lidar yaw offset ``d`` is a rotation constant in the sensor frame
about the sensor origin: ``T_matched * S = T_odom * S * Rz(d)`` (``S`` the sensor in the
base). Once the robot moves, the two predict different matched poses. Both models are fitted
to the window (yaw terms are common to both and cancel); the one with the smaller
Akaike score (chi-square + 2 * parameters) wins.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math

import numpy as np

from twin_bridge.twin.drift.se2 import compose, wrap

__all__ = ['FrameDecision', 'FrameTest', 'fit_range_model']


@dataclass(frozen=True)
class FrameDecision:
    """Which frame the corrections are constant in, and the fitted constant.

    ``cause`` is ``'pose'`` (world frame) or ``'lidar'`` (sensor frame); ``world_correction``
    the fitted ``C`` as ``(x, y, yaw)``; ``yaw_offset`` the fitted sensor-frame rotation (rad);
    ``chi2_world``/``chi2_sensor`` the models' chi-squares over ``scans`` scans.
    """

    cause: str
    world_correction: np.ndarray
    yaw_offset: float
    chi2_world: float
    chi2_sensor: float
    scans: int


class FrameTest:
    """A window of (odometry pose, matched pose, covariance) triples and the frame test.

    :param sensor_in_base: the lidar's planar pose in the base frame
    :param window: scans kept
    :param floor_xy: standard deviation added to every matched position (m): model error
    :param floor_yaw: standard deviation added to every matched yaw (rad)
    """

    def __init__(self, sensor_in_base: np.ndarray, *, window: int = 60,
                 floor_xy: float = 0.003, floor_yaw: float = math.radians(0.05)) -> None:
        self.sensor_in_base = np.asarray(sensor_in_base, dtype=float)
        self._items: deque[tuple[int, np.ndarray, np.ndarray, float, float]] = deque(
            maxlen=int(window))
        self.floor_xy = float(floor_xy)
        self.floor_yaw = float(floor_yaw)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, index: int, odom: np.ndarray, matched: np.ndarray,
            covariance: np.ndarray) -> None:
        """Add scan ``index``'s odometry and matched base poses with the match covariance."""
        var_xy = float(max(covariance[0, 0], covariance[1, 1])) + self.floor_xy ** 2
        var_yaw = float(covariance[2, 2]) + self.floor_yaw ** 2
        self._items.append((index, np.asarray(odom, float).copy(),
                            np.asarray(matched, float).copy(), var_xy, var_yaw))

    def decide(self, since: int = -1) -> FrameDecision | None:
        """Fit both models to the scans with index >= ``since``; ``None`` for no scans."""
        items = [it for it in self._items if it[0] >= since]
        if not items:
            return None
        odom = np.array([it[1] for it in items])
        matched = np.array([it[2] for it in items])
        var_xy = np.array([it[3] for it in items])
        var_yaw = np.array([it[4] for it in items])
        dyaw = wrap(matched[:, 2] - odom[:, 2])
        w_yaw = 1.0 / var_yaw
        yaw = float(np.sum(w_yaw * dyaw) / np.sum(w_yaw))
        # Sensor frame: the sensor positions coincide; the sensor yaw differs by a constant.
        s_odom = np.array([compose(p, self.sensor_in_base) for p in odom])
        s_matched = np.array([compose(p, self.sensor_in_base) for p in matched])
        chi2_sensor = float(np.sum(np.sum((s_matched[:, :2] - s_odom[:, :2]) ** 2, 1) / var_xy))
        # World frame: p_matched = R(yaw) p_odom + t, t constant.
        c, s = math.cos(yaw), math.sin(yaw)
        rotated = odom[:, :2] @ np.array([[c, s], [-s, c]])
        t_i = matched[:, :2] - rotated
        var_t = var_xy + np.sum(odom[:, :2] ** 2, 1) * var_yaw / len(items)
        w_t = 1.0 / var_t
        t = np.sum(t_i * w_t[:, None], 0) / np.sum(w_t)
        chi2_world = float(np.sum(np.sum((t_i - t) ** 2, 1) * w_t))
        cause = 'lidar' if chi2_sensor + 2.0 < chi2_world + 6.0 else 'pose'
        return FrameDecision(cause=cause, world_correction=np.array([t[0], t[1], yaw]),
                             yaw_offset=yaw, chi2_world=chi2_world, chi2_sensor=chi2_sensor,
                             scans=len(items))


def fit_range_model(virtual: np.ndarray, physical: np.ndarray) -> tuple[float, float]:
    """Least-squares ``physical = scale * virtual + bias`` over finite pairs; ``(scale, bias)``.

    A plain reference for the range model the scan matcher fits jointly with the pose.

    :raise ValueError: fewer than two finite pairs
    """
    ok = np.isfinite(virtual) & np.isfinite(physical)
    if np.count_nonzero(ok) < 2:
        raise ValueError('fit_range_model: need at least two finite pairs')
    scale, bias = np.polyfit(np.asarray(virtual)[ok], np.asarray(physical)[ok], 1)
    return float(scale), float(bias)
