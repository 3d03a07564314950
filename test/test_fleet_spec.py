"""Tests for fleet.fleet_spec and fleet.shards: the fleet file and its errors."""

from pathlib import Path

import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.fleet.fleet_spec import fleet_from_robot_args, load_fleet_file, parse_fleet
from twin_bridge.fleet.shards import Shard, parse_shard


def fleet(*robots, **top):
    return {'world': 'empty', 'robots': list(robots), **top}


def test_a_full_fleet_file_is_read(tmp_path: Path):
    (tmp_path / 'robot.urdf.xacro').write_text('<robot/>')
    path = tmp_path / 'fleet.yaml'
    path.write_text(
        'world: warehouse\n'
        'parameters: {unknown_joints: ignore, stale_timeout: 1}\n'
        'robots:\n'
        '  - namespace: /robot1\n'
        '    description: {file: robot.urdf.xacro, xacro_args: {lidar_samples: 360}}\n'
        '    pose: {x: 1.5, y: -2, yaw: 0.5}\n'
        '    parameters: {frame_prefix: r1_, stale_timeout: 2.0}\n'
        '  - namespace: team/robot2\n'
        '    description: {xacro_args: ["prefix:=b_"]}\n')
    spec = load_fleet_file(path)
    assert spec.world == 'warehouse' and spec.source == str(path)
    one, two = spec.robots
    assert one.namespace == 'robot1' and two.namespace == 'team/robot2'
    assert one.description_file == str(tmp_path / 'robot.urdf.xacro')
    assert one.xacro_args == {'lidar_samples': '360'} and two.xacro_args == {'prefix': 'b_'}
    assert (one.pose.x, one.pose.y, one.pose.z, one.pose.yaw) == (1.5, -2.0, 0.0, 0.5)
    assert one.frame_prefix == 'r1_' and two.frame_prefix == 'team/robot2/'
    assert one.parameter('stale_timeout') == 2.0 and two.parameter('stale_timeout') == 1.0
    assert two.parameter('unknown_joints') == 'ignore'
    assert two.parameter('lidar_noise') is True       # the default
    assert spec.robot('team/robot2') is two


@pytest.mark.parametrize('data, message', [
    (fleet({'namespace': 'a'}, {'namespace': 'a', 'pose': {'x': 3}}),
     'robots[1] (namespace "a"): key "namespace": duplicate of robots[0]'),
    (fleet({'namespace': 'a', 'colour': 'red'}), 'robots[0] (namespace "a"): unknown key(s) '
     "['colour']"),
    (fleet({'namespace': 'a', 'pose': {'x': 1, 'theta': 2}}),
     "robots[0] (namespace \"a\"): unknown key(s) ['pose.theta']"),
    (fleet({'namespace': 'a', 'pose': {'yaw': float('nan')}}),
     'robots[0] (namespace "a"): key "pose.yaw": a finite number'),
    (fleet({'namespace': 'a', 'pose': {'x': '1'}}), 'key "pose.x"'),
    (fleet({'namespace': 'a', 'description': {'path': 'x.urdf'}}),
     "unknown key(s) ['description.path']"),
    (fleet({'namespace': 'a', 'description': {'xacro_args': ['novalue']}}),
     'robots[0] (namespace "a"): key "description.xacro_args"'),
    (fleet({'namespace': 'a', 'parameters': {'speed': 1}}),
     "robots[0] (namespace \"a\"): key \"parameters\": unknown key(s) ['speed']"),
    (fleet({'namespace': 'a', 'parameters': {'unknown_joints': 'drop'}}),
     'key "unknown_joints": bad value'),
    (fleet({'namespace': 'a', 'parameters': {'stale_timeout': -1}}), 'key "stale_timeout"'),
    (fleet({'namespace': '1robot'}), 'robots[0]: key "namespace"'),
    (fleet({'pose': {}}), 'robots[0]: key "namespace"'),
    (fleet(), 'key "robots": a non-empty list'),
    (fleet({'namespace': 'a'}, fleet='x'), "unknown key(s) ['fleet']"),
    (fleet({'namespace': 'a'}, parameters={'frame_prefix': 3}),
     'key "parameters": key "frame_prefix"'),
    (['robots'], 'expected a mapping'),
])
def test_bad_fleet_files_name_the_robot_and_key(data, message):
    with pytest.raises(ConfigError) as info:
        parse_fleet(data, source='fleet.yaml')
    assert str(info.value).startswith('fleet.yaml: ')
    assert message in str(info.value)


def test_unreadable_and_malformed_files_are_named(tmp_path: Path):
    with pytest.raises(ConfigError, match='missing.yaml: cannot read'):
        load_fleet_file(tmp_path / 'missing.yaml')
    bad = tmp_path / 'bad.yaml'
    bad.write_text('robots: [a: b: c]\n')
    with pytest.raises(ConfigError, match='bad.yaml: not valid YAML'):
        load_fleet_file(bad)


def test_the_robots_parameter_builds_a_fleet():
    spec = fleet_from_robot_args(['robot1', 'robot2:2,0', 'robot3:0,-3,1.5', ''], 'empty')
    assert [r.namespace for r in spec.robots] == ['robot1', 'robot2', 'robot3']
    assert spec.robots[1].pose.x == 2.0 and spec.robots[2].pose.yaw == 1.5
    with pytest.raises(ConfigError, match="'r:1': expected"):
        fleet_from_robot_args(['r:1'])
    with pytest.raises(ConfigError, match="'r:a,b': x, y, yaw must be numbers"):
        fleet_from_robot_args(['r:a,b'])
    with pytest.raises(ConfigError, match='duplicate'):
        fleet_from_robot_args(['r', 'r:3,0'])


def test_shards_split_the_fleet_round_robin():
    shards = [parse_shard(f'{i}/3') for i in range(3)]
    assert [[k for k in range(7) if s.serves(k)] for s in shards] == [[0, 3, 6], [1, 4], [2, 5]]
    assert parse_shard('') == Shard(0, 1) and str(parse_shard(' 1 / 2 ')) == '1/2'
    for text in ('3/3', '1', 'a/b', '0/0', '-1/2'):
        with pytest.raises(ConfigError, match='parameter shard'):
            parse_shard(text)
