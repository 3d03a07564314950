"""Validation of physical joint-state and odometry samples before they reach the twin.

Stamps are checked by :class:`~twin_bridge.twin.stamp_guard.StampGuard`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import Enum
import math
from typing import Generic, TypeVar

import numpy as np

from twin_bridge.core.quoting import quote_names, shorten
from twin_bridge.core.state import JointStateSample, OdometrySample

__all__ = [
    'DEFAULT_MAX_JOINT_POSITION',
    'DEFAULT_MAX_MAGNITUDE',
    'DEFAULT_QUATERNION_TOLERANCE',
    'JointStateCheck',
    'RejectReason',
    'Verdict',
    'check_joint_state',
    'check_odometry',
]

# Largest accepted | |q| - 1 |; smaller deviations are normalised away.
DEFAULT_QUATERNION_TOLERANCE = 1e-3
_ZERO_NORM = 1e-9
# Largest accepted |value| of odometry positions (m) and twists (m/s, rad/s) and of joint
# velocities: a robot 1000 km from its odometry origin, or moving at 1000 km/s, is a broken
# publisher (or a unit error), not a pose to mirror. Joint positions get more room: a
# continuous wheel joint's angle grows without bound (1e9 rad is ~3 years at 10 rad/s).
DEFAULT_MAX_MAGNITUDE = 1e6
DEFAULT_MAX_JOINT_POSITION = 1e9
# Distinct joint-name tuples a JointStateCheck remembers, and the longest it keeps (chars).
_NAME_CACHE_SIZE = 32
_CACHED_NAME_CHARS = 4096
_SHORT = 24  # arrays up to this long are range-checked element by element, longer by a dot

T = TypeVar('T')


class RejectReason(str, Enum):
    """Why an input sample was rejected (the value is the name used in diagnostics)."""

    EMPTY = 'empty'
    NO_POSITIONS = 'no_positions'
    LENGTH_MISMATCH = 'length_mismatch'
    NON_FINITE = 'non_finite'
    BAD_ANGLES = 'bad_angles'
    OUT_OF_RANGE = 'out_of_range'
    UNKNOWN_JOINT = 'unknown_joint'
    DUPLICATE_JOINT = 'duplicate_joint'
    ZERO_QUATERNION = 'zero_quaternion'
    NON_UNIT_QUATERNION = 'non_unit_quaternion'
    MOVING_CHILD_FRAME = 'moving_child_frame'
    NEGATIVE_STAMP = 'negative_stamp'
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


def _where(values: np.ndarray, labels: Sequence[str], mask: np.ndarray) -> str:
    bad = np.flatnonzero(mask)
    where = ', '.join(shorten(labels[i]) for i in bad[:3])
    return where + (f' and {len(bad) - 3} more' if len(bad) > 3 else '')


def _range_problem(field_name: str, values: np.ndarray, labels: Sequence[str],
                   bound: float) -> Verdict | None:
    """The exact check behind the one-dot-product fast path: NaN/Inf, then ``|x| > bound``."""
    finite = np.isfinite(values)
    if not finite.all():
        return Verdict.reject(RejectReason.NON_FINITE,
                              f'{field_name} not finite ({_where(values, labels, ~finite)})')
    big = np.abs(values) > bound
    if big.any():
        return Verdict.reject(RejectReason.OUT_OF_RANGE,
                              f'{field_name} out of range ({_where(values, labels, big)}: '
                              f'|value| > {bound:g})')
    return None


def _within(values: np.ndarray, bound: float) -> bool:
    """True if every value is finite and at most ``bound`` in magnitude; may say False for
    long arrays that pass (the caller then runs the exact check)."""
    if len(values) <= _SHORT:  # Python comparisons: NaN fails every one
        return all(-bound <= v <= bound for v in values.tolist())
    with np.errstate(over='ignore'):
        return float(np.dot(values, values)) <= bound * bound


def _vector(values: object) -> np.ndarray:
    """``values`` as a 1-D float64 array, without a copy when it already is one."""
    array = np.asarray(values, dtype=np.float64)
    return array if array.ndim == 1 else array.reshape(-1)


@dataclass(frozen=True)
class _Resolved:
    """A name tuple that passed the name checks: the known names and where they are."""

    names: tuple[str, ...]          # the known names, in the sample's order
    keep: np.ndarray | None         # their rows in the sample (None: every row)
    ignored: tuple[str, ...]        # the unknown names left out


class JointStateCheck:
    """Checks joint-state samples for one twin (see :func:`check_joint_state` for the rules).

    Each distinct tuple of names is checked (duplicates, unknown names) once and its result
    kept in a small cache (at most ``cache_size`` tuples of modest total length, oldest
    evicted first), so a stream that always sends the same names pays only for the value
    checks: a length test and one range test per array.
    """

    def __init__(self, known_names: Collection[str], *, ignore_unknown: bool = False,
                 max_magnitude: float = DEFAULT_MAX_MAGNITUDE,
                 max_joint_position: float = DEFAULT_MAX_JOINT_POSITION,
                 cache_size: int = _NAME_CACHE_SIZE) -> None:
        """:param known_names: the backend's movable joint names
        :param ignore_unknown: strip names the twin lacks instead of rejecting the sample
        :param max_magnitude: largest accepted ``|velocity|``
        :param max_joint_position: largest accepted ``|position|``
        :param cache_size: distinct name tuples remembered (>= 0)
        """
        self.known_names = frozenset(known_names)
        self.ignore_unknown = ignore_unknown
        self.max_magnitude = float(max_magnitude)
        self.max_joint_position = float(max_joint_position)
        self._cache_size = int(cache_size)
        self._cache: dict[tuple[str, ...], _Resolved] = {}

    def __call__(self, sample: JointStateSample) -> Verdict[JointStateSample]:
        """The verdict on ``sample``: accepted as the sample to mirror, or why not."""
        names = sample.names
        n = len(names)
        if n == 0:
            return Verdict.reject(RejectReason.EMPTY, 'no joint names')
        positions = _vector(sample.positions)
        if len(positions) == 0:
            return Verdict.reject(RejectReason.NO_POSITIONS,
                                  f'{n} names but no positions (a velocity/effort-only '
                                  'message cannot be mirrored)')
        if len(positions) != n:
            return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                                  f'{n} names but {len(positions)} positions')
        velocities = sample.velocities
        if velocities is not None:
            velocities = _vector(velocities) if len(velocities) else None
            if velocities is not None and len(velocities) != n:
                return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                                      f'{n} names but {len(velocities)} velocities')
        if sample.efforts is not None and len(sample.efforts) not in (0, n):
            return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                                  f'{n} names but {len(sample.efforts)} efforts')
        resolved = self._cache.get(names)
        if resolved is None:
            resolved = self._resolve(names)
            if isinstance(resolved, Verdict):
                return resolved
        if resolved.keep is not None:
            positions = positions[resolved.keep]
            velocities = None if velocities is None else velocities[resolved.keep]
        names = resolved.names
        bound = self.max_joint_position
        if not _within(positions, bound):
            if (problem := _range_problem('positions', positions, names, bound)) is not None:
                return problem
        bound = self.max_magnitude
        if velocities is not None and not _within(velocities, bound):
            unreported = np.isnan(velocities)
            if unreported.any():
                velocities = np.where(unreported, 0.0, velocities)
            if (problem := _range_problem('velocities', velocities, names, bound)) is not None:
                return problem
        if (names is sample.names and positions is sample.positions
                and velocities is sample.velocities and sample.efforts is None):
            return Verdict(sample, ignored=resolved.ignored)
        return Verdict(JointStateSample(names, positions, velocities, None, sample.stamp_ns),
                       ignored=resolved.ignored)

    def _resolve(self, names: tuple[str, ...]) -> _Resolved | Verdict:
        n = len(names)
        if len(set(names)) != n:
            seen: set[str] = set()
            dupes = sorted({name for name in names if name in seen or seen.add(name)})
            return Verdict.reject(RejectReason.DUPLICATE_JOINT,
                                  f'duplicate joint names {quote_names(dupes)}')
        known_names = self.known_names
        known = np.fromiter((name in known_names for name in names), dtype=bool, count=n)
        resolved = _Resolved(names, None, ())
        if not known.all():
            unknown = [name for name, k in zip(names, known, strict=True) if not k]
            if not self.ignore_unknown or not known.any():
                return Verdict.reject(RejectReason.UNKNOWN_JOINT,
                                      f'unknown joint names {quote_names(unknown)} '
                                      f'(the twin has {quote_names(sorted(known_names), 20)})')
            resolved = _Resolved(tuple(name for name, k in zip(names, known, strict=True) if k),
                                 np.flatnonzero(known), tuple(unknown))
        if self._cache_size and sum(map(len, names)) <= _CACHED_NAME_CHARS:
            if len(self._cache) >= self._cache_size:
                del self._cache[next(iter(self._cache))]
            self._cache[names] = resolved
        return resolved


def check_joint_state(sample: JointStateSample, known_names: Collection[str], *,
                      ignore_unknown: bool = False,
                      max_magnitude: float = DEFAULT_MAX_MAGNITUDE,
                      max_joint_position: float = DEFAULT_MAX_JOINT_POSITION,
                      ) -> Verdict[JointStateSample]:
    """Check a joint-state sample's shape, values and names.

    Rejects: no names (``empty``); names but no positions (``no_positions``: a
    velocity-only message); ``positions`` not one per name, or ``velocities``/``efforts``
    neither empty nor one per name (``length_mismatch``); a name given twice; a name the
    twin does not have (unless ``ignore_unknown``); a NaN/Inf position or an infinite
    velocity (``non_finite``); a position beyond ``max_joint_position`` or a velocity beyond
    ``max_magnitude`` (``out_of_range``).

    What ros2_control's joint_state_broadcaster sends is accepted: a NaN velocity means
    "not reported" and is passed on as 0; efforts are never used, so they are only
    length-checked and then dropped (``efforts=None``, NaN allowed). Empty velocity arrays
    are passed on as ``None``. A sample that needs none of this is passed on as it is.

    With ``ignore_unknown``, names the twin lacks are stripped (with their values, which are
    then not checked) and listed in :attr:`Verdict.ignored`; a sample with no known name at
    all is still rejected as ``unknown_joint``. Rejection texts quote at most a few names,
    each shortened (:func:`~twin_bridge.core.quoting.shorten`).

    A stream checks many samples against the same twin with one :class:`JointStateCheck`.

    :param known_names: the backend's movable joint names
    """
    return JointStateCheck(known_names, ignore_unknown=ignore_unknown,
                           max_magnitude=max_magnitude, max_joint_position=max_joint_position,
                           cache_size=0)(sample)


_XYZ = 'xyz'
_XYZW = 'xyzw'


def check_odometry(sample: OdometrySample,
                   quaternion_tolerance: float = DEFAULT_QUATERNION_TOLERANCE,
                   max_magnitude: float = DEFAULT_MAX_MAGNITUDE,
                   ) -> Verdict[OdometrySample]:
    """Check an odometry sample's pose and twist; normalise a nearly-unit quaternion, once.

    Rejects: wrong vector sizes (``length_mismatch``); NaN/Inf in position, orientation or
    twist (``non_finite``); a position or twist component beyond ``max_magnitude``
    (``out_of_range``); a zero quaternion; a quaternion whose norm differs from 1 by more
    than ``quaternion_tolerance``.

    A quaternion whose norm (``math.hypot``) is exactly 1 in float64 is kept bit for bit;
    any other accepted one is divided by its norm, once. Frames are not checked here.
    """
    bound_sq = max_magnitude * max_magnitude
    arrays = []
    for field_name, values, size in (('position', sample.position, 3),
                                     ('orientation', sample.orientation, 4),
                                     ('linear_velocity', sample.linear_velocity, 3),
                                     ('angular_velocity', sample.angular_velocity, 3)):
        array = _vector(values)
        if len(array) != size:
            return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                                  f'{field_name} has {len(array)} values, expected {size}')
        if size == 3:
            x, y, z = array.tolist()
            if not x * x + y * y + z * z <= bound_sq:
                problem = _range_problem(field_name, array, _XYZ, max_magnitude)
                if problem is not None:
                    return problem
        arrays.append(array)
    position, q, linear, angular = arrays
    norm = math.hypot(*q.tolist())  # accurate to an ulp, no overflow
    if not math.isfinite(norm) and not np.isfinite(q).all():
        return Verdict.reject(RejectReason.NON_FINITE,
                              f'orientation not finite ({_where(q, _XYZW, ~np.isfinite(q))})')
    if norm < _ZERO_NORM:
        return Verdict.reject(RejectReason.ZERO_QUATERNION, 'orientation quaternion is zero')
    if not abs(norm - 1.0) <= quaternion_tolerance:
        return Verdict.reject(RejectReason.NON_UNIT_QUATERNION,
                              f'orientation quaternion norm {norm:.6g} is not 1 '
                              f'(tolerance {quaternion_tolerance:g})')
    if norm != 1.0:
        q = q / norm
    if (position is sample.position and q is sample.orientation
            and linear is sample.linear_velocity and angular is sample.angular_velocity):
        return Verdict(sample)
    return Verdict(OdometrySample(position, q, linear, angular, sample.stamp_ns,
                                  sample.frame_id, sample.child_frame_id))
