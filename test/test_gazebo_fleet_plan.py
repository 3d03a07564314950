"""The Gazebo fleet launch's plan (fleet.gazebo_fleet_plan): one world, per robot its own
model, Gazebo topics, bridge and twin node - nothing shared between robots but /clock."""

from pathlib import Path

import pytest
import yaml

from twin_bridge.errors import ConfigError
from twin_bridge.fleet.gazebo_fleet_plan import plan_gazebo_fleet

REPO = Path(__file__).resolve().parent.parent


def test_each_robot_gets_its_own_model_topics_bridge_and_node(tmp_path):
    plan = plan_gazebo_fleet(str(REPO / 'config' / 'fleet_example.yaml'), headless='true',
                             bridge_directory=tmp_path)
    assert [r.namespace for r in plan.robots] == ['robot1', 'robot2', 'robot3']
    assert plan.gz_command[-3:-1] == ['-s', '--headless-rendering']
    assert len(plan.clock_arguments) == 1     # /clock bridged once for the whole fleet
    gz_topics, ros_topics = set(), set()
    for robot in plan.robots:
        params = robot.plan.twin_parameters
        assert params['model_name'] == robot.namespace
        assert params['gz_topic_prefix'] == f'/{robot.namespace}/twin'
        assert f'gz_topic_prefix:=/{robot.namespace}/twin' in robot.xacro_args
        assert 'lidar_samples:=360' in robot.xacro_args     # the robot's own xacro args
        args = robot.plan.create_arguments
        assert args[args.index('-name') + 1] == robot.namespace
        entry = plan.fleet.robot(robot.namespace)
        assert float(args[args.index('-x') + 1]) == entry.pose.x
        assert float(args[args.index('-Y') + 1]) == entry.pose.yaw
        for e in robot.plan.bridge.config.entries:
            assert e.gz_topic.startswith(f'/{robot.namespace}/twin/'), e
            gz_topics.add(e.gz_topic)
            ros_topics.add(e.ros_topic)
        assert robot.plan.bridge.config_file.is_file()
    per_robot = len(plan.robots[0].plan.bridge.config.entries)
    assert len(gz_topics) == len(ros_topics) == 3 * per_robot    # nothing shared


def test_namespaces_with_slashes_become_valid_model_names(tmp_path):
    path = tmp_path / 'fleet.yaml'
    path.write_text(yaml.safe_dump({'world': 'empty', 'robots': [
        {'namespace': 'team/a'}, {'namespace': 'team/b', 'pose': {'x': 2.0}}]}))
    plan = plan_gazebo_fleet(str(path), bridge_directory=tmp_path)
    assert [r.model_name for r in plan.robots] == ['team_a', 'team_b']
    assert plan.robots[1].plan.twin_parameters['gz_topic_prefix'] == '/team/b/twin'


def test_a_bad_fleet_file_is_named(tmp_path):
    path = tmp_path / 'fleet.yaml'
    path.write_text(yaml.safe_dump({'robots': [{'namespace': 'a', 'speed': 1}]}))
    with pytest.raises(ConfigError, match="fleet.yaml: robots\\[0\\] \\(namespace \"a\"\\): "
                                          "unknown key"):
        plan_gazebo_fleet(str(path))


def test_the_launch_ends_with_gazebo_or_any_twin_and_bridges_clock_once():
    import ast
    launch = REPO / 'launch' / 'gazebo_fleet.launch.py'
    source = launch.read_text()
    assert "_end_launch_when_exits(gazebo, 'Gazebo')" in source
    assert "_end_launch_when_exits(twin, f'twin_bridge {ns}')" in source
    assert source.count("name='twin_clock_bridge'") == 1
    assert "'override_timestamps_with_wall_time': True" in source
    helpers = {ast.unparse(f).split('"""')[-1]
               for path in (launch, REPO / 'launch' / 'fleet_twin.launch.py')
               for f in ast.walk(ast.parse(path.read_text()))
               if isinstance(f, ast.FunctionDef) and f.name == '_end_launch_when_exits'}
    assert len(helpers) == 1   # the same exit helper as the other launch files
