"""Plain data samples exchanged between the ROS layer, the core and the backends.

These mirror ``sensor_msgs/JointState`` and ``nav_msgs/Odometry`` without importing them.
Stamps are integer nanoseconds (``builtin_interfaces/Time`` as ``sec * 1e9 + nanosec``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ['JointStateSample', 'OdometrySample']


def _zeros3() -> np.ndarray:
    return np.zeros(3)


@dataclass(frozen=True)
class JointStateSample:
    """Joint positions by name (velocities/efforts optional, same length when present)."""

    names: tuple[str, ...]
    positions: np.ndarray
    velocities: np.ndarray | None = None
    efforts: np.ndarray | None = None
    stamp_ns: int = 0


@dataclass(frozen=True)
class OdometrySample:
    """Base pose in ``frame_id`` and twist in ``child_frame_id`` (REP-105 odom -> base_link)."""

    position: np.ndarray
    orientation: np.ndarray  # (x, y, z, w), unit
    linear_velocity: np.ndarray = field(default_factory=_zeros3)
    angular_velocity: np.ndarray = field(default_factory=_zeros3)
    stamp_ns: int = 0
    frame_id: str = 'odom'
    child_frame_id: str = 'base_link'
