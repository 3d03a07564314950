"""Kinematic prediction of the next seconds: a differential drive or a constant planar twist.

From the latest mirrored state (odometry pose and twist, joint positions and velocities) the
base is assumed to keep its current body twist, and the path is the exact solution of
planar rigid motion under a constant twist (circular arcs; straight lines when the yaw rate
is zero), not an Euler integration. For a differential drive the twist comes from the wheel
joint velocities through the wheel geometry when the joint state reports them, else from
the odometry twist.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from twin_bridge.core.arcs import arc_poses
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_multiply, yaw_from_quat
from twin_bridge.description.wheel_geometry import WheelGeometry
from twin_bridge.errors import TwinBridgeError

__all__ = ['KinematicPredictor', 'PredictedPath', 'constant_twist_path', 'prediction_times']

# Joint-name tuples whose wheel columns are kept (distinct tuples, oldest evicted first).
_INDEX_CACHE_SIZE = 32


@dataclass(frozen=True)
class PredictedPath:
    """A predicted planar path: ``times`` (s after ``stamp_ns``, from 0) and the pose at each.

    ``z`` is the base height, ``base_orientation`` the ``(x, y, z, w)`` orientation at time 0
    (roll and pitch are kept; the yaw turns). ``linear``/``lateral``/``angular`` are the body
    twist the path was made with and ``source`` where it came from (``'wheels'`` or
    ``'odometry'``).
    """

    stamp_ns: int
    times: np.ndarray
    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray
    z: float = 0.0
    base_orientation: np.ndarray | None = None
    linear: float = 0.0
    lateral: float = 0.0
    angular: float = 0.0
    source: str = 'odometry'

    @property
    def horizon(self) -> float:
        """The last predicted time (s)."""
        return float(self.times[-1])

    def at(self, t: float) -> np.ndarray:
        """``(x, y, yaw)`` at ``t`` seconds ahead (linear interpolation between steps).

        :raise TwinBridgeError: ``t`` outside ``[0, horizon]``
        """
        if not 0.0 <= t <= self.times[-1] + 1e-9:
            raise TwinBridgeError(f'prediction time {t} s outside [0, {self.horizon}] s')
        return np.array([np.interp(t, self.times, self.x), np.interp(t, self.times, self.y),
                         np.interp(t, self.times, self.yaw)])

    def positions(self) -> np.ndarray:
        """Positions ``(n, 3)`` (``z`` constant)."""
        return np.column_stack([self.x, self.y, np.full_like(self.x, self.z)])

    def orientations(self) -> np.ndarray:
        """Orientations ``(n, 4)`` ``(x, y, z, w)``: the start orientation turned about the
        world z axis by the predicted yaw change."""
        half = 0.5 * (self.yaw - self.yaw[0])
        turn = np.zeros((len(half), 4))
        turn[:, 2], turn[:, 3] = np.sin(half), np.cos(half)
        q0 = (self.base_orientation if self.base_orientation is not None
              else np.array([0.0, 0.0, math.sin(0.5 * self.yaw[0]),
                             math.cos(0.5 * self.yaw[0])]))
        return np.array([quat_multiply(q, q0) for q in turn])


def prediction_times(horizon: float, step: float) -> np.ndarray:
    """``0, step, 2 step, ..., horizon`` (the last step shortened to end at ``horizon``).

    :raise TwinBridgeError: ``horizon`` or ``step`` not finite and > 0
    """
    if not (math.isfinite(horizon) and horizon > 0 and math.isfinite(step) and step > 0):
        raise TwinBridgeError(f'prediction horizon and step must be finite and > 0, got '
                              f'{horizon}, {step}')
    n = max(1, int(math.ceil(horizon / step - 1e-9)))
    times = np.arange(n + 1) * step
    times[-1] = horizon
    return times


def constant_twist_path(x0: float, y0: float, yaw0: float, linear: float, angular: float,
                        times: np.ndarray, lateral: float = 0.0
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact planar path under a constant body twist (``linear`` along the body x axis,
    ``lateral`` along y, both m/s; ``angular`` rad/s about z) from ``(x0, y0, yaw0)``.

    Position is ``p0 + R(yaw0) * integral_0^t R(angular s) (linear, lateral) ds``
    (:func:`twin_bridge.core.arcs.arc_poses`).
    """
    dx_body, dy_body, turn = arc_poses(linear, angular, times, lateral)
    cos0, sin0 = math.cos(yaw0), math.sin(yaw0)
    return (x0 + cos0 * dx_body - sin0 * dy_body, y0 + sin0 * dx_body + cos0 * dy_body,
            yaw0 + turn)


class KinematicPredictor:
    """Predict the base path from the latest mirrored state under a constant twist.

    With a :class:`WheelGeometry` (a differential drive) the body twist comes from the wheel
    joint velocities (``v = r (wl + wr) / 2``, ``omega = r (wr - wl) / b``, signs per the
    joint axes) whenever the joint state reports finite velocities for both wheels, and the
    lateral velocity is zero; otherwise (no geometry, no wheel velocities) the odometry twist
    is used as it is, lateral velocity included.

    :param geometry: the robot's differential drive, or ``None`` for constant-twist only
    :param horizon: seconds predicted (default 1.0)
    :param step: seconds between predicted poses (default 0.05)
    :raise TwinBridgeError: ``horizon`` or ``step`` not finite and > 0
    """

    def __init__(self, geometry: WheelGeometry | None = None, *, horizon: float = 1.0,
                 step: float = 0.05) -> None:
        self.geometry = geometry
        self.times = prediction_times(float(horizon), float(step))
        self.horizon, self.step = float(horizon), float(step)
        self._columns: dict[tuple[str, ...], tuple[int, int] | None] = {}

    def twist(self, odometry: OdometrySample,
              joints: JointStateSample | None = None) -> tuple[float, float, float, str]:
        """``(linear, lateral, angular, source)``: the body twist a prediction uses."""
        wheels = self._wheel_velocities(joints)
        if wheels is not None:
            linear, angular = self.geometry.twist(*wheels)
            return float(linear), 0.0, float(angular), 'wheels'
        v, w = odometry.linear_velocity, odometry.angular_velocity
        return float(v[0]), float(v[1]), float(w[2]), 'odometry'

    def predict(self, odometry: OdometrySample, joints: JointStateSample | None = None,
                *, horizon: float | None = None, step: float | None = None) -> PredictedPath:
        """The predicted path from ``odometry`` (pose and twist) and ``joints``.

        :param horizon: override the constructor's horizon (s)
        :param step: override the constructor's step (s)
        :raise TwinBridgeError: a bad horizon/step, or a non-finite pose or twist
        """
        times = (self.times if horizon is None and step is None
                 else prediction_times(self.horizon if horizon is None else float(horizon),
                                       self.step if step is None else float(step)))
        linear, lateral, angular, source = self.twist(odometry, joints)
        position = odometry.position
        yaw0 = yaw_from_quat(odometry.orientation)
        if not all(math.isfinite(v) for v in (linear, lateral, angular, yaw0, *position)):
            raise TwinBridgeError(f'prediction needs a finite pose and twist, got position '
                                  f'{position}, yaw {yaw0}, twist {linear}, {lateral}, '
                                  f'{angular}')
        x, y, yaw = constant_twist_path(float(position[0]), float(position[1]), yaw0, linear,
                                        angular, times, lateral)
        return PredictedPath(stamp_ns=int(odometry.stamp_ns), times=times, x=x, y=y, yaw=yaw,
                             z=float(position[2]),
                             base_orientation=np.asarray(odometry.orientation, dtype=float),
                             linear=linear, lateral=lateral, angular=angular, source=source)

    def _wheel_velocities(self, joints: JointStateSample | None) -> tuple[float, float] | None:
        if self.geometry is None or joints is None or joints.velocities is None:
            return None
        cols = self._columns.get(joints.names, False)
        if cols is False:
            names, g = joints.names, self.geometry
            cols = ((names.index(g.left_joint), names.index(g.right_joint))
                    if g.left_joint in names and g.right_joint in names else None)
            if len(self._columns) >= _INDEX_CACHE_SIZE:
                del self._columns[next(iter(self._columns))]
            self._columns[joints.names] = cols
        if cols is None:
            return None
        left, right = float(joints.velocities[cols[0]]), float(joints.velocities[cols[1]])
        if not (math.isfinite(left) and math.isfinite(right)):
            return None
        return left, right
