"""Faults the stand-in robot injects: specs parsed from text, applied to the true state.

A fault makes the stand-in publish something other than the truth from ``at`` seconds after
its start; the truth (the scripted motion) never changes, so e.g. with a pose offset the
published ``odom`` is off while the wheels and the scan follow the true motion. A spec is
``KIND:KEY=VALUE,KEY=VALUE,...`` (see :data:`KINDS`); every kind also takes ``at`` (s, default
0) and ``seed`` (int; default: the node's seed plus the fault's index)::

    pose_offset:dx=0.05,dyaw_deg=2,at=5      obstacle_moved:name=shelf_hall_0,dx=0.3,at=5
    lidar_yaw:deg=2,at=5                      range_bias:m=0.05
    wheel_slip:factor=1.1,at=5                scan_noise:stddev=0.03

The functions here are plain numpy on :mod:`twin_bridge.core` samples;
:class:`FaultInjector` keeps what a fault fixes at its onset (the pose a pose offset turns
about, the wheel angles a slip starts from) and the seeded noise generators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
import math
import textwrap

import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_multiply
from twin_bridge.errors import ConfigError

__all__ = [
    'KINDS',
    'SCAN_KINDS',
    'Fault',
    'FaultInjector',
    'ScanWorld',
    'distort_ranges',
    'fault_help',
    'parse_fault',
    'parse_faults',
    'pose_offset',
    'scan_worlds',
    'slip_wheels',
    'transform_pose',
]

#: kind -> ({key: default}, what it does). A default that is a type (``str``, ``float``)
#: marks a required key of that type; a number is an optional key's default.
KINDS: dict[str, tuple[dict[str, object], str]] = {
    'pose_offset': (
        {'dx': 0.0, 'dy': 0.0, 'dyaw_deg': 0.0, 'dx_rate': 0.0, 'dy_rate': 0.0,
         'dyaw_deg_rate': 0.0},
        'odom off by a rigid motion (turn dyaw_deg about the pose at onset, shift dx, dy m) '
        'that appears at `at` and grows by *_rate per second; wheels and scan stay true'),
    'obstacle_moved': (
        {'name': str, 'dx': 0.0, 'dy': 0.0},
        'the scan is cast with world model/link NAME shifted by dx, dy m'),
    'scan_world': ({'world': str}, 'the scan is cast in another world (shipped name or SDF)'),
    'lidar_yaw': ({'deg': float}, 'the scan is cast with the lidar turned by deg about its z'),
    'range_bias': ({'m': float}, 'every scan return is m metres longer'),
    'range_scale': ({'factor': float}, 'every scan return is scaled by factor'),
    'wheel_slip': ({'factor': float},
                   'the wheel joints turn factor times as far as the base moves'),
    'scan_noise': ({'stddev': float}, 'extra Gaussian noise (m) on every scan return'),
}
#: Kinds that change only the scan (they need the stand-in to publish one).
SCAN_KINDS = frozenset({'obstacle_moved', 'scan_world', 'lidar_yaw', 'range_bias',
                        'range_scale', 'scan_noise'})
_POSITIVE = {('range_scale', 'factor'), ('wheel_slip', 'factor')}
_ANY_OF = {'pose_offset': 'a non-zero offset or rate', 'obstacle_moved': 'a non-zero dx or dy'}


@dataclass(frozen=True)
class Fault:
    """One fault: ``kind`` (a key of :data:`KINDS`), onset ``at`` (s), ``params`` (every key
    of the kind, defaults filled in) and the ``seed`` of its random numbers."""

    kind: str
    at: float = 0.0
    params: Mapping[str, float | str] = field(default_factory=dict)
    seed: int = 0

    def number(self, key: str) -> float:
        """The numeric parameter ``key``."""
        return float(self.params[key])

    def active(self, t: float) -> bool:
        """Whether the fault is on at time ``t`` (s since start)."""
        return t >= self.at

    def describe(self) -> str:
        """``'lidar_yaw deg=2'``: the kind and every parameter not at its default."""
        defaults = KINDS[self.kind][0]
        shown = [f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}'
                 for k, v in self.params.items() if v != defaults[k]]
        return ' '.join([self.kind, *shown])


def _number(text: str, value: str, key: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ConfigError(f'{text}: {key}={value!r} is not a finite number')
    return number


def parse_fault(text: str, default_seed: int = 0, what: str = 'fault') -> Fault:
    """``'lidar_yaw:deg=2,at=5'`` -> ``Fault('lidar_yaw', 5.0, {'deg': 2.0}, default_seed)``.

    :param what: where the spec comes from, for error messages (``'faults'``)
    :raise ConfigError: naming ``what`` and the spec: unknown kind or key, a key given twice
        or missing, a value that is not a finite number (or < 0 for ``at`` and ``stddev``,
        <= 0 for a factor), a fault that changes nothing
    """
    where = f'{what} {text!r}'
    kind, _, rest = text.strip().partition(':')
    kind = kind.strip()
    if kind not in KINDS:
        raise ConfigError(f'{where}: unknown kind {kind!r}; expected KIND:KEY=VALUE,... with '
                          f'KIND one of {", ".join(KINDS)}')
    keys = KINDS[kind][0]
    given: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in rest.split(','))):
        key, eq, value = (s.strip() for s in item.partition('='))
        if not eq or not key or not value:
            raise ConfigError(f'{where}: {item!r} is not KEY=VALUE')
        if key not in keys and key not in ('at', 'seed'):
            raise ConfigError(f'{where}: unknown key {key!r}; {kind} takes '
                              f'{", ".join([*keys, "at", "seed"])}')
        if key in given:
            raise ConfigError(f'{where}: {key} given twice')
        given[key] = value
    missing = [k for k, d in keys.items() if isinstance(d, type) and k not in given]
    if missing:
        raise ConfigError(f'{where}: {kind} needs {", ".join(missing)}')
    params: dict[str, float | str] = {}
    for key, default in keys.items():
        if default is str:
            params[key] = given[key]
        else:
            params[key] = _number(where, given[key], key) if key in given else float(default)
    at = _number(where, given['at'], 'at') if 'at' in given else 0.0
    try:
        seed = int(given.get('seed', default_seed))
    except ValueError:
        raise ConfigError(f'{where}: seed={given["seed"]!r} is not an integer') from None
    if at < 0 or params.get('stddev', 0.0) < 0:
        raise ConfigError(f'{where}: at and stddev must be >= 0')
    bad = [k for k in keys if (kind, k) in _POSITIVE and params[k] <= 0]
    if bad:
        raise ConfigError(f'{where}: {bad[0]} must be > 0')
    if kind in _ANY_OF and not any(params[k] for k in keys if keys[k] is not str):
        raise ConfigError(f'{where}: {kind} needs {_ANY_OF[kind]}')
    return Fault(kind, at, params, seed)


def parse_faults(items: Iterable[str], default_seed: int = 0, what: str = 'fault') -> list[Fault]:
    """Every non-empty spec of ``items`` parsed; fault ``i`` defaults to seed
    ``default_seed + i``. :raise ConfigError: as :func:`parse_fault`"""
    specs = [s for s in items if s and s.strip()]
    return [parse_fault(s, default_seed + i, what) for i, s in enumerate(specs)]


def fault_help(width: int = 100) -> list[str]:
    """Help lines: one per kind, its keys (required ones upper-case) and what it does."""
    lines = []
    for kind, (keys, summary) in KINDS.items():
        shown = ','.join(f'{k}=' + (k.upper() if isinstance(d, type) else f'{d:g}')
                         for k, d in keys.items())
        lines.append(f'  {kind}:{shown}')
        lines += textwrap.wrap(summary, width, initial_indent=' ' * 6,
                               subsequent_indent=' ' * 6)
    return lines


def pose_offset(fault: Fault, t: float) -> np.ndarray:
    """The ``(dx, dy, dyaw)`` (m, m, rad) of a ``pose_offset`` fault at time ``t``: zero
    before onset, then the step plus the rates times the time since onset."""
    if not fault.active(t):
        return np.zeros(3)
    since = t - fault.at
    n = fault.number
    return np.array([n('dx') + n('dx_rate') * since, n('dy') + n('dy_rate') * since,
                     math.radians(n('dyaw_deg') + n('dyaw_deg_rate') * since)])


def transform_pose(sample: OdometrySample, pivot: np.ndarray, dx: float, dy: float,
                   dyaw: float) -> OdometrySample:
    """``sample`` with its pose moved rigidly in the odom frame: turned by ``dyaw`` (rad) about
    the vertical through ``pivot`` (x, y), then shifted by ``(dx, dy)``. The twist, in the
    moved body frame, is unchanged."""
    c, s = math.cos(dyaw), math.sin(dyaw)
    rx, ry = sample.position[0] - pivot[0], sample.position[1] - pivot[1]
    position = np.array([pivot[0] + c * rx - s * ry + dx, pivot[1] + s * rx + c * ry + dy,
                         sample.position[2]])
    turn = np.array([0.0, 0.0, math.sin(0.5 * dyaw), math.cos(0.5 * dyaw)])
    return replace(sample, position=position,
                   orientation=quat_multiply(turn, sample.orientation))


def slip_wheels(sample: JointStateSample, rows: np.ndarray, factor: float,
                onset: np.ndarray) -> JointStateSample:
    """``sample`` with the joints at ``rows`` turned ``factor`` times as far from ``onset``
    (their positions when the slip began) and ``factor`` times as fast."""
    positions = sample.positions.astype(float)
    positions[rows] = onset + factor * (positions[rows] - onset)
    velocities = sample.velocities
    if velocities is not None:
        velocities = velocities.astype(float)
        velocities[rows] *= factor
    return replace(sample, positions=positions, velocities=velocities)


def distort_ranges(ranges: np.ndarray, range_min: float, range_max: float, *,
                   bias: float = 0.0, scale: float = 1.0, noise: float = 0.0,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """REP-117 ``ranges`` with every finite return turned into ``scale * r + bias`` plus
    Gaussian ``noise`` (stddev, m, drawn from ``rng``), then classified again: beyond
    ``range_max`` ``+inf``, below ``range_min`` ``-inf``. Returns float32."""
    out = np.array(ranges, dtype=float)
    hit = np.isfinite(out)
    r = out[hit] * scale + bias
    if noise > 0.0:
        r += (rng or np.random.default_rng()).normal(0.0, noise, r.shape)
    r[r > range_max] = np.inf
    r[r < range_min] = -np.inf
    out[hit] = r
    return out.astype(np.float32)


@dataclass(frozen=True)
class ScanWorld:
    """The world the scan is cast in from ``start`` (s) on: ``world`` (``None``: the stand-in's
    own) with ``moves`` ``(name, dx, dy)`` applied."""

    start: float
    world: str | None = None
    moves: tuple[tuple[str, float, float], ...] = ()


def scan_worlds(faults: Sequence[Fault]) -> list[ScanWorld]:
    """The worlds the scan is cast in, by start time (the first starts at 0): at each onset of
    a ``scan_world`` or ``obstacle_moved`` fault, the latest ``scan_world`` (or the stand-in's
    own world) with the moves since its onset (a new world starts as its file says)."""
    changes = [f for f in faults if f.kind in ('scan_world', 'obstacle_moved')]
    plan = []
    for start in sorted({0.0, *(f.at for f in changes)}):
        on = [f for f in changes if f.at <= start]
        worlds = sorted((f for f in on if f.kind == 'scan_world'), key=lambda f: f.at)
        since = worlds[-1].at if worlds else 0.0
        moves = tuple((str(f.params['name']), f.number('dx'), f.number('dy'))
                      for f in on if f.kind == 'obstacle_moved' and f.at >= since)
        plan.append(ScanWorld(start, str(worlds[-1].params['world']) if worlds else None,
                              moves))
    return plan


class FaultInjector:
    """Turns the stand-in's true samples into the published ones, fault by fault in order.

    :param faults: the faults
    :param joint_names: the order of the joint samples it will get
    :param wheel_joints: the wheel joints a ``wheel_slip`` turns
    :raise ConfigError: a ``wheel_slip`` without wheel joints
    """

    def __init__(self, faults: Sequence[Fault], joint_names: Sequence[str],
                 wheel_joints: Sequence[str] | None = None) -> None:
        self.faults = tuple(faults)
        names = list(joint_names)
        wheels = [n for n in (wheel_joints or ()) if n in names]
        if not wheels and any(f.kind == 'wheel_slip' for f in self.faults):
            raise ConfigError('fault wheel_slip: the robot has no wheel joints')
        self._wheel_rows = np.array([names.index(n) for n in wheels], dtype=np.intp)
        self._onset: dict[int, np.ndarray] = {}  # fault index -> pivot or wheel angles
        self._rng = {i: np.random.default_rng(f.seed) for i, f in enumerate(self.faults)
                     if f.kind == 'scan_noise'}

    def _on(self, kind: str, t: float) -> list[tuple[int, Fault]]:
        return [(i, f) for i, f in enumerate(self.faults) if f.kind == kind and f.active(t)]

    @property
    def scan_faults(self) -> list[Fault]:
        """The faults that change only the scan."""
        return [f for f in self.faults if f.kind in SCAN_KINDS]

    def odometry(self, true: OdometrySample, t: float) -> OdometrySample:
        """The published odometry at time ``t`` for the true one."""
        out = true
        for i, fault in self._on('pose_offset', t):
            pivot = self._onset.setdefault(i, out.position[:2].copy())
            out = transform_pose(out, pivot, *pose_offset(fault, t))
        return out

    def joint_state(self, true: JointStateSample, t: float) -> JointStateSample:
        """The published joint state at time ``t`` for the true one."""
        out = true
        for i, fault in self._on('wheel_slip', t):
            onset = self._onset.setdefault(i, out.positions[self._wheel_rows].astype(float))
            out = slip_wheels(out, self._wheel_rows, fault.number('factor'), onset)
        return out

    def wheel_slip(self, t: float) -> float:
        """How many times as far as the base moves the wheels turn at time ``t`` (the
        product of the ``wheel_slip`` factors on; 1 without one)."""
        return math.prod(f.number('factor') for _, f in self._on('wheel_slip', t))

    def lidar_yaw(self, t: float) -> float:
        """The angle (rad) the lidar is turned by at time ``t``."""
        return math.radians(sum(f.number('deg') for _, f in self._on('lidar_yaw', t)))

    def ranges(self, ranges: np.ndarray, t: float, range_min: float,
               range_max: float) -> np.ndarray:
        """The published ranges at time ``t`` for a scan cast truly (``ranges`` itself when no
        range fault is on)."""
        bias = sum(f.number('m') for _, f in self._on('range_bias', t))
        scale = math.prod(f.number('factor') for _, f in self._on('range_scale', t))
        if bias or scale != 1.0:
            ranges = distort_ranges(ranges, range_min, range_max, bias=bias, scale=scale)
        for i, fault in self._on('scan_noise', t):
            ranges = distort_ranges(ranges, range_min, range_max,
                                    noise=fault.number('stddev'), rng=self._rng[i])
        return ranges

    def scan(self, scan: ScanData, t: float) -> ScanData:
        """``scan`` with the range faults on at time ``t`` applied."""
        ranges = self.ranges(scan.ranges, t, scan.range_min, scan.range_max)
        return scan if ranges is scan.ranges else replace(scan, ranges=ranges)
