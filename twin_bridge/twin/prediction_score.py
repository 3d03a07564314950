"""Every prediction scored when reality arrives: the error of the pose ``lead`` seconds ahead.

A prediction is anything with ``stamp_ns``, ``times``, ``x``, ``y``, ``yaw`` (a
:class:`~twin_bridge.twin.prediction.PredictedPath`, or an ensemble prediction, which also
has ``member_x``/``member_y``: its members' positions). It waits (a bounded few) until
odometry newer than ``stamp + lead`` has arrived; reality at that stamp is interpolated in
a bounded :class:`PoseHistory`. For an ensemble, coverage asks whether reality fell inside
the members' 90 % ellipse: the squared Mahalanobis distance of the real position from the
members' mean, under their covariance plus ``position_floor`` squared (the measurement
noise the members do not model), is at most the chi-square(2) quantile ``-2 ln(1 - p)``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math
from typing import Any

import numpy as np

from twin_bridge.core.state import OdometrySample
from twin_bridge.errors import TwinBridgeError
from twin_bridge.twin.pose_history import PoseHistory

__all__ = ['PredictionScorer', 'PredictionStats']


@dataclass(frozen=True)
class PredictionStats:
    """Scores over the window: position error p50/p95 (m), yaw error p50 (rad), how many
    were scored, ensemble coverage (``nan`` before any ensemble is scored), predictions still
    pending, and those dropped (queue full) or unscorable (no odometry around their time)."""

    count: int
    p50: float
    p95: float
    yaw_p50: float
    coverage: float
    coverage_count: int
    pending: int
    dropped: int
    unscorable: int


class PredictionScorer:
    """Score predictions ``lead`` seconds ahead against arriving odometry.

    :param lead: seconds ahead the pose is scored at (must be within a prediction's times)
    :param window: scored predictions the statistics cover
    :param max_pending: predictions waiting for reality at most (the oldest is dropped)
    :param interval: probability of the ensemble region tested for coverage
    :param position_floor: standard deviation (m) added to the ensemble spread per axis
    :raise TwinBridgeError: a parameter out of range
    """

    def __init__(self, lead: float = 1.0, *, window: int = 200, max_pending: int = 64,
                 interval: float = 0.9, position_floor: float = 0.002,
                 history: int = 512) -> None:
        if not (math.isfinite(lead) and lead > 0 and window >= 1 and max_pending >= 1
                and 0 < interval < 1 and position_floor >= 0):
            raise TwinBridgeError(f'bad PredictionScorer parameters: lead={lead}, '
                                  f'window={window}, max_pending={max_pending}, '
                                  f'interval={interval}, position_floor={position_floor}')
        self.lead = float(lead)
        self._lead_ns = int(round(self.lead * 1e9))
        self._limit = -2.0 * math.log(1.0 - interval)
        self._floor = float(position_floor) ** 2
        self._history = PoseHistory(capacity=history, max_gap_ns=1_000_000_000)
        self._pending: deque[tuple[int, np.ndarray, np.ndarray | None]] = deque()
        self._max_pending = int(max_pending)
        self._errors: deque[float] = deque(maxlen=int(window))
        self._yaw_errors: deque[float] = deque(maxlen=int(window))
        self._covered: deque[bool] = deque(maxlen=int(window))
        self.dropped = 0
        self.unscorable = 0

    def add_prediction(self, prediction: Any) -> bool:
        """Queue a prediction; ``False`` (ignored) when it does not reach ``lead`` seconds.

        Only the predicted pose at ``lead`` (and the members' positions there) is kept.
        """
        times = np.asarray(prediction.times, dtype=float)
        if times[-1] < self.lead - 1e-9:
            return False
        pose = np.array([np.interp(self.lead, times, prediction.x),
                         np.interp(self.lead, times, prediction.y),
                         np.interp(self.lead, times, prediction.yaw)])
        members = None
        member_x = getattr(prediction, 'member_x', None)
        if member_x is not None:
            k = int(np.searchsorted(times, self.lead - 1e-9))
            k0 = max(0, k - 1)
            span = times[k] - times[k0]
            f = 0.0 if span <= 0 else (self.lead - times[k0]) / span
            mx, my = np.asarray(member_x), np.asarray(prediction.member_y)
            members = np.column_stack([mx[:, k0] + f * (mx[:, k] - mx[:, k0]),
                                       my[:, k0] + f * (my[:, k] - my[:, k0])])
        if len(self._pending) >= self._max_pending:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append((int(prediction.stamp_ns) + self._lead_ns, pose, members))
        return True

    def add_odometry(self, sample: OdometrySample) -> int:
        """Record reality; score every pending prediction it reaches. Returns how many."""
        self._history.add_odometry(sample)
        span = self._history.span
        scored = 0
        while self._pending and span is not None and self._pending[0][0] <= span[1]:
            target, pose, members = self._pending.popleft()
            real = self._history.planar_at(target)
            if real is None:
                self.unscorable += 1
                continue
            self._score(pose, members, real)
            scored += 1
        return scored

    def _score(self, pose: np.ndarray, members: np.ndarray | None, real: np.ndarray) -> None:
        self._errors.append(float(np.hypot(*(pose[:2] - real[:2]))))
        dyaw = pose[2] - real[2]
        self._yaw_errors.append(abs(math.atan2(math.sin(dyaw), math.cos(dyaw))))
        if members is not None:
            mean = members.mean(axis=0)
            cov = (np.cov(members, rowvar=False) if len(members) > 1 else np.zeros((2, 2)))
            cov = cov + self._floor * np.eye(2)
            d = real[:2] - mean
            try:
                m2 = float(d @ np.linalg.solve(cov, d))
            except np.linalg.LinAlgError:  # no spread and no floor
                m2 = 0.0 if not np.any(d) else math.inf
            self._covered.append(m2 <= self._limit)

    @property
    def stats(self) -> PredictionStats:
        """The statistics over the window."""
        errors = np.array(self._errors)
        yaw = np.array(self._yaw_errors)
        return PredictionStats(
            count=len(errors),
            p50=float(np.percentile(errors, 50)) if len(errors) else math.nan,
            p95=float(np.percentile(errors, 95)) if len(errors) else math.nan,
            yaw_p50=float(np.percentile(yaw, 50)) if len(yaw) else math.nan,
            coverage=float(np.mean(self._covered)) if self._covered else math.nan,
            coverage_count=len(self._covered), pending=len(self._pending),
            dropped=self.dropped, unscorable=self.unscorable)
