"""Tests for robot_description: xacro, URDF parsing, lidar from the Gazebo tag."""

import math
from pathlib import Path

import numpy as np
import pytest

from twin_bridge.description.robot_description import (
    default_robot_path,
    expand_xacro,
    load_robot_description,
    parse_urdf,
)
from twin_bridge.errors import RobotDescriptionError

ROBOTS = Path(__file__).resolve().parent / 'data' / 'robots'
TB3 = ROBOTS / 'tb3_like_description' / 'urdf' / 'tb3_like.urdf'
NAV2 = ROBOTS / 'nav2_like.urdf'


def minimal_urdf(extra: str = '', joint_type: str = 'continuous', sensor: str = '') -> str:
    return f"""<robot name="mini">
      <link name="base"/><link name="wheel_a"/><link name="wheel_b"/>
      <joint name="ja" type="{joint_type}"><parent link="base"/><child link="wheel_a"/>
        <origin xyz="0 0.1 0"/><axis xyz="0 1 0"/><limit lower="-1" upper="1"/></joint>
      <joint name="jb" type="{joint_type}"><parent link="base"/><child link="wheel_b"/>
        <origin xyz="0 -0.1 0"/><axis xyz="0 1 0"/><limit lower="-1" upper="1"/></joint>
      {extra}
      {sensor}
    </robot>"""


def lidar_tag(body: str, sensor_type: str = 'gpu_lidar', reference: str = 'base') -> str:
    return f"""<gazebo reference="{reference}"><sensor type="{sensor_type}" name="s">
      {body}</sensor></gazebo>"""


def test_default_robot_matches_contract():
    robot = load_robot_description(default_robot_path())
    assert robot.name == 'twin_robot' and robot.root_link == 'base_link'
    assert robot.movable_joint_names == ('left_wheel_joint', 'right_wheel_joint', 'pan_joint',
                                         'tilt_joint')
    assert robot.wheel_joint_names == ('left_wheel_joint', 'right_wheel_joint')
    pan, tilt = robot.joint('pan_joint'), robot.joint('tilt_joint')
    assert pan.type == 'revolute' and pan.axis == (0, 0, 1) and (pan.lower, pan.upper) == (-2.5,
                                                                                          2.5)
    assert tilt.axis == (0, 1, 0) and (tilt.lower, tilt.upper) == (-0.7, 0.7)
    left = robot.joint('left_wheel_joint')
    assert left.type == 'continuous' and left.lower == -math.inf and left.upper == math.inf
    assert (left.effort, left.velocity, pan.effort, pan.velocity) == (5.0, 20.0, 2.0, 3.0)
    assert robot.joint('caster_joint').effort == math.inf
    # Wheel radius 0.06 (axle height above the ground-level base_link), separation 0.32.
    assert left.origin.position[2] == pytest.approx(0.06)
    separation = (robot.link_pose('left_wheel_link').position
                  - robot.link_pose('right_wheel_link').position)
    np.testing.assert_allclose(separation, [0, 0.32, 0])
    for fixed in ('caster_joint', 'lidar_joint'):
        assert robot.joint(fixed).type == 'fixed'
    lidar = robot.lidar
    assert (lidar.name, lidar.link, lidar.frame_id) == ('lidar', 'lidar_link', 'lidar_link')
    assert lidar.samples == 720 and lidar.min_angle == pytest.approx(-math.pi)
    assert lidar.max_angle == pytest.approx(math.pi - 2 * math.pi / 720)
    assert lidar.angle_increment == pytest.approx(2 * math.pi / 720)
    assert (lidar.range_min, lidar.range_max, lidar.update_rate) == (0.12, 12.0, 20.0)
    assert lidar.noise_stddev == pytest.approx(0.01) and lidar.topic == '/twin/scan'


def test_xacro_args_change_the_description():
    robot = load_robot_description(default_robot_path(), {
        'prefix': 'r2_', 'lidar_samples': '360', 'lidar_min_angle': '-1.0',
        'lidar_max_angle': '1.0', 'lidar_range_min': '0.2', 'lidar_range_max': '8',
        'lidar_rate': '10', 'lidar_noise_stddev': '0', 'gz_topic_prefix': '/robot2'})
    assert robot.root_link == 'r2_base_link'
    assert all(name.startswith('r2_') for name in robot.links)
    assert all(j.name.startswith('r2_') for j in robot.joints)
    assert robot.wheel_joint_names == ('r2_left_wheel_joint', 'r2_right_wheel_joint')
    lidar = robot.lidar
    assert (lidar.link, lidar.frame_id, lidar.samples) == ('r2_lidar_link', 'r2_lidar_link', 360)
    assert (lidar.min_angle, lidar.max_angle, lidar.range_min, lidar.range_max) == (-1, 1, 0.2, 8)
    assert lidar.update_rate == 10 and lidar.noise_stddev == 0 and lidar.topic == '/robot2/scan'
    assert '/robot2/joint/r2_pan_joint/cmd_pos' in robot.urdf_xml


def test_lidar_off_removes_link_and_sensor():
    robot = load_robot_description(default_robot_path(), {'lidar': 'false'})
    assert robot.lidar is None and 'lidar_link' not in robot.links
    assert 'pan_joint' in robot.movable_joint_names


def test_expand_xacro_errors_name_the_file(tmp_path):
    with pytest.raises(RobotDescriptionError, match='nope.xacro'):
        expand_xacro(tmp_path / 'nope.xacro')
    bad = tmp_path / 'bad.urdf.xacro'
    bad.write_text('<robot xmlns:xacro="http://www.ros.org/wiki/xacro" name="b">'
                   '<link name="${undefined_property}"/></robot>')
    with pytest.raises(RobotDescriptionError, match='bad.urdf.xacro.*undefined_property'):
        load_robot_description(bad)


def test_string_and_file_sources_agree(tmp_path):
    text = expand_xacro(default_robot_path())
    from_string = load_robot_description(text)
    path = tmp_path / 'robot.urdf'
    path.write_text(text)
    from_file = load_robot_description(path)
    for a, b in zip(from_string.joints, from_file.joints, strict=True):
        assert (a.name, a.type, a.parent, a.child, a.axis, a.lower, a.upper) == (
            b.name, b.type, b.parent, b.child, b.axis, b.lower, b.upper)
        np.testing.assert_array_equal(a.origin.position, b.origin.position)
    assert from_string.lidar.samples == from_file.lidar.samples == 720
    assert from_string.source == '<string>' and from_file.source == str(path)
    assert from_file.base_dir == tmp_path.resolve()


def test_turtlebot3_style_ray_sensor_and_diff_drive_plugin():
    robot = load_robot_description(TB3)
    assert robot.name == 'tb3_like' and robot.root_link == 'base_footprint'
    assert robot.movable_joint_names == ('wheel_left_joint', 'wheel_right_joint')
    assert robot.wheel_joint_names == ('wheel_left_joint', 'wheel_right_joint')
    lidar = robot.lidar
    assert (lidar.name, lidar.link, lidar.frame_id) == ('hls_lfcd_lds', 'base_scan', 'base_scan')
    assert (lidar.samples, lidar.min_angle, lidar.max_angle) == (360, 0.0, 6.28)
    assert (lidar.range_min, lidar.range_max, lidar.range_resolution) == (0.12, 3.5, 0.015)
    assert (lidar.update_rate, lidar.noise_stddev, lidar.topic) == (5.0, 0.01, 'scan')
    np.testing.assert_allclose(lidar.pose.position, [-0.032, 0, 0.171])


def test_nav2_style_gpu_lidar_with_pose_and_two_continuous_joints():
    robot = load_robot_description(NAV2)
    assert robot.root_link == 'base_link'
    # No diff-drive plugin: the continuous joints, left = +y.
    assert robot.wheel_joint_names == ('drivewhl_l_joint', 'drivewhl_r_joint')
    lidar = robot.lidar
    assert lidar.samples == 360  # 180 samples x resolution 2
    assert lidar.frame_id == 'lidar_scan_frame' and lidar.topic == 'scan'
    assert lidar.noise_stddev == 0.0 and lidar.update_rate == 10
    np.testing.assert_allclose(lidar.pose.position, [0.05, 0.02, 0.03])
    np.testing.assert_allclose(lidar.pose.orientation, [0, 0, math.sin(0.25), math.cos(0.25)])


@pytest.mark.parametrize('sensor_type, body_tag', [
    ('gpu_lidar', 'lidar'), ('ray', 'ray'), ('gpu_ray', 'ray'), ('lidar', 'lidar')])
def test_all_lidar_sensor_types(sensor_type, body_tag):
    body = (f'<{body_tag}><scan><horizontal><samples>10</samples><min_angle>-0.5</min_angle>'
            f'<max_angle>0.5</max_angle></horizontal></scan><range><min>0.1</min><max>5</max>'
            f'</range></{body_tag}>')
    robot = parse_urdf(minimal_urdf(sensor=lidar_tag(body, sensor_type)))
    assert robot.lidar.samples == 10 and robot.lidar.range_max == 5
    assert robot.lidar.angle_increment == pytest.approx(1 / 9)
    assert robot.lidar.update_rate == 10.0  # SDF default when absent


def test_non_lidar_sensors_are_ignored():
    camera = lidar_tag('<camera><horizontal_fov>1</horizontal_fov></camera>', 'camera')
    assert parse_urdf(minimal_urdf(sensor=camera)).lidar is None


LIDAR_BODY = ('<lidar><scan><horizontal><samples>10</samples></horizontal></scan>'
              '<range><max>5</max></range></lidar>')


@pytest.mark.parametrize('pose', [
    '<pose degrees="true">0.1 0 0.2 0 0 90</pose>',
    '<pose rotation_format="quat_xyzw">0.1 0 0.2 0 0 0.7071067811865476 0.7071067811865476</pose>',
])
def test_sensor_pose_is_read_as_sdf_reads_it(pose):
    robot = parse_urdf(minimal_urdf(sensor=lidar_tag(pose + LIDAR_BODY)))
    np.testing.assert_allclose(robot.lidar.pose.position, [0.1, 0, 0.2])
    np.testing.assert_allclose(robot.lidar.pose.orientation,
                               [0, 0, math.sqrt(0.5), math.sqrt(0.5)], atol=1e-12)


def test_bad_sensor_pose_names_the_sensor_and_the_pose():
    with pytest.raises(RobotDescriptionError, match='<pose>: expected 6 numbers') as info:
        parse_urdf(minimal_urdf(sensor=lidar_tag('<pose>0 0 1</pose>' + LIDAR_BODY)),
                   source='robot.urdf')
    assert 'robot.urdf' in str(info.value) and 'sensor name="s"' in str(info.value)


@pytest.mark.parametrize('body, message', [
    ('<lidar><range><max>5</max></range></lidar>', 'missing <scan><horizontal>'),
    ('<lidar><scan><horizontal><samples>x</samples></horizontal></scan></lidar>', 'not a number'),
    ('<lidar><scan><horizontal><samples>10</samples></horizontal></scan></lidar>',
     r'missing <range><max>'),
    ('<lidar><scan><horizontal><samples>10</samples><min_angle>1</min_angle>'
     '<max_angle>-1</max_angle></horizontal></scan><range><max>5</max></range></lidar>',
     'max_angle'),
    ('<lidar><scan><horizontal><samples>10</samples></horizontal></scan>'
     '<range><min>6</min><max>5</max></range></lidar>', 'range min < max'),
    ('<camera/>', 'neither <lidar> nor <ray>'),
])
def test_bad_lidar_tags_name_the_sensor(body, message):
    with pytest.raises(RobotDescriptionError, match=message) as info:
        parse_urdf(minimal_urdf(sensor=lidar_tag(body)), source='robot.urdf')
    assert 'robot.urdf' in str(info.value) and 'sensor name="s"' in str(info.value)


def test_lidar_on_unknown_link_is_an_error():
    body = ('<lidar><scan><horizontal><samples>10</samples></horizontal></scan>'
            '<range><max>5</max></range></lidar>')
    with pytest.raises(RobotDescriptionError, match='reference is not a link'):
        parse_urdf(minimal_urdf(sensor=lidar_tag(body, reference='ghost')))


def test_diff_drive_plugin_naming_missing_joints_is_an_error():
    plugin = ('<gazebo><plugin name="dd" filename="gz-sim-diff-drive-system">'
              '<left_joint>ja</left_joint><right_joint>nope</right_joint></plugin></gazebo>')
    with pytest.raises(RobotDescriptionError, match='nope'):
        parse_urdf(minimal_urdf(extra=plugin))


def test_wheels_need_exactly_two_continuous_joints():
    assert parse_urdf(minimal_urdf()).wheel_joint_names == ('ja', 'jb')
    assert parse_urdf(minimal_urdf(joint_type='revolute')).wheel_joint_names is None


@pytest.mark.parametrize('text, message', [
    ('<robot name="x"><link name="a">', 'malformed XML'),
    ('<sdf version="1.9"/>', 'expected <robot>'),
    ('<robot name="x"/>', 'no <link>'),
    ('<robot name="x"><link name="a"/><link name="a"/></robot>', 'duplicate link'),
    ('<robot name="x"><link name="a"/><link name="b"/></robot>', 'exactly one root'),
    ('<robot name="x"><link name="a"/><link name="b"/><link name="c"/>'
     '<joint name="j" type="fixed"><parent link="a"/><child link="b"/></joint>'
     '<joint name="j" type="fixed"><parent link="a"/><child link="c"/></joint></robot>',
     'duplicate joint'),
    ('<robot name="x"><link name="a"/><joint name="j" type="fixed"><parent link="a"/>'
     '<child link="zz"/></joint></robot>', 'link "zz" does not exist'),
    ('<robot name="x"><link name="a"/><link name="b"/><joint name="j" type="hinge">'
     '<parent link="a"/><child link="b"/></joint></robot>', "unknown type 'hinge'"),
    ('<robot name="x"><link name="a"/><link name="b"/><joint name="j" type="revolute">'
     '<parent link="a"/><child link="b"/></joint></robot>', 'needs <limit>'),
    ('<robot name="x"><link name="a"/><link name="b"/><joint name="j" type="continuous">'
     '<parent link="a"/><child link="b"/><axis xyz="0 0 0"/></joint></robot>', 'zero <axis>'),
    ('<robot name="x"><link name="a"/><link name="b"/><joint name="j" type="fixed">'
     '<parent link="a"/><child link="b"/><origin xyz="1 2"/></joint></robot>', 'origin xyz'),
    ('<robot name="x"><link name="a"/><link name="b"/><link name="c"/>'
     '<joint name="j1" type="fixed"><parent link="b"/><child link="c"/></joint>'
     '<joint name="j2" type="fixed"><parent link="c"/><child link="b"/></joint></robot>',
     'not connected'),
])
def test_malformed_urdf_errors(text, message):
    with pytest.raises(RobotDescriptionError, match=message) as info:
        parse_urdf(text, source='my_robot.urdf')
    assert str(info.value).startswith('my_robot.urdf: ')


def test_missing_file():
    with pytest.raises(RobotDescriptionError, match='not found'):
        load_robot_description('/nonexistent/robot.urdf')


def test_extra_lidars_are_named_in_warnings_and_3d_layers_are_read(caplog):
    body = ('<lidar><scan><horizontal><samples>10</samples></horizontal>{v}</scan>'
            '<range><max>5</max></range></lidar>')
    layered = body.format(v='<vertical><samples>16</samples></vertical>')
    second = lidar_tag(body.format(v=''), reference='wheel_a').replace('name="s"', 'name="rear"')
    with caplog.at_level('WARNING', logger='twin_bridge.description.robot_description'):
        robot = parse_urdf(minimal_urdf(sensor=lidar_tag(layered) + second))
    assert robot.lidar.name == 's' and robot.lidar.link == 'base'
    messages = ' '.join(r.getMessage() for r in caplog.records)
    assert '"rear" on "wheel_a"' in messages
    assert robot.lidar.vertical_samples == 16  # simulated, every ring (issue 10 item 9)
    assert 'vertical' not in messages


def test_mimic_joints_are_parsed_and_checked():
    mimic = minimal_urdf().replace(
        '<joint name="jb" type="continuous">',
        '<joint name="jb" type="continuous"><mimic joint="ja" multiplier="-2" offset="0.5"/>')
    joint = parse_urdf(mimic).joint('jb')
    assert (joint.mimic_joint, joint.mimic_multiplier, joint.mimic_offset) == ('ja', -2.0, 0.5)
    with pytest.raises(RobotDescriptionError, match='must couple two movable joints'):
        parse_urdf(mimic.replace('mimic joint="ja"', 'mimic joint="nope"'))
    cycle = mimic.replace('<joint name="ja" type="continuous">',
                          '<joint name="ja" type="continuous"><mimic joint="jb"/>')
    with pytest.raises(RobotDescriptionError, match='cycle'):
        parse_urdf(cycle)
    with pytest.raises(RobotDescriptionError, match='<mimic> multiplier and offset must be '
                                                    'finite'):
        parse_urdf(mimic.replace('multiplier="-2"', 'multiplier="nan"'))
