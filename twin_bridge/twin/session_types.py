"""The session's configuration and what it answers for each input sample."""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.twin.scan_validation import MAX_SCAN_BEAMS
from twin_bridge.twin.validation import (
    DEFAULT_MAX_JOINT_POSITION,
    DEFAULT_MAX_MAGNITUDE,
    DEFAULT_QUATERNION_TOLERANCE,
    Verdict,
)

__all__ = ['InputOutcome', 'SessionConfig']


@dataclass(frozen=True)
class SessionConfig:
    """Tunables of a :class:`TwinSession` (times in seconds).

    ``scan_period`` is the expected time between scans (0 = no scan output); the scan stream
    is reported stale after ``max(stale_timeout, 3 * scan_period)`` without one.
    ``ignore_unknown_joints``: mirror the known joints of a joint-state sample that also
    names joints the twin lacks (counted as ``ignored.unknown_joint``) instead of rejecting
    it as ``unknown_joint``. ``max_magnitude`` bounds odometry positions (m), twists and joint
    velocities, ``max_joint_position`` joint positions (m or rad): beyond, a sample is
    rejected as ``out_of_range`` (see :mod:`twin_bridge.twin.validation`).
    ``joint_states_rate``/``odom_rate`` > 0: that output is published by the node's
    rate-capped timer (:meth:`StateOutput.take`) instead of once per accepted input.
    ``scan_input``: the session takes physical scans (:meth:`TwinSession.on_scan`), an
    optional input, with at most ``max_scan_beams`` beams.
    """

    stale_timeout: float = 0.5
    max_future_stamp: float = 0.5
    quaternion_tolerance: float = DEFAULT_QUATERNION_TOLERANCE
    error_factor: float = 4.0
    scan_period: float = 0.0
    stats_capacity: int = 1000
    stats_window_s: float = 10.0
    ignore_unknown_joints: bool = False
    max_magnitude: float = DEFAULT_MAX_MAGNITUDE
    max_joint_position: float = DEFAULT_MAX_JOINT_POSITION
    joint_states_rate: float = 0.0
    odom_rate: float = 0.0
    scan_input: bool = False
    max_scan_beams: int = MAX_SCAN_BEAMS

    def __post_init__(self) -> None:
        for name in ('stale_timeout', 'stats_window_s', 'max_magnitude', 'max_joint_position'):
            if not getattr(self, name) > 0:
                raise ValueError(f'{name} must be > 0, got {getattr(self, name)}')
        for name in ('max_future_stamp', 'quaternion_tolerance', 'scan_period',
                     'joint_states_rate', 'odom_rate'):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f'{name} must be a finite value >= 0, got {value}')


@dataclass(frozen=True)
class InputOutcome:
    """Result of feeding one physical sample to the session.

    ``output`` is the sample the node publishes for it now (``None``: rejected, the output
    is rate-capped, or the twin has no state yet); after publishing, the node records it
    with the output's :meth:`~twin_bridge.twin.outputs.StateOutput.published`.
    ``notes`` are log lines about an accepted sample that the session emits once per
    occasion (first unstamped sample of a stream, a timeline reset, joint names ignored or
    an unknown odometry frame, each the first time); a node logs them as warnings.
    """

    stream: str
    verdict: Verdict[Any]
    recovered: bool = False
    notes: tuple[str, ...] = ()
    output: JointStateSample | OdometrySample | None = None

    @property
    def accepted(self) -> bool:
        """True if the sample was mirrored into the twin."""
        return self.verdict.reason is None

    def describe(self) -> str:
        """A log line for a rejection (empty when accepted)."""
        if self.verdict.reason is None:
            return ''
        return f'rejected {self.stream} sample: {self.verdict.reason.value}: {self.verdict.detail}'
