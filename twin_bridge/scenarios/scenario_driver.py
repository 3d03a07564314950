"""What a scenario's controller does each command period, without a simulator.

:class:`ScenarioDriver` turns a scenario's script or controller into the command for time
``t`` and the e-stop events due since the last call, for a driver that runs in real time
(the ``twin_scenario_controller`` node) rather than in the embedded harness.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from twin_bridge.errors import ConfigError
from twin_bridge.scenarios.controllers import Controller, Observation, load_controller
from twin_bridge.scenarios.spec import Scenario

__all__ = ['DriverStep', 'ScenarioDriver']


@dataclass(frozen=True)
class DriverStep:
    """One period's output: the ``command`` ``(v, w)`` (zero for a controller output that is
    not two finite numbers, then ``bad`` is set), and the e-stop events due since the last
    step in order, ``True`` engage, ``False`` release."""

    command: tuple[float, float]
    e_stops: tuple[bool, ...] = ()
    bad: bool = False


class ScenarioDriver:
    """Commands and e-stop events of ``scenario`` over time (see the module doc).

    :param scenario: the scenario (its ``commands`` or ``controller``, ``goal``, ``events``);
        ``None`` with a ``controller``
    :param controller: a controller instead of (or overriding) the scenario's
    :param goal: ``(x, y)`` for the controller instead of the scenario's
    :raise ConfigError: nothing to drive with, or a scenario whose events a controller
        cannot produce (stale inputs are the robot's, not the controller's)
    """

    def __init__(self, scenario: Scenario | None = None,
                 controller: Controller | None = None,
                 goal: tuple[float, float] | None = None) -> None:
        self.scenario = scenario
        self._goal = goal
        if controller is None and scenario is not None and scenario.controller is not None:
            controller = load_controller(scenario.controller, scenario.controller_args,
                                         f'{scenario.source}: controller')
        if controller is None and scenario is None:
            raise ConfigError('scenario controller: needs a scenario or a controller')
        if scenario is not None and (scenario.events.stale_scan
                                     or scenario.events.stale_odometry):
            raise ConfigError(f'{scenario.source}: events: stale_scan/stale_odometry are the '
                              "robot's inputs going quiet; a controller cannot produce them")
        self.controller = controller
        self._events: list[tuple[float, bool]] = []
        if scenario is not None:
            self._events = sorted([(t, True) for t in scenario.events.e_stop]
                                  + [(t, False) for t in scenario.events.e_stop_release])
        self._next_event = 0

    @property
    def goal(self) -> tuple[float, float] | None:
        """The goal ``(x, y)`` given, else the scenario's."""
        if self._goal is not None:
            return self._goal
        g = None if self.scenario is None else self.scenario.goal
        return None if g is None else (g.x, g.y)

    @property
    def duration(self) -> float:
        """How long the scenario runs (s; ``inf`` without a scenario)."""
        return math.inf if self.scenario is None else self.scenario.run.duration

    def events_due(self, t: float) -> tuple[bool, ...]:
        """The e-stop events due by time ``t`` not given before, in order (``True``:
        engage, ``False``: release)."""
        due = []
        while self._next_event < len(self._events) and self._events[self._next_event][0] <= t:
            due.append(self._events[self._next_event][1])
            self._next_event += 1
        return tuple(due)

    def step(self, t: float, observation: Observation | None = None) -> DriverStep:
        """The command at time ``t`` (s since the start; zero after :attr:`duration`) and
        the e-stop events due by then (not yet taken by :meth:`events_due`)."""
        event = self.events_due(t)
        if t >= self.duration:
            return DriverStep((0.0, 0.0), event)
        if self.controller is None:
            assert self.scenario is not None
            return DriverStep(self.scenario.scripted_command(t + 1e-9), event)
        if observation is None:
            return DriverStep((0.0, 0.0), event)
        try:
            out = self.controller(observation)
            command = (float(out[0]), float(out[1]))
        except (TypeError, ValueError, IndexError):
            command = (math.nan, math.nan)
        if not all(math.isfinite(c) for c in command):
            return DriverStep((0.0, 0.0), event, bad=True)
        return DriverStep(command, event)
