"""ScenarioDriver: a scenario's script or controller and its e-stops over real time."""

import math

import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.scenarios.controllers import Observation
from twin_bridge.scenarios.loader import scenario_from_dict
from twin_bridge.scenarios.scenario_driver import ScenarioDriver


def _scenario(drop=(), **extra):
    data = {'world': 'warehouse', 'start': {'x': 0.0, 'y': 0.0},
            'commands': [{'until': 2.0, 'v': 0.4, 'w': 0.1}, {'t': 2.0, 'v': 0.0, 'w': 1.0}],
            'events': {'e_stop': [1.05], 'e_stop_release': [1.5]}, 'run': {'duration': 3.0}}
    data.update(extra)
    for key in drop:
        del data[key]
    return scenario_from_dict(data, source='s.yaml')


def _obs(t, goal=None):
    return Observation(t, (0.0, 0.0, 0.0), (0.0, 0.0), None, goal)


def test_script_commands_events_in_order_and_zero_after_the_duration():
    driver = ScenarioDriver(_scenario())
    assert driver.step(0.0).command == (0.4, 0.1)
    assert driver.step(1.0).e_stops == ()
    assert driver.events_due(1.06) == (True,)        # between two commands
    step = driver.step(1.1)
    assert step.command == (0.4, 0.1) and step.e_stops == ()
    assert driver.step(1.6).e_stops == (False,)
    assert driver.step(2.5).command == (0.0, 1.0)
    assert driver.step(3.0).command == (0.0, 0.0)
    assert driver.duration == 3.0


def test_several_events_due_at_once_all_come_in_order():
    driver = ScenarioDriver(_scenario())
    assert driver.step(2.0).e_stops == (True, False)


def test_controller_with_goal_override_and_bad_output_is_a_counted_stop():
    seen = []

    def controller(obs):
        seen.append(obs.goal)
        return (math.nan, 0.0) if obs.t > 1 else (0.2, -0.3)

    driver = ScenarioDriver(None, controller, goal=(1.0, 2.0))
    assert driver.goal == (1.0, 2.0) and driver.duration == math.inf
    assert driver.step(0.5, _obs(0.5, driver.goal)).command == (0.2, -0.3)
    bad = driver.step(1.5, _obs(1.5, driver.goal))
    assert bad.command == (0.0, 0.0) and bad.bad
    assert driver.step(2.0, None).command == (0.0, 0.0)   # no observation yet: stop
    assert seen == [(1.0, 2.0), (1.0, 2.0)]


def test_scenario_controller_entry_point_is_loaded():
    s = _scenario(drop=('commands',), controller={
        'entry_point': 'twin_bridge.scenarios.controllers:go_to_goal', 'args': {'speed': 0.3}},
        goal={'x': 2.0, 'y': 0.0}, events={})
    driver = ScenarioDriver(s)
    v, w = driver.step(0.0, _obs(0.0, driver.goal)).command
    assert v == pytest.approx(0.3) and w == pytest.approx(0.0)


@pytest.mark.parametrize('make, match', [
    (lambda: ScenarioDriver(None), 'needs a scenario or a controller'),
    (lambda: ScenarioDriver(_scenario(events={'stale_scan': [[1.0, 2.0]]})), 'stale_scan'),
])
def test_what_a_controller_cannot_do_is_refused(make, match):
    with pytest.raises(ConfigError, match=match):
        make()
