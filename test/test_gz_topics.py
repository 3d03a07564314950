"""Gazebo topic / service naming and world names read from SDF files."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from twin_bridge.description.robot_description import default_robot_path, expand_xacro
from twin_bridge.errors import ConfigError, WorldLoadError
from twin_bridge.gazebo.gz_topics import (
    GzTopics,
    normalize_prefix,
    ros_name,
    validate_name,
    world_name_from_sdf,
    world_service,
)

REPO = Path(__file__).resolve().parent.parent


def test_default_topics_match_the_contract():
    topics = GzTopics()
    assert topics.scan == '/twin/scan'
    assert topics.odometry == '/twin/odometry'
    assert topics.joint_states == '/twin/joint_states'
    assert topics.joint_command('pan_joint') == '/twin/joint/pan_joint/cmd_pos'
    assert topics.joint_commands(('a', 'b')) == {'a': '/twin/joint/a/cmd_pos',
                                                 'b': '/twin/joint/b/cmd_pos'}


@pytest.mark.parametrize('raw, expected', [
    ('/twin', '/twin'), ('twin', '/twin'), ('/robot1/twin/', '/robot1/twin'), ('', ''),
    ('/', ''),
])
def test_prefix_normalisation(raw, expected):
    assert normalize_prefix(raw) == expected
    assert GzTopics(raw).odometry == f'{expected}/odometry'


@pytest.mark.parametrize('bad', ['/twin bot', '/1twin', '/twin//x', '/twin/ä', 'relative/x'])
def test_invalid_names_are_rejected_with_the_token(bad):
    with pytest.raises(ConfigError, match='name'):
        validate_name(bad)


def test_joint_name_that_cannot_be_a_topic_token_names_the_joint():
    with pytest.raises(ConfigError, match="joint 'arm joint'"):
        GzTopics().joint_command('arm joint')


def test_ros_name_puts_the_gz_topic_under_the_namespace():
    assert ros_name('/twin/scan') == '/twin/scan'
    assert ros_name('/twin/scan', 'robot1') == '/robot1/twin/scan'
    assert ros_name('/twin/scan', '/robot1/') == '/robot1/twin/scan'


def test_world_services():
    assert world_service('warehouse', 'set_pose') == '/world/warehouse/set_pose'
    assert world_service('w_2', 'set_pose_vector') == '/world/w_2/set_pose_vector'
    with pytest.raises(ConfigError, match='world name'):
        world_service('my world', 'set_pose')


def test_lidar_topic_of_the_description_wins_when_absolute():
    robot = SimpleNamespace(lidar=SimpleNamespace(topic='/robot1/lidar'))
    assert GzTopics.for_robot(robot).scan == '/robot1/lidar'
    relative = SimpleNamespace(lidar=SimpleNamespace(topic='scan'))
    assert GzTopics.for_robot(relative).scan == '/twin/scan'
    assert GzTopics.for_robot(SimpleNamespace(lidar=None), '/r2').scan == '/r2/scan'


def test_robot_xacro_uses_exactly_these_gz_topics():
    """The robot helper's xacro and this module must agree on every topic (also prefixed)."""
    for prefix, joint_prefix in (('/twin', ''), ('/robot1/twin', 'r1_')):
        urdf = expand_xacro(default_robot_path(), {'gz_topic_prefix': prefix,
                                                   'prefix': joint_prefix})
        topics = GzTopics(prefix)
        for topic in (topics.scan, topics.odometry, topics.joint_states):
            assert f'>{topic}<' in urdf, topic
        for joint in ('left_wheel_joint', 'right_wheel_joint', 'pan_joint', 'tilt_joint'):
            assert f'>{topics.joint_command(joint_prefix + joint)}<' in urdf


def test_world_name_from_sdf(tmp_path):
    path = tmp_path / 'w.sdf'
    path.write_text('<?xml version="1.0"?><sdf version="1.9"><world name="lab_1"/></sdf>')
    assert world_name_from_sdf(path) == 'lab_1'


@pytest.mark.parametrize('text, message', [
    ('<sdf version="1.9"><model name="m"/></sdf>', 'no <world>'),
    ('<sdf version="1.9"><world/></sdf>', 'no name'),
    ('<sdf version="1.9"><world name="x">', 'cannot read'),
])
def test_world_name_errors_name_the_file(tmp_path, text, message):
    path = tmp_path / 'bad.sdf'
    path.write_text(text)
    with pytest.raises(WorldLoadError, match=message) as info:
        world_name_from_sdf(path)
    assert 'bad.sdf' in str(info.value)


def test_missing_world_file(tmp_path):
    with pytest.raises(WorldLoadError, match='not found'):
        world_name_from_sdf(tmp_path / 'nope.sdf')


def test_every_shipped_world_has_a_usable_name():
    worlds = sorted((REPO / 'worlds').glob('*.sdf'))
    assert worlds, 'no worlds shipped'
    for path in worlds:
        world_service(world_name_from_sdf(path), 'set_pose')
