"""Scenario files: a good one loads; bad ones fail with the file and the key named."""

import math

import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.scenarios import load_scenario, run_file, scenario_from_dict
from twin_bridge.scenarios.expectations import GateVerdicts, NeverCollides, StopsBefore

GOOD = """
world: empty
start: {x: 0, y: 0, yaw_deg: 90}
goal: {x: 1, y: 2}
faults: ["range_bias:m=0.05"]
obstacles: [{name: post, cylinder: [0.1, 1.0], x: 3, y: 0}]
commands: [{until: 2, v: 0.5, w: 0}, {t: 3, v: 0, w: 1}]
events: {e_stop: [1.5], stale_scan: [[2, 2.5]]}
gate: {safety_margin: 0.15}
run: {duration: 5, seed: 3}
expect: {never_collides: true, stops_before: {clearance: 0.2}, gate_verdicts: {stop: ">=1"}}
"""


def _write(tmp_path, text, name='case.yaml'):
    path = tmp_path / name
    path.write_text(text, encoding='utf-8')
    return path


def test_a_good_file_loads(tmp_path):
    s = load_scenario(_write(tmp_path, GOOD))
    assert s.name == 'case' and s.world.endswith('empty.sdf')
    assert s.start.yaw == pytest.approx(math.pi / 2)
    assert s.faults[0].kind == 'range_bias' and s.faults[0].seed == 3
    assert s.scripted_command(1.0) == (0.5, 0.0) and s.scripted_command(2.5) == (0.0, 0.0)
    assert s.scripted_command(100.0) == (0.0, 1.0)
    assert s.gate.safety_margin == 0.15 and s.run.duration == 5
    assert [type(e) for e in s.expectations] == [NeverCollides, StopsBefore, GateVerdicts]
    assert s.expectations[2].counts == (('stop', '>=', 1),)


@pytest.mark.parametrize('change, key', [
    ('colour: red\n', "unknown key 'colour'"),
    ('expect: {never_colides: true}\n', "expect: unknown key 'never_colides'"),
    ('gate: {margin: 0.1}\n', "gate: unknown key 'margin'"),
    ('run: {duration: -1}\n', 'run.duration'),
    ('events: {e_stop: [one]}\n', 'events.e_stop[0]'),
    ('expect: {gate_verdicts: {stop: "about 3"}}\n', 'expect.gate_verdicts.stop'),
    ('expect: {gate_verdicts: {stops: 1}}\n', "unknown key 'stops'"),
    ('expect: {reaches_goal_within: 3}\n', 'the scenario has no goal'),
    ('faults: ["lidar_yaw:degrees=2"]\n', 'faults'),
    ('controller: "nomodule"\n', 'commands, controller'),
])
def test_a_bad_key_is_named_with_the_file(tmp_path, change, key):
    text = 'world: empty\nstart: {x: 0, y: 0}\ncommands: [{until: 1, v: 0.1}]\n'
    if change.split(':')[0] in ('expect', 'commands'):
        text = text.replace('commands: [{until: 1, v: 0.1}]\n', 'commands: []\n')
    path = _write(tmp_path, text + change)
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_a_missing_world_is_named(tmp_path):
    path = _write(tmp_path, 'world: atlantis\nstart: {x: 0, y: 0}\ncommands: []\n')
    with pytest.raises(ConfigError, match=r'case.yaml: world: .*atlantis'):
        load_scenario(path)


def test_missing_start_and_script_are_named(tmp_path):
    with pytest.raises(ConfigError, match="missing key 'start'"):
        load_scenario(_write(tmp_path, 'world: empty\ncommands: []\n'))
    with pytest.raises(ConfigError, match='commands: missing'):
        load_scenario(_write(tmp_path, 'world: empty\nstart: {x: 0, y: 0}\n'))


def test_not_yaml_and_not_a_mapping_are_named(tmp_path):
    with pytest.raises(ConfigError, match='not valid YAML'):
        load_scenario(_write(tmp_path, 'world: [unclosed\n'))
    with pytest.raises(ConfigError, match='case.yaml: expected a mapping'):
        load_scenario(_write(tmp_path, '- 1\n'))


def test_an_impossible_start_pose_fails_naming_start(tmp_path):
    path = _write(tmp_path, 'world: empty\nstart: {x: 0, y: 0}\ncommands: []\n'
                            'obstacles: [{name: rock, box: [0.5, 0.5, 0.5], x: 0.1, y: 0}]\n')
    result = run_file(path)
    assert not result.passed
    assert str(path) in result.error and 'start' in result.error
    assert 'in collision' in result.error and 'rock' in result.error


def test_a_controller_that_cannot_be_imported_is_named(tmp_path):
    path = _write(tmp_path, 'world: empty\nstart: {x: 0, y: 0}\n'
                            'controller: "no_such_module_xyz:control"\n')
    result = run_file(path)
    assert 'controller' in result.error and 'no_such_module_xyz' in result.error


def test_a_moved_obstacle_that_does_not_exist_is_named(tmp_path):
    path = _write(tmp_path, 'world: empty\nstart: {x: 0, y: 0}\ncommands: []\n'
                            'faults: ["obstacle_moved:name=nothing,dx=1"]\n')
    result = run_file(path)
    assert str(path) in result.error and 'faults' in result.error and 'nothing' in result.error


def test_scenarios_can_be_written_in_python():
    s = scenario_from_dict({'world': 'empty', 'start': {'x': 1, 'y': 2},
                            'commands': [{'t': 0, 'v': 0.2, 'w': 0}]}, source='mine')
    assert s.start.x == 1 and s.scripted_command(50) == (0.2, 0.0)
    with pytest.raises(ConfigError, match=r'^mine: commands\[0\]: give exactly one'):
        scenario_from_dict({'world': 'empty', 'start': {'x': 0, 'y': 0},
                            'commands': [{'v': 1}]}, source='mine')
