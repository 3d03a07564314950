"""What a scenario expects of a run, each checked against its :class:`Trace`.

=======================  ==================================  ===================================
key                      value                               passes when
=======================  ==================================  ===================================
``never_collides``       ``true``                            no robot-world contact (the floor
                                                             aside) in the simulated physics
``stops_before``         ``{clearance: m, speed: 0.02}``     the true clearance never drops
                                                             below ``clearance`` and the robot
                                                             ends at rest (``|v| < speed``)
``e_stop_stops_within``  s                                   after every e-stop the gated
                                                             command is zero within one
                                                             command period and the robot is
                                                             at rest within s
``reaches_goal_within``  s                                   the base is within the goal's
                                                             tolerance by then
``gate_verdicts``        ``{stop: ">=1", pass: "==0"}``      verdict (or reason) counts
=======================  ==================================  ===================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
import operator
import re

import numpy as np

from twin_bridge.errors import ConfigError
from twin_bridge.scenarios.spec import Scenario
from twin_bridge.scenarios.trace import Trace
from twin_bridge.twin.safety.gate import REASONS, VERDICTS

__all__ = ['EXPECTATIONS', 'Check', 'EStopStopsWithin', 'Expectation', 'GateVerdicts',
           'NeverCollides', 'ReachesGoalWithin', 'StopsBefore', 'parse_expectations']

#: Angular speed (rad/s) below which the robot counts as at rest (with ``speed`` in m/s).
REST_ANGULAR = 0.05
_COUNT = re.compile(r'^\s*(>=|<=|==|!=|>|<)?\s*(\d+)\s*$')
_OPS = {'>=': operator.ge, '<=': operator.le, '==': operator.eq, '!=': operator.ne,
        '>': operator.gt, '<': operator.lt}


@dataclass(frozen=True)
class Check:
    """One expectation's outcome: its ``name``, whether it ``passed`` and a ``detail``."""

    name: str
    passed: bool
    detail: str


class Expectation:
    """Base: :meth:`check` a finished trace of ``scenario``."""

    key = ''

    def check(self, trace: Trace, scenario: Scenario) -> Check:  # pragma: no cover
        """The outcome on ``trace``."""
        raise NotImplementedError


def _at_rest(trace: Trace, speed: float) -> np.ndarray:
    return (np.abs(trace.v) < speed) & (np.abs(trace.w) < REST_ANGULAR)


@dataclass(frozen=True)
class NeverCollides(Expectation):
    """No robot-world contact in the physics (``never_collides: true``)."""

    key = 'never_collides'

    def check(self, trace: Trace, scenario: Scenario) -> Check:
        """Passes without a contact; names the first one otherwise."""
        first = trace.first_contact()
        if first is None:
            return Check(self.key, True, f'no contact (min clearance '
                                         f'{trace.min_clearance:.3f} m)')
        return Check(self.key, False, f'contact at {first[0]:.2f} s: {first[1]}')


@dataclass(frozen=True)
class StopsBefore(Expectation):
    """The clearance never below ``clearance`` m and at rest at the end."""

    clearance: float
    speed: float = 0.02
    key = 'stops_before'

    def check(self, trace: Trace, scenario: Scenario) -> Check:
        """Passes with the clearance kept and the robot at rest at the end."""
        low = trace.min_clearance
        rest = bool(len(trace.v)) and bool(_at_rest(trace, self.speed)[-1])
        ok = low >= self.clearance and rest
        state = 'at rest' if rest else f'still moving ({trace.v[-1]:.2f} m/s)'
        return Check(self.key, ok, f'min clearance {low:.3f} m '
                                   f'{">=" if low >= self.clearance else "<"} '
                                   f'{self.clearance:g}, {state}')


@dataclass(frozen=True)
class EStopStopsWithin(Expectation):
    """Every e-stop: zero command within a command period, at rest within ``seconds`` (and
    staying at rest until the e-stop is released)."""

    seconds: float
    speed: float = 0.02
    key = 'e_stop_stops_within'

    def check(self, trace: Trace, scenario: Scenario) -> Check:
        """Passes when every e-stop stops the command and then the robot in time."""
        if not trace.e_stops:
            return Check(self.key, False, 'no e-stop was engaged')
        period = scenario.run.control_period
        zero = np.all(trace.command_out == 0.0, axis=1)
        rest = _at_rest(trace, self.speed)
        worst_cmd, worst_rest, ok = 0.0, 0.0, True
        releases = scenario.events.e_stop_release
        for te in trace.e_stops:
            until = min((r for r in releases if r > te), default=math.inf)
            after = np.flatnonzero((trace.tick >= te - 1e-9) & zero)
            cmd = trace.tick[after[0]] - te if len(after) else math.inf
            window = (trace.t >= te - 1e-9) & (trace.t < until)
            moving = np.flatnonzero(window & ~rest)
            later = np.flatnonzero(window & rest)
            if len(later) == 0:
                stop = math.inf
            else:  # at rest from the sample after the last moving one
                last = moving[-1] if len(moving) else int(later[0]) - 1
                stop = (trace.t[last + 1] - te) if last + 1 < len(trace.t) else math.inf
            worst_cmd, worst_rest = max(worst_cmd, cmd), max(worst_rest, stop)
            ok &= cmd < period + 1e-9 and stop <= self.seconds
        return Check(self.key, ok, f'zero command after {worst_cmd:.3f} s (period '
                                   f'{period:g}), at rest after {worst_rest:.2f} s '
                                   f'(<= {self.seconds:g})')


@dataclass(frozen=True)
class ReachesGoalWithin(Expectation):
    """The base within the goal's tolerance by ``seconds``."""

    seconds: float
    key = 'reaches_goal_within'

    def check(self, trace: Trace, scenario: Scenario) -> Check:
        """Passes when the goal is reached in time; says when or how far it stayed."""
        goal = scenario.goal
        assert goal is not None  # the loader insists
        dist = np.hypot(np.asarray(trace.x) - goal.x, np.asarray(trace.y) - goal.y)
        hit = np.flatnonzero(dist <= goal.tolerance)
        if len(hit) and trace.t[hit[0]] <= self.seconds:
            return Check(self.key, True, f'goal reached at {trace.t[hit[0]]:.1f} s '
                                         f'(<= {self.seconds:g})')
        when = f'at {trace.t[hit[0]]:.1f} s' if len(hit) else 'never'
        closest = float(np.min(dist)) if len(dist) else math.inf
        return Check(self.key, False, f'goal reached {when} (closest {closest:.2f} m)')


@dataclass(frozen=True)
class GateVerdicts(Expectation):
    """Counts of verdicts or reasons: ``{name: (operator, n)}``."""

    counts: tuple[tuple[str, str, int], ...]
    key = 'gate_verdicts'

    def check(self, trace: Trace, scenario: Scenario) -> Check:
        """Passes when every count holds; lists them all."""
        parts, ok = [], True
        for name, op, n in self.counts:
            got = trace.verdict_counts.get(name, trace.reason_counts.get(name, 0))
            good = _OPS[op](got, n)
            ok &= good
            parts.append(f'{name}={got} ({op}{n}{"" if good else " ✗"})')
        return Check(self.key, ok, ', '.join(parts))


EXPECTATIONS = ('never_collides', 'stops_before', 'e_stop_stops_within',
                'reaches_goal_within', 'gate_verdicts')


def _positive(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise ConfigError(f'{where}: expected a number > 0, got {value!r}')
    return float(value)


def _count(value: object, where: str) -> tuple[str, int]:
    match = _COUNT.match(str(value)) if not isinstance(value, bool) else None
    if match is None:
        raise ConfigError(f'{where}: expected a count like ">=1", "==0" or 3, got {value!r}')
    return match.group(1) or '==', int(match.group(2))


def parse_expectations(data: object, where: str) -> tuple[Expectation, ...]:
    """The expectations of an ``expect`` mapping; ``where`` prefixes error messages
    (``'wall.yaml: expect'``). :raise ConfigError: an unknown key or a bad value"""
    if not isinstance(data, Mapping):
        raise ConfigError(f'{where}: expected a mapping of expectations, got {data!r}')
    out: list[Expectation] = []
    for key, value in data.items():
        at = f'{where}.{key}'
        if key == 'never_collides':
            if value is not True:
                raise ConfigError(f'{at}: only `true` is meaningful, got {value!r}')
            out.append(NeverCollides())
        elif key == 'stops_before':
            if not isinstance(value, Mapping) or set(value) - {'clearance', 'speed'} or (
                    'clearance' not in value):
                raise ConfigError(f'{at}: expected {{clearance: m, speed: m/s}}, got {value!r}')
            clearance = value['clearance']
            if isinstance(clearance, bool) or not isinstance(clearance, (int, float)) or (
                    clearance < 0):
                raise ConfigError(f'{at}.clearance: expected a number >= 0, got {clearance!r}')
            out.append(StopsBefore(float(clearance),
                                   _positive(value.get('speed', 0.02), f'{at}.speed')))
        elif key == 'e_stop_stops_within':
            out.append(EStopStopsWithin(_positive(value, at)))
        elif key == 'reaches_goal_within':
            out.append(ReachesGoalWithin(_positive(value, at)))
        elif key == 'gate_verdicts':
            if not isinstance(value, Mapping) or not value:
                raise ConfigError(f'{at}: expected {{verdict or reason: ">=N"}}, got {value!r}')
            counts = []
            for name, count in value.items():
                if name not in VERDICTS and name not in REASONS:
                    raise ConfigError(f'{at}: unknown key {name!r}; verdicts '
                                      f'{", ".join(VERDICTS)}, reasons {", ".join(REASONS)}')
                counts.append((str(name), *_count(count, f'{at}.{name}')))
            out.append(GateVerdicts(tuple(counts)))
        else:
            raise ConfigError(f'{where}: unknown key {key!r}; expected one of '
                              f'{", ".join(EXPECTATIONS)}')
    return tuple(out)
