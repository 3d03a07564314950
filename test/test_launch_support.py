"""launch_support: the pure logic behind the launch files."""

from pathlib import Path

import pytest
import yaml

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.errors import ConfigError, ResourceNotFoundError, WorldLoadError
from twin_bridge.gazebo.gz_bridge_config import load_bridge_config
from twin_bridge.gazebo.launch_support import (
    GZ_PLUGIN_PATH_ENV,
    GZ_RESOURCE_PATH_ENV,
    OutputTail,
    create_arguments,
    exported_model_paths,
    gazebo_environment,
    gz_resource_paths,
    gz_sim_command,
    package_uri_packages,
    parse_bool,
    parse_float,
    plan_gazebo_twin,
    prepare_bridge,
    require_executable,
    resolve_world,
    twin_node_overrides,
)

REPO = Path(__file__).resolve().parent.parent
WORLD = '<?xml version="1.0"?><sdf version="1.9"><world name="{name}"></world></sdf>'


@pytest.fixture
def world(tmp_path):
    path = tmp_path / 'lab.sdf'
    path.write_text(WORLD.format(name='lab'))
    return path


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


@pytest.mark.parametrize('text, value', [('true', True), ('False', False), ('1', True),
                                         ('off', False), (True, True)])
def test_parse_bool(text, value):
    assert parse_bool(text, 'gui') is value


def test_parse_bool_and_float_errors_name_the_argument():
    with pytest.raises(ConfigError, match='headless'):
        parse_bool('maybe', 'headless')
    with pytest.raises(ConfigError, match='yaw'):
        parse_float('north', 'yaw')
    with pytest.raises(ConfigError, match='finite'):
        parse_float('nan', 'x')


def test_gz_sim_command_is_an_argv_without_a_shell(world):
    assert gz_sim_command(world) == ['gz', 'sim', '-r', str(world)]
    spaced = world.parent / 'my world.sdf'
    assert gz_sim_command(spaced, headless=True) == [
        'gz', 'sim', '-r', '-s', '--headless-rendering', str(spaced)]
    assert gz_sim_command(world, headless=True, gui=True).count('-s') == 1
    assert gz_sim_command(world, gui=False, run=False) == ['gz', 'sim', '-s', str(world)]
    assert gz_sim_command(world, run=False, verbosity=4) == ['gz', 'sim', '-v4', str(world)]
    with pytest.raises(ConfigError, match='verbosity'):
        gz_sim_command(world, verbosity=7)


def test_require_executable_looks_on_the_given_path(tmp_path):
    program = tmp_path / 'gz'
    program.write_text('#!/bin/sh\n')
    program.chmod(0o755)
    assert require_executable('gz', {'PATH': str(tmp_path)}) == str(program)
    with pytest.raises(ConfigError, match='^gz not found on PATH: apt install it$'):
        require_executable('gz', {'PATH': str(tmp_path / 'nothing')}, 'apt install it')


def test_output_tail_gives_the_exit_code_and_the_last_lines():
    tail = OutputTail('twin_bridge', lines=2)
    tail.feed(b'[INFO] starting\n')
    tail.feed(b'\x1b[31m[FATAL] [twin_bridge]: output_odom_topic res')  # colour, split line
    tail.feed('olves to /odom\n\n')
    assert tail.exit_reason(1) == ('twin_bridge exited with code 1: [INFO] starting\n'
                                   '  [FATAL] [twin_bridge]: output_odom_topic resolves to /odom')
    tail.feed(b'Traceback: ... ConfigError: bad')  # a last line without its newline counts
    assert tail.exit_reason(-9).startswith('twin_bridge exited with code -9 (SIGKILL): [FATAL]')
    assert tail.exit_reason(-9).endswith('\n  Traceback: ... ConfigError: bad')


def test_output_tail_without_output():
    assert OutputTail('Gazebo').exit_reason(0) == 'Gazebo exited with code 0'
    assert OutputTail('Gazebo').exit_reason(255) == 'Gazebo exited with code 255'
    assert OutputTail('x').exit_reason(None) == 'x exited with code None'


def _install(prefix: Path, name: str, export: str = '') -> None:
    share = prefix / 'share' / name
    share.mkdir(parents=True)
    (share / 'package.xml').write_text(
        f'<package format="3"><name>{name}</name><export>{export}</export></package>')


def test_exported_model_paths_follow_the_gazebo_ros_export(tmp_path):
    _install(tmp_path / 'a', 'with_models', '<gazebo_ros gazebo_model_path="${prefix}/models"/>'
             '<gazebo_ros gazebo_media_path="${prefix}/media"/>')
    _install(tmp_path / 'b', 'plain', '<build_type>ament_python</build_type>')
    (tmp_path / 'c').mkdir()  # in the index without a manifest
    (tmp_path / 'd' / 'share' / 'broken').mkdir(parents=True)
    (tmp_path / 'd' / 'share' / 'broken' / 'package.xml').write_text('<package')
    packages = {'with_models': str(tmp_path / 'a'), 'plain': str(tmp_path / 'b'),
                'missing': str(tmp_path / 'c'), 'broken': str(tmp_path / 'd')}
    share = tmp_path / 'a' / 'share' / 'with_models'
    assert exported_model_paths(packages) == [str(share / 'models'), str(share / 'media')]


def test_gz_resource_paths_cover_package_uris_of_the_robot(tmp_path):
    _install(tmp_path / 'ws', 'meshes_pkg')
    _install(tmp_path / 'opt', 'models_pkg', '<gazebo_ros gazebo_model_path="${prefix}/m"/>')
    urdf = ('<robot name="r"><link name="a"><visual><geometry>'
            '<mesh filename="package://meshes_pkg/meshes/a.dae"/></geometry></visual></link>'
            '<link name="b"><visual><geometry><mesh filename="package://meshes_pkg/b.stl"/>'
            '</geometry></visual></link><link name="c"><visual><geometry>'
            '<mesh filename="package://not_installed/c.stl"/></geometry></visual></link></robot>')
    assert package_uri_packages(urdf) == ['meshes_pkg', 'not_installed']
    packages = {'meshes_pkg': str(tmp_path / 'ws'), 'models_pkg': str(tmp_path / 'opt')}
    assert gz_resource_paths(urdf, packages) == [
        str(tmp_path / 'opt' / 'share' / 'models_pkg' / 'm'), str(tmp_path / 'ws' / 'share')]
    assert gz_resource_paths('<robot name="r"/>', {}) == []


def test_gazebo_environment_appends_to_what_is_set():
    env = gazebo_environment({GZ_RESOURCE_PATH_ENV: '/mine:/shared', 'LD_LIBRARY_PATH': '/ros/lib'},
                             ['/shared', '/pkg/models'])
    assert env[GZ_RESOURCE_PATH_ENV] == '/mine:/shared:/pkg/models'
    assert env[GZ_PLUGIN_PATH_ENV] == '/ros/lib'
    assert gazebo_environment({}, []) == {GZ_RESOURCE_PATH_ENV: '', GZ_PLUGIN_PATH_ENV: ''}


def test_create_arguments():
    args = create_arguments(world_name='lab', model_name='twin_robot', x='1.5', y=-2, z='0.1',
                            yaw='0.5')
    assert args[:6] == ['-world', 'lab', '-name', 'twin_robot', '-topic', 'robot_description']
    pairs = dict(zip(args[6::2], args[7::2], strict=True))
    assert {k: float(v) for k, v in pairs.items()} == {'-x': 1.5, '-y': -2.0, '-z': 0.1,
                                                      '-Y': 0.5}
    with pytest.raises(ConfigError, match='model_name'):
        create_arguments(world_name='lab', model_name='my robot')
    with pytest.raises(ConfigError, match='x'):
        create_arguments(world_name='lab', model_name='m', x='inf')


def test_resolve_world_by_path_and_by_name(world):
    assert resolve_world(str(world)) == world.resolve()
    with pytest.raises(ResourceNotFoundError, match='no_such_world'):
        resolve_world('no_such_world')
    shipped = sorted((REPO / 'worlds').glob('*.sdf'))
    if shipped:
        assert resolve_world(shipped[0].stem) == shipped[0].resolve()


def test_prepare_bridge_generates_a_file_and_a_separate_clock_bridge(robot, tmp_path):
    setup = prepare_bridge(robot, world_name='lab', directory=tmp_path)
    assert setup.config_file.parent == tmp_path
    assert load_bridge_config(setup.config_file, robot=robot).entries == setup.config.entries
    assert setup.clock_arguments == ['/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock']
    assert setup.arguments == ['/world/lab/set_pose@ros_gz_interfaces/srv/SetEntityPose'
                               '@gz.msgs.Pose@gz.msgs.Boolean']


def test_prepare_bridge_with_a_user_file_that_bridges_the_clock_itself(robot, tmp_path):
    data = yaml.safe_load((REPO / 'config' / 'gz_bridge.yaml').read_text())
    data.append({'topic_name': '/clock', 'ros_type_name': 'rosgraph_msgs/msg/Clock',
                 'gz_type_name': 'gz.msgs.Clock', 'direction': 'GZ_TO_ROS'})
    user = tmp_path / 'mine.yaml'
    user.write_text(yaml.safe_dump(data))
    setup = prepare_bridge(robot, world_name='lab', bridge_config=str(user))
    assert setup.config_file == user.resolve()
    assert setup.clock_arguments == []  # never twice
    assert len(setup.arguments) == 1


def test_prepare_bridge_rejects_an_incomplete_user_file(robot, tmp_path):
    user = tmp_path / 'thin.yaml'
    user.write_text(yaml.safe_dump([{'topic_name': '/twin/odometry',
                                     'ros_type_name': 'nav_msgs/msg/Odometry',
                                     'gz_type_name': 'gz.msgs.Odometry',
                                     'direction': 'GZ_TO_ROS'}]))
    with pytest.raises(ConfigError, match='thin.yaml.*/twin/scan'):
        prepare_bridge(robot, world_name='lab', bridge_config=str(user))


def test_twin_node_overrides():
    params = twin_node_overrides(backend='gazebo', world='/w/lab.sdf', xacro_args={'a': '1'},
                                 gz_world_name='lab', gz_topic_prefix='twin/')
    assert params['backend'] == 'gazebo' and params['gz_world_name'] == 'lab'
    assert params['gz_topic_prefix'] == '/twin'
    assert params['robot_description_args'] == ['a:=1']
    assert twin_node_overrides(backend='embedded', world='w')['robot_description_args'] == ['']
    with pytest.raises(ConfigError, match='backend'):
        twin_node_overrides(backend='bullet', world='w')


def test_plan_gazebo_twin(world, tmp_path):
    plan = plan_gazebo_twin(world=str(world), xacro_args="prefix:=r1_ gz_topic_prefix:='/r1'",
                            headless='true', namespace='robot1', model_name='r1', x='2',
                            bridge_directory=tmp_path, packages={})
    assert plan.gz_command == ['gz', 'sim', '-r', '-s', '--headless-rendering',
                               str(world.resolve())]
    assert plan.gz_resource_paths == []  # the default robot has no package:// meshes
    assert plan.create_arguments[:4] == ['-world', 'lab', '-name', 'r1']
    topics = {e.ros_topic: e.gz_topic for e in plan.bridge.config.entries}
    assert topics['/robot1/r1/joint/r1_pan_joint/cmd_pos'] == '/r1/joint/r1_pan_joint/cmd_pos'
    assert topics['/robot1/r1/scan'] == '/r1/scan'
    params = plan.twin_parameters
    assert (params['backend'], params['gz_world_name'], params['model_name']) == (
        'gazebo', 'lab', 'r1')
    assert params['gz_topic_prefix'] == '/r1' and params['world'] == str(world.resolve())
    assert params['robot_description_args'] == ['prefix:=r1_', 'gz_topic_prefix:=/r1']


def test_plan_errors_name_what_is_wrong(world, tmp_path):
    with pytest.raises(ConfigError, match='headless'):
        plan_gazebo_twin(world=str(world), headless='sometimes', bridge_directory=tmp_path)
    with pytest.raises(ConfigError, match="xacro_args: 'prefix=r1_' is not name:=value"):
        plan_gazebo_twin(world=str(world), xacro_args='prefix=r1_', bridge_directory=tmp_path)
    broken = tmp_path / 'broken.sdf'
    broken.write_text('<sdf version="1.9"><model name="m"/></sdf>')
    with pytest.raises(WorldLoadError, match='broken.sdf'):
        plan_gazebo_twin(world=str(broken))
