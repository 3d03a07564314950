"""Validation of physical joint-state and odometry samples before they reach the twin."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from enum import Enum
from typing import Generic, TypeVar

import numpy as np

from twin_bridge.state import JointStateSample, OdometrySample

__all__ = [
    'DEFAULT_QUATERNION_TOLERANCE',
    'RejectReason',
    'StampGuard',
    'Verdict',
    'check_joint_state',
    'check_odometry',
]

# Largest accepted | |q| - 1 |; smaller deviations are normalised away.
DEFAULT_QUATERNION_TOLERANCE = 1e-3
_ZERO_NORM = 1e-9

T = TypeVar('T')


class RejectReason(str, Enum):
    """Why an input sample was rejected (the value is the name used in diagnostics)."""

    EMPTY = 'empty'
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
    """Outcome of a check: the (possibly normalised) sample, or a reason and a detail text."""

    sample: T | None
    reason: RejectReason | None = None
    detail: str = ''

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


def check_joint_state(sample: JointStateSample,
                      known_names: Collection[str]) -> Verdict[JointStateSample]:
    """Check a joint-state sample's shape, values and names.

    Rejects: no names; ``positions`` not one per name; ``velocities``/``efforts`` neither
    empty nor one per name; NaN/Inf in any of them; a name the twin does not have; a name
    given twice. Empty velocity/effort arrays are accepted and passed on as ``None``.

    :param known_names: the backend's movable joint names (ideally a set)
    """
    names = sample.names
    n = len(names)
    if n == 0:
        return Verdict.reject(RejectReason.EMPTY, 'no joint names')
    positions = np.asarray(sample.positions, dtype=float).reshape(-1)
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
    for field_name, values in (('positions', positions), *extras.items()):
        if values is not None and (problem := _non_finite(field_name, values, names)):
            return Verdict.reject(RejectReason.NON_FINITE, problem)
    if len(set(names)) != n:
        seen: set[str] = set()
        dupes = sorted({name for name in names if name in seen or seen.add(name)})
        return Verdict.reject(RejectReason.DUPLICATE_JOINT, f'duplicate joint names {dupes}')
    unknown = [name for name in names if name not in known_names]
    if unknown:
        return Verdict.reject(RejectReason.UNKNOWN_JOINT,
                              f'unknown joint names {unknown[:5]} (the twin has '
                              f'{sorted(known_names)})')
    return Verdict(replace(sample, positions=positions, **extras))


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
    """Rejects stamps too far in the future or older than the last accepted one of a stream.

    Equal stamps are accepted (some drivers repeat a stamp). Call :meth:`accept` only once
    the sample has passed every other check, so a rejected sample never moves the guard.
    """

    def __init__(self, max_future_ns: int) -> None:
        """:param max_future_ns: largest accepted ``stamp - now`` in nanoseconds (>= 0)"""
        if max_future_ns < 0:
            raise ValueError(f'max_future_ns must be >= 0, got {max_future_ns}')
        self.max_future_ns = int(max_future_ns)
        self.last_ns: int | None = None

    def check(self, stamp_ns: int, now_ns: int) -> tuple[RejectReason | None, str]:
        """``(None, '')`` if ``stamp_ns`` is acceptable at wall time ``now_ns``, else why not."""
        ahead = stamp_ns - now_ns
        if ahead > self.max_future_ns:
            return (RejectReason.FUTURE_STAMP,
                    f'stamp is {ahead * 1e-9:.3f} s in the future '
                    f'(limit {self.max_future_ns * 1e-9:g} s)')
        if self.last_ns is not None and stamp_ns < self.last_ns:
            return (RejectReason.STAMP_BACKWARDS,
                    f'stamp went back {(self.last_ns - stamp_ns) * 1e-9:.6f} s '
                    'from the last accepted sample')
        return None, ''

    def accept(self, stamp_ns: int) -> None:
        """Remember ``stamp_ns`` as the stream's last accepted stamp."""
        self.last_ns = stamp_ns
