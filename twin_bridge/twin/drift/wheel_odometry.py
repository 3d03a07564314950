"""Wheel slip: wheel joint travel through diff-drive geometry against the motion /odom reports."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math

import numpy as np

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.wheel_geometry import WheelGeometry
from twin_bridge.twin.drift.sequential import GaussianCusum

__all__ = ['DiffDriveGeometry', 'WheelSlipDetector']


@dataclass(frozen=True)
class DiffDriveGeometry:
    """A differential drive: its wheel joints, wheel radius and separation (m).

    ``left_sign``/``right_sign`` are -1 for a wheel whose positive joint motion drives it
    backwards (as in :class:`~twin_bridge.description.wheel_geometry.WheelGeometry`).
    """

    left_joint: str
    right_joint: str
    wheel_radius: float
    wheel_separation: float
    left_sign: float = 1.0
    right_sign: float = 1.0

    @classmethod
    def from_wheel_geometry(cls, wheels: WheelGeometry) -> DiffDriveGeometry:
        """The same drive as a description's :class:`WheelGeometry`."""
        return cls(wheels.left_joint, wheels.right_joint, wheels.radius, wheels.separation,
                   wheels.left_sign, wheels.right_sign)

    def __post_init__(self) -> None:
        if not (self.wheel_radius > 0 and self.wheel_separation > 0):
            raise ValueError('wheel_radius and wheel_separation must be > 0, got '
                             f'{self.wheel_radius}, {self.wheel_separation}')

    def motion(self, d_left: float, d_right: float) -> tuple[float, float]:
        """Forward travel (m) and heading change (rad) for wheel angle changes (rad)."""
        r = self.wheel_radius
        d_left, d_right = self.left_sign * d_left, self.right_sign * d_right
        return r * (d_left + d_right) / 2.0, r * (d_right - d_left) / self.wheel_separation


class WheelSlipDetector:
    """Compare wheel travel with odometry travel, segment by segment; CUSUM on the ratio.

    Each odometry sample is paired with the wheel angles interpolated at its stamp (odometry
    newer than the newest joint state waits, a bounded few), so segments close at odometry
    samples: a jump of the odometry pose (a pose fault; the wheels are true) lies inside one
    odometry interval and so inside one segment, whatever the two streams' rates, and one
    segment can never raise an alarm (:class:`Cusum` caps its increment at half the
    threshold). Every ``segment_travel`` metres of motion close a segment with the relative
    error ``wheel / odom - 1``; its standard score (``relative_noise`` being one standard
    deviation) feeds a two-sided :class:`GaussianCusum`. :attr:`slip` is
    ``sum(wheel) / sum(odom) - 1`` over the last ``window_segments`` segments (those since the
    change's onset while in alarm).

    :param geometry: wheel joints, radius and separation
    :param segment_travel: odometry travel per segment (m)
    :param window_segments: segments in the slip estimate
    :param relative_noise: standard deviation of a segment's relative error without slip
    :param detect_slip: the slip to detect quickly
    :param false_alarm_rate: false alarms per segment allowed without slip
    """

    def __init__(self, geometry: DiffDriveGeometry, *, segment_travel: float = 0.02,
                 window_segments: int = 20, relative_noise: float = 0.02,
                 detect_slip: float = 0.05, false_alarm_rate: float = 1e-7) -> None:
        self.geometry = geometry
        self.segment_travel = float(segment_travel)
        self.relative_noise = float(relative_noise)
        self.cusum = GaussianCusum(detect_slip / relative_noise, false_alarm_rate,
                                   two_sided=True)
        self._wheels: deque[tuple[int, float, float]] = deque(maxlen=64)
        self._pending: deque[tuple[int, np.ndarray]] = deque(maxlen=64)
        self._segments: deque[tuple[int, float, float]] = deque(maxlen=int(window_segments))
        self._start: tuple[float, float, np.ndarray] | None = None
        self._index: dict[tuple[str, ...], tuple[int, int] | None] = {}
        self.segment_count = 0

    def add_odometry(self, sample: OdometrySample) -> None:
        """Pair an odometry pose with the wheel angles at its stamp (or wait for them)."""
        q = sample.orientation
        pose = np.array([sample.position[0], sample.position[1], yaw_from_quat(q)])
        if self._wheels and sample.stamp_ns <= self._wheels[-1][0] and not self._pending:
            self._pair(sample.stamp_ns, pose)
        else:
            self._pending.append((sample.stamp_ns, pose))

    def add_joints(self, sample: JointStateSample) -> None:
        """Record wheel joint positions (samples without both wheels are ignored)."""
        cols = self._index.get(sample.names, False)
        if cols is False:
            names = sample.names
            g = self.geometry
            cols = ((names.index(g.left_joint), names.index(g.right_joint))
                    if g.left_joint in names and g.right_joint in names else None)
            if len(self._index) < 32:
                self._index[names] = cols
        if cols is None:
            return
        left, right = float(sample.positions[cols[0]]), float(sample.positions[cols[1]])
        if not (math.isfinite(left) and math.isfinite(right)):
            return
        if self._wheels and sample.stamp_ns <= self._wheels[-1][0]:
            if sample.stamp_ns < self._wheels[-1][0]:
                self._wheels.clear()  # the clock went back: start the pairing anew
                self._pending.clear()
            else:
                return
        self._wheels.append((sample.stamp_ns, left, right))
        while self._pending and self._pending[0][0] <= sample.stamp_ns:
            self._pair(*self._pending.popleft())

    def _wheels_at(self, stamp: int) -> tuple[float, float] | None:
        """Wheel angles interpolated at ``stamp``; ``None`` before the oldest joint state."""
        later = None
        for earlier in reversed(self._wheels):
            if earlier[0] <= stamp:
                if later is None or earlier[0] == stamp:
                    return earlier[1], earlier[2]
                f = (stamp - earlier[0]) / (later[0] - earlier[0])
                return (earlier[1] + f * (later[1] - earlier[1]),
                        earlier[2] + f * (later[2] - earlier[2]))
            later = earlier
        return None

    def _pair(self, stamp: int, pose: np.ndarray) -> None:
        wheels = self._wheels_at(stamp)
        if wheels is not None:
            self._advance(wheels[0], wheels[1], pose)

    def _advance(self, left: float, right: float, pose: np.ndarray) -> None:
        if self._start is None:
            self._start = (left, right, pose)
            return
        left0, right0, pose0 = self._start
        wheel, _ = self.geometry.motion(left - left0, right - right0)
        heading = pose0[2] + 0.5 * math.atan2(math.sin(pose[2] - pose0[2]),
                                              math.cos(pose[2] - pose0[2]))
        odom = ((pose[0] - pose0[0]) * math.cos(heading)
                + (pose[1] - pose0[1]) * math.sin(heading))
        seg = self.segment_travel
        if abs(odom) < seg and abs(wheel) < seg:
            return
        self._start = (left, right, pose)
        if abs(odom) < seg / 4:  # wheels turn, the base hardly moves: spinning in place
            error = 1.0
        else:
            error = wheel / odom - 1.0
        self.cusum.update(error / self.relative_noise)
        self._segments.append((self.segment_count, wheel, odom))
        self.segment_count += 1

    @property
    def alarm(self) -> bool:
        """Whether the CUSUM says the wheels slip (or their parameters are wrong)."""
        return self.cusum.alarm

    @property
    def slip(self) -> float | None:
        """``wheel travel / odom travel - 1`` over the window; ``None`` before any segment."""
        onset = self.cusum.change_onset if self.alarm else -1
        segs = [s for s in self._segments if s[0] >= onset] or list(self._segments)
        odom = sum(abs(s[2]) for s in segs)
        if odom <= 0.0:
            return None
        return sum(math.copysign(s[1], s[2]) for s in segs) / odom - 1.0
