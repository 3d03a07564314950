"""Rigid-body pose helpers (numpy only).

Conventions: quaternions are ``(x, y, z, w)`` as in ROS messages unless a name says ``wxyz``
(MuJoCo's order). Euler angles are SDF/URDF fixed-axis roll-pitch-yaw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    'Pose',
    'quat_from_rpy',
    'quat_multiply',
    'quat_to_matrix',
    'quat_xyzw_to_wxyz',
    'quat_wxyz_to_xyzw',
    'rotate',
    'yaw_from_quat',
]


def quat_from_rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Quaternion ``(x, y, z, w)`` of fixed-axis roll-pitch-yaw: R = Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr = np.cos(roll / 2), np.sin(roll / 2)
    cp, sp = np.cos(pitch / 2), np.sin(pitch / 2)
    cy, sy = np.cos(yaw / 2), np.sin(yaw / 2)
    return np.array([
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    ])


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` of two ``(x, y, z, w)`` quaternions."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ])


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix of a unit ``(x, y, z, w)`` quaternion."""
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vector ``v`` by unit quaternion ``q`` ``(x, y, z, w)``."""
    return quat_to_matrix(q) @ np.asarray(v, dtype=float)


def quat_xyzw_to_wxyz(q: np.ndarray) -> np.ndarray:
    """ROS order -> MuJoCo order."""
    return np.array([q[3], q[0], q[1], q[2]], dtype=float)


def quat_wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    """MuJoCo order -> ROS order."""
    return np.array([q[1], q[2], q[3], q[0]], dtype=float)


def yaw_from_quat(q: np.ndarray) -> float:
    """Heading (rotation about z) of an ``(x, y, z, w)`` quaternion."""
    x, y, z, w = q
    return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


@dataclass(frozen=True)
class Pose:
    """A rigid transform: ``position`` (3,) and unit ``orientation`` (x, y, z, w)."""

    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    orientation: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))

    @classmethod
    def from_xyz_rpy(cls, xyz: tuple[float, float, float] | np.ndarray = (0, 0, 0),
                     rpy: tuple[float, float, float] | np.ndarray = (0, 0, 0)) -> 'Pose':
        """Pose from SDF/URDF-style translation and roll-pitch-yaw."""
        return cls(np.asarray(xyz, dtype=float).copy(), quat_from_rpy(*rpy))

    def compose(self, child: 'Pose') -> 'Pose':
        """``self * child``: ``child`` expressed in this pose's parent frame."""
        q = self.orientation
        if q[3] == 1.0:  # no rotation (a unit quaternion): the same numbers, much faster
            return Pose(self.position + child.position, np.array(child.orientation, dtype=float))
        orientation = (np.array(q, dtype=float) if child.orientation[3] == 1.0
                       else quat_multiply(q, child.orientation))
        return Pose(self.position + rotate(q, child.position), orientation)

    def inverse(self) -> 'Pose':
        """The inverse transform."""
        q_inv = np.array([-self.orientation[0], -self.orientation[1], -self.orientation[2],
                          self.orientation[3]])
        return Pose(-rotate(q_inv, self.position), q_inv)

    def matrix(self) -> np.ndarray:
        """4x4 homogeneous matrix."""
        out = np.eye(4)
        out[:3, :3] = quat_to_matrix(self.orientation)
        out[:3, 3] = self.position
        return out
