"""A bounded history of stamped base poses, interpolated at any stamp inside it."""

from __future__ import annotations

import math

import numpy as np

from twin_bridge.core.state import OdometrySample
from twin_bridge.errors import TwinBridgeError

__all__ = ['PoseHistory', 'slerp']


def slerp(q0: np.ndarray, q1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between unit quaternions (either convention), shortest arc."""
    dot = float(q0 @ q1)
    if dot < 0.0:
        q1, dot = -q1, -dot
    if dot > 0.9995:  # nearly parallel: normalised lerp is exact to rounding
        out = q0 + t * (q1 - q0)
        return out / np.linalg.norm(out)
    theta = math.acos(dot)
    s = math.sin(theta)
    return (math.sin((1.0 - t) * theta) * q0 + math.sin(t * theta) * q1) / s


class PoseHistory:
    """The last ``capacity`` poses (position, ``(x, y, z, w)`` quaternion) with their stamps.

    Stamps (integer ns) must increase; a sample not newer than the newest is refused
    (``False``). :meth:`at` interpolates linearly in position and by slerp in orientation,
    and returns ``None`` for a stamp outside the stored span (no extrapolation) or across a
    gap longer than ``max_gap_ns``. Memory is fixed: a ring buffer.

    :param capacity: poses kept (>= 2)
    :param max_gap_ns: never interpolate between samples further apart than this
    """

    def __init__(self, capacity: int = 256, max_gap_ns: int = 1_000_000_000) -> None:
        if capacity < 2:
            raise TwinBridgeError(f'PoseHistory capacity must be >= 2, got {capacity}')
        self._stamps = np.zeros(capacity, dtype=np.int64)
        self._pos = np.zeros((capacity, 3))
        self._quat = np.zeros((capacity, 4))
        self._start = 0
        self._size = 0
        self._max_gap = int(max_gap_ns)

    def __len__(self) -> int:
        return self._size

    @property
    def span(self) -> tuple[int, int] | None:
        """Oldest and newest stamp, ``None`` when empty."""
        if self._size == 0:
            return None
        return int(self._stamps[self._start]), int(self._stamps[self._index(self._size - 1)])

    def _index(self, i: int) -> int:
        return (self._start + i) % len(self._stamps)

    def clear(self) -> None:
        """Forget every pose (e.g. after a clock jump)."""
        self._start = self._size = 0

    def add(self, stamp_ns: int, position: np.ndarray, orientation: np.ndarray) -> bool:
        """Append a pose; ``False`` (nothing stored) for a stamp not newer than the newest.

        :raise TwinBridgeError: non-finite values or a zero quaternion
        """
        position = np.asarray(position, dtype=float)
        orientation = np.asarray(orientation, dtype=float)
        if position.shape != (3,) or orientation.shape != (4,):
            raise TwinBridgeError(f'pose: expected 3 + 4 values, got {position.shape} and '
                                  f'{orientation.shape}')
        norm = float(np.linalg.norm(orientation))
        if not (np.all(np.isfinite(position)) and math.isfinite(norm) and norm > 0.0):
            raise TwinBridgeError(f'pose: not finite or zero quaternion: {position}, '
                                  f'{orientation}')
        span = self.span
        if span is not None and stamp_ns <= span[1]:
            return False
        cap = len(self._stamps)
        if self._size < cap:
            i = self._index(self._size)
            self._size += 1
        else:
            i = self._start
            self._start = (self._start + 1) % cap
        self._stamps[i] = stamp_ns
        self._pos[i] = position
        self._quat[i] = orientation / norm
        return True

    def add_odometry(self, sample: OdometrySample) -> bool:
        """:meth:`add` an odometry sample's stamp and pose."""
        return self.add(sample.stamp_ns, sample.position, sample.orientation)

    def at(self, stamp_ns: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Position and unit quaternion at ``stamp_ns``; ``None`` outside the history."""
        span = self.span
        if span is None or not span[0] <= stamp_ns <= span[1]:
            return None
        order = (self._start + np.arange(self._size)) % len(self._stamps)
        stamps = self._stamps[order]
        k = int(np.searchsorted(stamps, stamp_ns, side='left'))
        hi = order[k]
        if stamps[k] == stamp_ns:
            return self._pos[hi].copy(), self._quat[hi].copy()
        lo = order[k - 1]
        gap = int(stamps[k] - stamps[k - 1])
        if gap > self._max_gap:
            return None
        t = (stamp_ns - int(stamps[k - 1])) / gap
        position = self._pos[lo] + t * (self._pos[hi] - self._pos[lo])
        return position, slerp(self._quat[lo], self._quat[hi], t)

    def planar_at(self, stamp_ns: int) -> np.ndarray | None:
        """``(x, y, yaw)`` at ``stamp_ns`` (yaw of the interpolated orientation), or ``None``."""
        pose = self.at(stamp_ns)
        if pose is None:
            return None
        position, q = pose
        x, y, z, w = q
        yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
        return np.array([position[0], position[1], yaw])
