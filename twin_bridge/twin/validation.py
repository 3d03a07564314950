"""Validation of physical joint-state and odometry samples before they reach the twin."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from enum import Enum
from typing import Generic, TypeVar

import numpy as np

from twin_bridge.core.state import JointStateSample, OdometrySample

__all__ = [
    'DEFAULT_QUATERNION_TOLERANCE',
    'DEFAULT_RESYNC_SAMPLES',
    'DEFAULT_RESYNC_SPAN_S',
    'RejectReason',
    'StampGuard',
    'Verdict',
    'check_joint_state',
    'check_odometry',
]

# Largest accepted | |q| - 1 |; smaller deviations are normalised away.
DEFAULT_QUATERNION_TOLERANCE = 1e-3
_ZERO_NORM = 1e-9
# A run of backwards stamps becomes the new timeline after this many increasing samples, or
# once it spans this many seconds of stamps (with at least _MIN_RESYNC_SAMPLES samples).
DEFAULT_RESYNC_SAMPLES = 10
DEFAULT_RESYNC_SPAN_S = 1.0
_MIN_RESYNC_SAMPLES = 3

T = TypeVar('T')


class RejectReason(str, Enum):
    """Why an input sample was rejected (the value is the name used in diagnostics)."""

    EMPTY = 'empty'
    NO_POSITIONS = 'no_positions'
    LENGTH_MISMATCH = 'length_mismatch'
    NON_FINITE = 'non_finite'
    UNKNOWN_JOINT = 'unknown_joint'
    DUPLICATE_JOINT = 'duplicate_joint'
    ZERO_QUATERNION = 'zero_quaternion'
    NON_UNIT_QUATERNION = 'non_unit_quaternion'
    FUTURE_STAMP = 'future_stamp'
    STAMP_BACKWARDS = 'stamp_backwards'
    BACKEND_ERROR = 'backend_error'


@dataclass(frozen=True)
class Verdict(Generic[T]):
    """Outcome of a check: the (possibly normalised) sample, or a reason and a detail text.

    ``ignored`` lists names an accepted sample was stripped of (unknown joints, when the
    check was told to ignore them).
    """

    sample: T | None
    reason: RejectReason | None = None
    detail: str = ''
    ignored: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the sample was accepted."""
        return self.reason is None

    @classmethod
    def reject(cls, reason: RejectReason, detail: str) -> Verdict[T]:
        """A rejection with its reason and a human-readable detail."""
        return cls(None, reason, detail)


def _non_finite(name: str, values: np.ndarray, labels: Collection[str] | None = None) -> str:
    bad = np.flatnonzero(~np.isfinite(values))
    if not len(bad):
        return ''
    where = ', '.join(list(labels)[i] if labels is not None else str(i) for i in bad[:3])
    return f'{name} not finite ({where})'


def check_joint_state(sample: JointStateSample, known_names: Collection[str], *,
                      ignore_unknown: bool = False) -> Verdict[JointStateSample]:
    """Check a joint-state sample's shape, values and names.

    Rejects: no names (``empty``); names but no positions (``no_positions``: a
    velocity-only message); ``positions`` not one per name, or ``velocities``/``efforts``
    neither empty nor one per name (``length_mismatch``); a name given twice; a name the
    twin does not have (unless ``ignore_unknown``); a NaN/Inf position or an infinite
    velocity (``non_finite``).

    What ros2_control's joint_state_broadcaster sends is accepted: a NaN velocity means
    "not reported" and is passed on as 0; efforts are never used, so they are only
    length-checked and then dropped (``efforts=None``, NaN allowed). Empty velocity arrays
    are passed on as ``None``.

    With ``ignore_unknown``, names the twin lacks are stripped (with their values, which are
    then not checked) and listed in :attr:`Verdict.ignored`; a sample with no known name at
    all is still rejected as ``unknown_joint``.

    :param known_names: the backend's movable joint names (ideally a set)
    """
    names = sample.names
    n = len(names)
    if n == 0:
        return Verdict.reject(RejectReason.EMPTY, 'no joint names')
    positions = np.asarray(sample.positions, dtype=float).reshape(-1)
    if len(positions) == 0:
        return Verdict.reject(RejectReason.NO_POSITIONS,
                              f'{n} names but no positions (a velocity/effort-only message '
                              'cannot be mirrored)')
    if len(positions) != n:
        return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                              f'{n} names but {len(positions)} positions')
    extras: dict[str, np.ndarray | None] = {}
    for field_name in ('velocities', 'efforts'):
        values = getattr(sample, field_name)
        if values is None or len(values) == 0:
            extras[field_name] = None
            continue
        values = np.asarray(values, dtype=float).reshape(-1)
        if len(values) != n:
            return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                                  f'{n} names but {len(values)} {field_name}')
        extras[field_name] = values
    velocities = extras['velocities']
    if len(set(names)) != n:
        seen: set[str] = set()
        dupes = sorted({name for name in names if name in seen or seen.add(name)})
        return Verdict.reject(RejectReason.DUPLICATE_JOINT, f'duplicate joint names {dupes}')
    known = np.fromiter((name in known_names for name in names), dtype=bool, count=n)
    ignored: tuple[str, ...] = ()
    if not known.all():
        unknown = [name for name, k in zip(names, known, strict=True) if not k]
        if not ignore_unknown or not known.any():
            return Verdict.reject(RejectReason.UNKNOWN_JOINT,
                                  f'unknown joint names {unknown[:5]}'
                                  + (f' and {len(unknown) - 5} more' if len(unknown) > 5 else '')
                                  + f' (the twin has {sorted(known_names)})')
        ignored = tuple(unknown)
        names = tuple(name for name, k in zip(names, known, strict=True) if k)
        positions = positions[known]
        velocities = None if velocities is None else velocities[known]
    if problem := _non_finite('positions', positions, names):
        return Verdict.reject(RejectReason.NON_FINITE, problem)
    if velocities is not None:
        unreported = np.isnan(velocities)
        if problem := _non_finite('velocities', np.where(unreported, 0.0, velocities), names):
            return Verdict.reject(RejectReason.NON_FINITE, problem)
        if unreported.any():
            velocities = np.where(unreported, 0.0, velocities)
    return Verdict(replace(sample, names=names, positions=positions, velocities=velocities,
                           efforts=None), ignored=ignored)


def check_odometry(sample: OdometrySample,
                   quaternion_tolerance: float = DEFAULT_QUATERNION_TOLERANCE,
                   ) -> Verdict[OdometrySample]:
    """Check an odometry sample's pose and twist; normalise a nearly-unit quaternion.

    Rejects: wrong vector sizes; NaN/Inf in position, orientation or twist; a zero
    quaternion; a quaternion whose norm differs from 1 by more than ``quaternion_tolerance``.
    """
    parts = {
        'position': (sample.position, 3),
        'orientation': (sample.orientation, 4),
        'linear_velocity': (sample.linear_velocity, 3),
        'angular_velocity': (sample.angular_velocity, 3),
    }
    arrays: dict[str, np.ndarray] = {}
    for name, (values, size) in parts.items():
        values = np.asarray(values, dtype=float).reshape(-1)
        if len(values) != size:
            return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                                  f'{name} has {len(values)} values, expected {size}')
        if problem := _non_finite(name, values, 'xyzw' if size == 4 else 'xyz'):
            return Verdict.reject(RejectReason.NON_FINITE, problem)
        arrays[name] = values
    q = arrays['orientation']
    norm = float(np.linalg.norm(q))
    if norm < _ZERO_NORM:
        return Verdict.reject(RejectReason.ZERO_QUATERNION, 'orientation quaternion is zero')
    if abs(norm - 1.0) > quaternion_tolerance:
        return Verdict.reject(RejectReason.NON_UNIT_QUATERNION,
                              f'orientation quaternion norm {norm:.6g} is not 1 '
                              f'(tolerance {quaternion_tolerance:g})')
    arrays['orientation'] = q / norm
    return Verdict(replace(sample, **arrays))


class StampGuard:
    """Rejects stamps too far in the future or older than the last accepted one of a stream,
    and follows a new timeline once one is established.

    Equal stamps are accepted (some drivers repeat a stamp). An isolated backwards stamp is
    rejected; but a run of backwards samples whose stamps increase among themselves (a
    rebooted robot, a clock step, ``ros2 bag play --loop``) becomes the new timeline after
    ``resync_samples`` samples, or once it spans ``resync_span_ns`` of stamps with at least
    3 samples: the sample completing the run passes :meth:`check`, and :meth:`accept` then
    moves the guard back. A sample accepted on the current timeline ends any run.

    Call :meth:`accept` only once the sample has passed every other check, so a rejected
    sample never moves :attr:`last_ns`.
    """

    def __init__(self, max_future_ns: int, *, resync_samples: int = DEFAULT_RESYNC_SAMPLES,
                 resync_span_ns: int = int(DEFAULT_RESYNC_SPAN_S * 1e9)) -> None:
        """:param max_future_ns: largest accepted ``stamp - now`` in nanoseconds (>= 0)
        :param resync_samples: increasing backwards samples that make a new timeline (>= 1)
        :param resync_span_ns: stamp span of a run that makes a new timeline (> 0)
        """
        if max_future_ns < 0:
            raise ValueError(f'max_future_ns must be >= 0, got {max_future_ns}')
        if resync_samples < 1:
            raise ValueError(f'resync_samples must be >= 1, got {resync_samples}')
        if resync_span_ns <= 0:
            raise ValueError(f'resync_span_ns must be > 0, got {resync_span_ns}')
        self.max_future_ns = int(max_future_ns)
        self.resync_samples = int(resync_samples)
        self.resync_span_ns = int(resync_span_ns)
        self.last_ns: int | None = None
        self.timeline_resets = 0
        self._run_first: int | None = None   # the current run of backwards stamps
        self._run_last = 0
        self._run_count = 0

    def check(self, stamp_ns: int, now_ns: int) -> tuple[RejectReason | None, str]:
        """``(None, '')`` if ``stamp_ns`` is acceptable at wall time ``now_ns``, else why not.

        A backwards stamp is recorded in the current run of backwards samples (it never moves
        :attr:`last_ns`); the one completing a run is acceptable.
        """
        ahead = stamp_ns - now_ns
        if ahead > self.max_future_ns:
            return (RejectReason.FUTURE_STAMP,
                    f'stamp is {ahead * 1e-9:.3f} s in the future '
                    f'(limit {self.max_future_ns * 1e-9:g} s)')
        if self.last_ns is None or stamp_ns >= self.last_ns:
            return None, ''
        if self._run_first is None or stamp_ns < self._run_last:
            self._run_first, self._run_last, self._run_count = stamp_ns, stamp_ns, 1
        elif stamp_ns > self._run_last:
            self._run_last = stamp_ns
            self._run_count += 1
        span = self._run_last - self._run_first
        if (self._run_count >= self.resync_samples
                or (self._run_count >= _MIN_RESYNC_SAMPLES and span >= self.resync_span_ns)):
            return None, ''
        return (RejectReason.STAMP_BACKWARDS,
                f'stamp went back {(self.last_ns - stamp_ns) * 1e-9:.6f} s '
                f'from the last accepted sample ({self._run_count} consecutive increasing '
                f'samples of a new timeline; {self.resync_samples} make it current)')

    def accept(self, stamp_ns: int) -> int:
        """Remember ``stamp_ns`` as the stream's last accepted stamp.

        :return: how far back the timeline jumped in ns (> 0 only when a run of backwards
            samples has just become the new timeline; counted in :attr:`timeline_resets`)
        """
        jump = 0
        if self.last_ns is not None and stamp_ns < self.last_ns:
            jump = self.last_ns - stamp_ns
            self.timeline_resets += 1
        self.last_ns = stamp_ns
        self._run_first = None
        self._run_count = 0
        return jump
