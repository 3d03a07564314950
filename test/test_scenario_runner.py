"""The runner and each expectation: passes when it should and fails when it should."""

import math

import pytest

from twin_bridge.scenarios import run_scenario, scenario_from_dict

START = {'x': 0.0, 'y': 0.0, 'yaw': 0.0}
# Below the lidar's scan plane (0.30 m) and not in the twin's map: the gate cannot see it.
HIDDEN_KERB = {'name': 'kerb', 'box': [0.3, 2.0, 0.2], 'x': 1.0, 'y': 0.0}
WALL = {'name': 'wall', 'box': [0.2, 3.0, 1.0], 'x': 1.2, 'y': 0.0, 'mapped': True}


def _run(expect, duration=3.0, **extra):
    data = {'world': 'empty', 'start': START, 'run': {'duration': duration},
            'expect': expect, **extra}
    data.setdefault('commands', [{'t': 0, 'v': 0.6, 'w': 0}])
    return run_scenario(scenario_from_dict(data, source='test'))


def _checks(result):
    return {c.name: c for c in result.checks}


@pytest.fixture(scope='module')
def into_hidden_kerb():
    return _run({'never_collides': True, 'stops_before': {'clearance': 0.05}},
                obstacles=[HIDDEN_KERB])


@pytest.fixture(scope='module')
def at_mapped_wall():
    return _run({'never_collides': True, 'stops_before': {'clearance': 0.08},
                 'gate_verdicts': {'stop': '>=1', 'pass': '==0', 'obstacle': '>0'}},
                obstacles=[WALL], duration=5.0)


def test_a_collision_the_gate_cannot_see_fails_never_collides(into_hidden_kerb):
    checks = _checks(into_hidden_kerb)
    assert not into_hidden_kerb.passed
    assert not checks['never_collides'].passed and 'kerb' in checks['never_collides'].detail
    assert not checks['stops_before'].passed
    assert into_hidden_kerb.trace.first_contact() is not None


def test_a_mapped_wall_is_stopped_before(at_mapped_wall):
    assert at_mapped_wall.passed, at_mapped_wall.checks
    trace = at_mapped_wall.trace
    assert trace.min_clearance >= 0.08 and trace.stop_pose is not None
    assert all(v in ('slow', 'stop') for v in trace.verdict)
    assert at_mapped_wall.speed_up > 1.0 and at_mapped_wall.sim_time == pytest.approx(5.0)


def test_gate_verdicts_fail_with_the_wrong_counts():
    result = _run({'gate_verdicts': {'stop': '>=1', 'pass': '<3', 'free': '==30'}})
    detail = _checks(result)['gate_verdicts'].detail
    assert not result.passed and 'stop=0 (>=1 ✗)' in detail and 'free=30 (==30)' in detail


def test_e_stop_passes_and_fails_by_its_bound():
    events = {'e_stop': [0.55]}
    ok = _run({'e_stop_stops_within': 0.5}, events=events)
    too_tight = _run({'e_stop_stops_within': 0.05}, events=events)
    assert ok.passed, ok.checks
    assert not too_tight.passed
    trace = ok.trace
    first_zero = min(t for t, out in zip(trace.tick, trace.command_out, strict=True)
                     if t >= 0.55 and not out.any())
    assert first_zero - 0.55 < 0.1                       # under one command period
    assert set(trace.verdict[6:]) == {'stop'}            # latched
    missing = _run({'e_stop_stops_within': 0.5})
    assert 'no e-stop' in _checks(missing)['e_stop_stops_within'].detail


def test_reaches_goal_within_passes_and_fails():
    goal = {'x': 1.0, 'y': 0.0, 'tolerance': 0.2}
    assert _run({'reaches_goal_within': 3}, goal=goal).passed
    far = _run({'reaches_goal_within': 3}, goal={'x': 9.0, 'y': 0.0})
    assert not far.passed and 'never' in far.checks[0].detail


def test_stale_scan_and_odometry_windows_stop_the_robot():
    result = _run({'gate_verdicts': {'stale_scan': '>=1', 'stale_odometry': '>=1'}},
                  events={'stale_scan': [[0.5, 1.5]], 'stale_odometry': [[2.0, 2.8]]})
    assert result.passed, result.checks


def test_a_python_controller_drives_and_a_nan_command_is_stopped():
    data = {'world': 'empty', 'start': START, 'goal': {'x': 1.5, 'y': 1.0},
            'controller': {'entry_point': 'twin_bridge.scenarios.controllers:go_to_goal',
                           'args': {'speed': 0.5}},
            'run': {'duration': 8.0}, 'expect': {'reaches_goal_within': 8}}
    result = run_scenario(scenario_from_dict(data))
    assert result.passed, result.checks
    nan = {'world': 'empty', 'start': START, 'run': {'duration': 1.0},
           'controller': f'{__name__}:nan_controller'}
    out = run_scenario(scenario_from_dict(nan))
    assert set(out.trace.reason) == {'invalid_command'} and not out.trace.command_out.any()


def nan_controller(obs):
    """A controller gone wrong."""
    return math.nan, 0.0


def test_runs_are_deterministic_for_a_seed():
    def run(seed):
        return _run({}, faults=['scan_noise:stddev=0.05'], obstacles=[WALL],
                    run={'duration': 2.0, 'seed': seed}).trace
    a, b = run(4), run(4)
    assert list(a.x) == list(b.x) and a.verdict == b.verdict
