"""Hardware-in-the-loop comparison: the physical and the twin's trajectory aligned by time.

Plain numpy. A :class:`Trajectory` is time-stamped planar poses (any clock, seconds); a
:class:`CommandLog` the time-stamped commands that drove the robot (each held until the
next). :func:`compare` resamples both trajectories on one grid over the time they share
(linear interpolation; yaw unwrapped first), and measures the position error per sample:
its RMSE, its maximum (the max deviation, with when), the final pose error, and the time
each reached the goal. The verdict is ``validated`` when every measured error is within
its threshold, else ``mismatch`` with how far over (metres and ratio) each one is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math

import numpy as np

from twin_bridge.errors import ConfigError

__all__ = ['CommandLog', 'HilComparison', 'HilThresholds', 'Trajectory', 'compare',
           'time_to_goal']


def _column(values: object, name: str) -> np.ndarray:
    out = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(out)):
        raise ConfigError(f'{name}: values must be finite')
    return out


@dataclass(frozen=True)
class Trajectory:
    """Planar poses ``x``, ``y`` (m), ``yaw`` (rad) at increasing times ``t`` (s).

    :raise ConfigError: fewer than 2 samples, arrays of different lengths, non-finite values
        or times that do not increase
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray

    def __post_init__(self) -> None:
        cols = {name: _column(getattr(self, name), f'trajectory {name}')
                for name in ('t', 'x', 'y', 'yaw')}
        if len({len(c) for c in cols.values()}) != 1:
            raise ConfigError('trajectory: t, x, y and yaw must have the same length, got '
                              + ', '.join(f'{k} {len(v)}' for k, v in cols.items()))
        if len(cols['t']) < 2 or np.any(np.diff(cols['t']) <= 0):
            raise ConfigError('trajectory: needs at least 2 samples at increasing times')
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    @classmethod
    def from_samples(cls, samples: list[tuple[float, float, float, float]]) -> Trajectory:
        """From ``(t, x, y, yaw)`` rows in any order; a repeated time keeps its last row."""
        rows = np.asarray(samples, dtype=float).reshape(-1, 4)
        _, last = np.unique(rows[::-1, 0], return_index=True)
        rows = rows[::-1][last]          # sorted by time, the last row of each time
        return cls(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])

    @property
    def start(self) -> float:
        """The first time (s)."""
        return float(self.t[0])

    @property
    def end(self) -> float:
        """The last time (s)."""
        return float(self.t[-1])

    def at(self, times: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x, y, yaw)`` at ``times`` (linear interpolation, yaw unwrapped; held at the
        ends outside the samples)."""
        times = np.asarray(times, dtype=float)
        return (np.interp(times, self.t, self.x), np.interp(times, self.t, self.y),
                np.interp(times, self.t, np.unwrap(self.yaw)))

    def shifted(self, offset: float) -> Trajectory:
        """The same poses with ``offset`` s added to every time."""
        return Trajectory(self.t + offset, self.x, self.y, self.yaw)


@dataclass(frozen=True)
class CommandLog:
    """Commands ``(v, w)`` (m/s, rad/s) given at increasing times ``t`` (s), each held until
    the next. :raise ConfigError: as :class:`Trajectory` (at least 1 command)"""

    t: np.ndarray
    v: np.ndarray
    w: np.ndarray

    def __post_init__(self) -> None:
        cols = {name: _column(getattr(self, name), f'commands {name}')
                for name in ('t', 'v', 'w')}
        if len({len(c) for c in cols.values()}) != 1 or len(cols['t']) < 1:
            raise ConfigError('commands: t, v and w must have the same length, at least 1')
        if np.any(np.diff(cols['t']) <= 0):
            raise ConfigError('commands: times must increase')
        for name, col in cols.items():
            object.__setattr__(self, name, col)

    @classmethod
    def from_samples(cls, samples: list[tuple[float, float, float]]) -> CommandLog:
        """From ``(t, v, w)`` rows in the order given; a row not later than the one before
        replaces it (the newer command wins)."""
        kept: list[tuple[float, float, float]] = []
        for row in samples:
            t, v, w = (float(x) for x in row)
            while kept and kept[-1][0] >= t:
                kept.pop()
            kept.append((t, v, w))
        arr = np.asarray(kept, dtype=float).reshape(-1, 3)
        return cls(arr[:, 0], arr[:, 1], arr[:, 2])

    def at(self, times: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """The command in force at ``times`` (zero before the first)."""
        times = np.asarray(times, dtype=float)
        k = np.searchsorted(self.t, times, side='right') - 1
        given = k >= 0
        k = np.maximum(k, 0)
        return np.where(given, self.v[k], 0.0), np.where(given, self.w[k], 0.0)

    def shifted(self, offset: float) -> CommandLog:
        """The same commands with ``offset`` s added to every time."""
        return CommandLog(self.t + offset, self.v, self.w)


@dataclass(frozen=True)
class HilThresholds:
    """What the twin may be off by and still count as validated: ``position_rmse`` and
    ``final_position`` (m); ``max_deviation`` (m, ``inf``: not judged)."""

    position_rmse: float = 0.10
    final_position: float = 0.20
    max_deviation: float = math.inf

    def __post_init__(self) -> None:
        if not all(x > 0 for x in (self.position_rmse, self.final_position,
                                   self.max_deviation)) or not (
                math.isfinite(self.position_rmse) and math.isfinite(self.final_position)):
            raise ConfigError('HIL thresholds: position_rmse and final_position must be finite '
                              'and > 0, max_deviation > 0')


@dataclass(frozen=True)
class HilComparison:
    """The comparison of a physical and a twin trajectory (see :func:`compare`).

    Times are seconds on the trajectories' clock; ``time_to_goal_*`` are seconds from
    ``start`` (``nan``: never reached, or no goal). ``exceeded`` maps each metric over its
    threshold to ``(value, threshold)``.
    """

    start: float
    end: float
    times: np.ndarray
    position_error: np.ndarray
    position_rmse: float
    max_deviation: float
    max_deviation_time: float
    final_position_error: float
    final_yaw_error: float
    time_to_goal_physical: float
    time_to_goal_twin: float
    thresholds: HilThresholds
    exceeded: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """``'validated'`` or ``'mismatch'``."""
        return 'mismatch' if self.exceeded else 'validated'

    @property
    def time_to_goal_difference(self) -> float:
        """Twin minus physical time to goal (s; ``nan`` unless both reached it)."""
        return self.time_to_goal_twin - self.time_to_goal_physical

    def summary(self) -> str:
        """One line: the verdict, and by how much each exceeded metric is over."""
        if not self.exceeded:
            return (f'validated: position RMSE {self.position_rmse:.3f} m <= '
                    f'{self.thresholds.position_rmse:g} m, final error '
                    f'{self.final_position_error:.3f} m <= {self.thresholds.final_position:g} m')
        over = [f'{name} {value:.3f} m > {limit:g} m (+{value - limit:.3f} m, '
                f'{value / limit:.1f}x)' for name, (value, limit) in self.exceeded.items()]
        return 'mismatch: ' + '; '.join(over)

    def to_dict(self) -> dict[str, object]:
        """The metrics as JSON-ready values (no arrays; ``nan`` as ``None``)."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            'verdict': self.verdict, 'summary': self.summary(),
            'start': self.start, 'duration': self.end - self.start,
            'samples': len(self.times),
            'position_rmse_m': self.position_rmse, 'max_deviation_m': self.max_deviation,
            'max_deviation_at_s': self.max_deviation_time - self.start,
            'final_position_error_m': self.final_position_error,
            'final_yaw_error_deg': math.degrees(self.final_yaw_error),
            'time_to_goal_physical_s': num(self.time_to_goal_physical),
            'time_to_goal_twin_s': num(self.time_to_goal_twin),
            'time_to_goal_difference_s': num(self.time_to_goal_difference),
            'thresholds': {'position_rmse_m': self.thresholds.position_rmse,
                           'final_position_m': self.thresholds.final_position,
                           'max_deviation_m': num(self.thresholds.max_deviation)},
            'exceeded': {k: {'value': v, 'threshold': lim, 'over_by': v - lim,
                             'ratio': v / lim} for k, (v, lim) in self.exceeded.items()},
        }


def time_to_goal(trajectory: Trajectory, goal: tuple[float, float], tolerance: float,
                 start: float | None = None) -> float:
    """Seconds from ``start`` (default the first sample) until ``trajectory`` first comes
    within ``tolerance`` m of ``goal`` (interpolated between samples); ``nan`` if never."""
    t0 = trajectory.start if start is None else float(start)
    dist = np.hypot(trajectory.x - goal[0], trajectory.y - goal[1]) - tolerance
    keep = trajectory.t >= t0
    t, dist = trajectory.t[keep], dist[keep]
    inside = np.flatnonzero(dist <= 0.0)
    if len(inside) == 0:
        return math.nan
    k = int(inside[0])
    if k == 0:
        return float(t[0] - t0)
    frac = dist[k - 1] / (dist[k - 1] - dist[k])   # where the distance crosses zero
    return float(t[k - 1] + frac * (t[k] - t[k - 1]) - t0)


def compare(physical: Trajectory, twin: Trajectory, *, period: float = 0.02,
            thresholds: HilThresholds | None = None, goal: tuple[float, float] | None = None,
            tolerance: float = 0.25, start: float | None = None,
            end: float | None = None) -> HilComparison:
    """Compare ``twin`` with ``physical`` on a grid of ``period`` s over the time they share
    (narrowed to ``start``..``end`` when given).

    :param goal: ``(x, y)`` for the times to goal (within ``tolerance`` m), from ``start``
    :raise ConfigError: no shared time span, or a period that is not > 0
    """
    if not (math.isfinite(period) and period > 0):
        raise ConfigError(f'HIL comparison: period must be > 0, got {period}')
    limits = thresholds or HilThresholds()
    lo = max(physical.start, twin.start, -math.inf if start is None else start)
    hi = min(physical.end, twin.end, math.inf if end is None else end)
    if not hi > lo:
        raise ConfigError(f'HIL comparison: the trajectories share no time span (physical '
                          f'{physical.start:.3f}..{physical.end:.3f} s, twin '
                          f'{twin.start:.3f}..{twin.end:.3f} s)')
    n = int(math.floor((hi - lo) / period + 1e-9))
    times = np.append(lo + period * np.arange(n + 1), hi) if lo + n * period < hi - 1e-9 \
        else lo + period * np.arange(n + 1)
    px, py, pyaw = physical.at(times)
    tx, ty, tyaw = twin.at(times)
    error = np.hypot(px - tx, py - ty)
    rmse = float(np.sqrt(np.mean(error * error)))
    worst = int(np.argmax(error))
    yaw_gap = float(tyaw[-1] - pyaw[-1])
    final_yaw = abs(math.atan2(math.sin(yaw_gap), math.cos(yaw_gap)))
    reached = (math.nan, math.nan)
    if goal is not None:
        reached = (time_to_goal(physical, goal, tolerance, lo),
                   time_to_goal(twin, goal, tolerance, lo))
    exceeded = {}
    for name, value, limit in (('position_rmse', rmse, limits.position_rmse),
                               ('final_position_error', float(error[-1]), limits.final_position),
                               ('max_deviation', float(error[worst]), limits.max_deviation)):
        if value > limit:
            exceeded[name] = (value, limit)
    return HilComparison(lo, hi, times, error, rmse, float(error[worst]), float(times[worst]),
                         float(error[-1]), final_yaw, reached[0], reached[1], limits, exceeded)
