"""The navigation observation and action scaling, as plain numpy (the env and the ROS node).

Observation layout (float32, ``beams + 5`` values):

====================  =========================================================  ==========
index                 value                                                      range
====================  =========================================================  ==========
``0 .. beams-1``      lidar range / ``lidar_range`` (no return: 1, too close: 0)  [0, 1]
``beams``             goal distance / ``goal_scale`` (clipped)                    [0, 1]
``beams + 1, + 2``    cos, sin of the goal bearing in the robot frame             [-1, 1]
``beams + 3``         forward speed / ``max_linear`` (clipped)                     [-2, 2]
``beams + 4``         yaw rate / ``max_angular`` (clipped)                         [-2, 2]
====================  =========================================================  ==========
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from twin_bridge.errors import ConfigError

if TYPE_CHECKING:
    from twin_bridge.description.wheel_geometry import WheelGeometry
    from twin_bridge.learning.nav_config import NavConfig
    from twin_bridge.learning.nav_scene import NavScene

__all__ = ['NavObservation', 'VELOCITY_CLIP']

#: Velocities in the observation are clipped to this many times their limits.
VELOCITY_CLIP = 2.0


@dataclass(frozen=True)
class NavObservation:
    """How observations are built and actions scaled (see the module doc for the layout).

    ``beam_angles`` (rad, sensor frame) are the beams observed; ``max_linear`` (m/s) and
    ``max_angular`` (rad/s) the action scale, already lowered to the wheels' limits.
    """

    beam_angles: np.ndarray
    lidar_range: float
    goal_scale: float
    max_linear: float
    max_angular: float

    @classmethod
    def for_scene(cls, scene: NavScene, config: NavConfig) -> NavObservation:
        """The layout for a scene's lidar and wheels under ``config``."""
        lidar = scene.lidar
        angles = lidar.beam_angles()
        span = lidar.max_angle - lidar.min_angle + lidar.angle_increment
        if span >= 2 * math.pi - 1e-6:  # a full circle: evenly spaced around it
            idx = (np.arange(config.beams) * lidar.samples) // config.beams
        else:
            idx = np.round(np.linspace(0, lidar.samples - 1, config.beams)).astype(int)
        linear, angular = config.max_linear, config.max_angular
        wheels = scene.wheels
        limit = float(np.min(scene.wheel_limit))
        if math.isfinite(limit) and limit > 0:
            # The fastest corner of the action square must stay within the wheel limit.
            need = (linear + 0.5 * wheels.separation * angular) / wheels.radius
            if need > limit:
                linear, angular = linear * limit / need, angular * limit / need
        return cls(beam_angles=angles[idx].copy(),
                   lidar_range=min(config.lidar_range, lidar.range_max),
                   goal_scale=config.goal_distance[1], max_linear=linear, max_angular=angular)

    @property
    def beams(self) -> int:
        """Number of lidar values in the observation."""
        return len(self.beam_angles)

    @property
    def size(self) -> int:
        """Length of the observation vector."""
        return self.beams + 5

    @property
    def beam_spacing(self) -> float:
        """Angle between neighbouring observed beams (rad)."""
        if self.beams < 2:
            return 2 * math.pi
        return float(np.mean(np.diff(self.beam_angles)))

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of the observation Box (float32)."""
        low = np.zeros(self.size, dtype=np.float32)
        high = np.ones(self.size, dtype=np.float32)
        low[self.beams + 1:self.beams + 3] = -1.0
        low[self.beams + 3:] = -VELOCITY_CLIP
        high[self.beams + 3:] = VELOCITY_CLIP
        return low, high

    @staticmethod
    def goal_distance(qpos: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Distance from the bases (``qpos`` rows start with x, y) to the goals ``(n, 2)``."""
        return np.hypot(goal[:, 0] - qpos[:, 0], goal[:, 1] - qpos[:, 1])

    def build(self, ranges: np.ndarray, qpos: np.ndarray, qvel: np.ndarray,
              goal: np.ndarray) -> np.ndarray:
        """Observations ``(n, size)`` from REP-117 ``ranges`` ``(n, beams)``, the free joint's
        ``qpos`` ``(n, 7)`` (x, y, z, qw, qx, qy, qz) and ``qvel`` ``(n, 6)`` (world linear,
        body angular), and world-frame ``goal`` ``(n, 2)``."""
        w, x, y, z = qpos[:, 3], qpos[:, 4], qpos[:, 5], qpos[:, 6]
        yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        forward = qvel[:, 0] * np.cos(yaw) + qvel[:, 1] * np.sin(yaw)
        return self.from_state(ranges, qpos[:, 0], qpos[:, 1], yaw, forward, qvel[:, 5], goal)

    def from_state(self, ranges: np.ndarray, x: np.ndarray, y: np.ndarray, yaw: np.ndarray,
                   linear: np.ndarray, angular: np.ndarray, goal: np.ndarray) -> np.ndarray:
        """Observations from ranges ``(n, beams)`` (REP-117), the planar pose, forward speed
        (m/s), yaw rate (rad/s) ``(n,)`` and world-frame ``goal`` ``(n, 2)``."""
        n = len(x)
        out = np.empty((n, self.size), dtype=np.float32)
        r = np.asarray(ranges, dtype=np.float64)
        r = np.where(np.isnan(r) | (r == np.inf), self.lidar_range, r)
        out[:, :self.beams] = np.clip(r / self.lidar_range, 0.0, 1.0)
        dx, dy = goal[:, 0] - x, goal[:, 1] - y
        bearing = np.arctan2(dy, dx) - yaw
        b = self.beams
        out[:, b] = np.minimum(np.hypot(dx, dy) / self.goal_scale, 1.0)
        out[:, b + 1], out[:, b + 2] = np.cos(bearing), np.sin(bearing)
        out[:, b + 3] = np.clip(linear / self.max_linear, -VELOCITY_CLIP, VELOCITY_CLIP)
        out[:, b + 4] = np.clip(angular / self.max_angular, -VELOCITY_CLIP, VELOCITY_CLIP)
        return out

    def twist(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forward speed (m/s) and yaw rate (rad/s) of actions ``(n, 2)`` in [-1, 1]."""
        return actions[:, 0] * self.max_linear, actions[:, 1] * self.max_angular

    def wheel_targets(self, actions: np.ndarray, wheels: WheelGeometry) -> np.ndarray:
        """Wheel joint velocity targets ``(n, 2)`` (left, right; rad/s) of actions ``(n, 2)``."""
        v, w = self.twist(actions)
        left, right = wheels.joint_velocities(v, w)
        return np.stack([left, right], axis=1)

    def to_mapping(self) -> dict[str, Any]:
        """Plain data (JSON) that :meth:`from_mapping` reads back."""
        return {'beam_angles': [float(a) for a in self.beam_angles],
                'lidar_range': self.lidar_range, 'goal_scale': self.goal_scale,
                'max_linear': self.max_linear, 'max_angular': self.max_angular}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *,
                     source: str = 'observation') -> NavObservation:
        """The layout saved by :meth:`to_mapping`.

        :raise ConfigError: a missing or bad key (named with ``source``)
        """
        try:
            angles = np.asarray(data['beam_angles'], dtype=float)
            values = {k: float(data[k]) for k in ('lidar_range', 'goal_scale', 'max_linear',
                                                  'max_angular')}
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f'{source}: bad or missing observation layout: {exc!r}') from exc
        if angles.ndim != 1 or not len(angles) or not np.all(np.isfinite(angles)) or not all(
                math.isfinite(v) and v > 0 for v in values.values()):
            raise ConfigError(f'{source}: observation layout must have finite beam angles and '
                              'positive scales')
        return cls(beam_angles=angles, **values)
