"""The fleet launch without ``launch``: its plan per robot (fleet.launch_plan), the shipped
fleet and parameter files, and static checks of launch/fleet_twin.launch.py."""

import ast
from pathlib import Path

import pytest
import yaml

from twin_bridge.errors import ConfigError
from twin_bridge.fleet.fleet_config import FLEET_PARAMETERS, FleetNodeConfig
from twin_bridge.fleet.fleet_model import FleetModel
from twin_bridge.fleet.launch_plan import plan_fleet_launch

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / 'config' / 'fleet_example.yaml'
LAUNCH = REPO / 'launch' / 'fleet_twin.launch.py'


def test_the_plan_names_each_served_robot_with_its_urdf_and_frame_prefix():
    fleet, robots = plan_fleet_launch(str(EXAMPLE))
    assert [r.namespace for r in robots] == ['robot1', 'robot2', 'robot3']
    assert all('<robot name="twin_robot"' in r.urdf_xml for r in robots)
    assert '<samples>360</samples>' in robots[0].urdf_xml   # the robot's xacro args applied
    assert robots[0].frame_prefix == 'robot1/'
    _, share = plan_fleet_launch(str(EXAMPLE), shard='1/3')
    assert [r.namespace for r in share] == ['robot2']
    assert fleet.world == 'warehouse'


def test_a_robot_whose_description_fails_is_named(tmp_path):
    path = tmp_path / 'fleet.yaml'
    path.write_text(yaml.safe_dump({'robots': [
        {'namespace': 'ok'},
        {'namespace': 'gone', 'pose': {'x': 3}, 'description': {'file': 'missing.urdf.xacro'}}]}))
    with pytest.raises(ConfigError, match=r'robot "gone": key "description": .*missing'):
        plan_fleet_launch(str(path))


def test_the_example_fleet_loads_in_its_world():
    fleet = FleetNodeConfig.from_values({'fleet_file': str(EXAMPLE)}).fleet()
    model = FleetModel(fleet)
    assert list(model.slots) == ['robot1', 'robot2', 'robot3']
    assert all(slot.lidar.samples == 360 for slot in model.slots.values())


def test_the_parameter_file_sets_exactly_the_node_parameters():
    values = yaml.safe_load((REPO / 'config' / 'twin_fleet.yaml').read_text())
    params = values['/**']['ros__parameters']
    assert set(params) == set(FLEET_PARAMETERS)
    with pytest.raises(ConfigError, match='give the fleet'):
        FleetNodeConfig.from_values(params)      # no fleet named: an error, not a guess
    FleetNodeConfig.from_values({**params, 'robots': ['r1', 'r2:3,0']}).fleet()


@pytest.mark.parametrize('values, message', [
    ({'robots': ['a'], 'fleet_file': 'x.yaml'}, 'both set'),
    ({'robots': ['a'], 'shard': '1/2'}, 'more shards than the 1 robot'),
    ({'robots': ['a'], 'scan_rate': -1.0}, 'parameter scan_rate'),
    ({'robots': ['a'], 'state_qos': 'fast'}, 'parameter state_qos'),
    ({'robots': ['a'], 'speed': 1.0}, "unknown parameter(s) ['speed']"),
    ({'robots': 'a'}, 'parameter robots must be a list'),
])
def test_bad_node_parameters_are_named(values, message):
    with pytest.raises(ConfigError) as info:
        FleetNodeConfig.from_values(values).fleet()
    assert message in str(info.value)


def test_the_launch_file_keeps_each_robots_tf_apart_and_ends_with_the_twin():
    tree = ast.parse(LAUNCH.read_text())
    source = LAUNCH.read_text()
    assert "('/tf', 'virtual/tf')" in source and "'frame_prefix': robot.frame_prefix" in source
    assert "value_type=str" in source
    assert "_end_launch_when_exits(twin, 'twin_fleet')" in source
    declared = {c.args[0].value for c in ast.walk(tree) if isinstance(c, ast.Call)
                and getattr(c.func, 'id', '') == 'DeclareLaunchArgument'}
    assert declared == {'fleet_file', 'world', 'shard', 'params_file', 'use_sim_time',
                        'physical'}
    helper = {ast.unparse(f).split('"""')[-1] for path in (LAUNCH, REPO / 'launch'
                                                            / 'embedded_twin.launch.py')
              for f in ast.walk(ast.parse(path.read_text()))
              if isinstance(f, ast.FunctionDef) and f.name == '_end_launch_when_exits'}
    assert len(helper) == 1   # the same exit helper as the other launch files
