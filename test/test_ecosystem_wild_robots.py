"""Robots from the wild (issue 10): several ray sensors (TurtleBot4), an SDF model as the robot
(TurtleBot3's Jazzy Gazebo models), broken visual meshes."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.description.robot_description import load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.errors import RobotDescriptionError

DATA = Path(__file__).resolve().parent / 'data' / 'ecosystem' / 'robots'
TB4 = DATA / 'turtlebot4_style.urdf'
TB3_JAZZY = DATA / 'turtlebot3_jazzy'
TB3_MODEL = TB3_JAZZY / 'turtlebot3_gazebo' / 'models' / 'turtlebot3_burger' / 'model.sdf'
TB3_URDF = TB3_JAZZY / 'turtlebot3_description' / 'urdf' / 'turtlebot3_burger.urdf'
BROKEN_VISUAL = DATA / 'broken_visual' / 'broken_visual.urdf'


def _box_world(tmp_path: Path, x_face: float) -> Path:
    """One static 1 m box whose near face is at ``x = x_face``."""
    path = tmp_path / 'box.sdf'
    path.write_text(f'''<?xml version="1.0"?><sdf version="1.9"><world name="w">
<model name="box"><static>true</static><pose>{x_face + 0.5} 0 0.5 0 0 0</pose><link name="l">
<collision name="c"><geometry><box><size>1 1 1</size></box></geometry></collision></link>
</model></world></sdf>''', encoding='utf-8')
    return path


def _at_origin(backend: EmbeddedBackend) -> None:
    backend.mirror(OdometrySample(position=np.zeros(3), orientation=np.array([0, 0, 0, 1.0])))


# -- 3. several ray sensors ---------------------------------------------------------------------

def test_turtlebot4_lidar_wins_over_cliff_and_ir_sensors(caplog):
    with caplog.at_level(logging.INFO, logger='twin_bridge.description.robot_description'):
        robot = load_robot_description(TB4)
    assert robot.lidar.name == 'rplidar' and robot.lidar.samples == 640
    chosen = [r.getMessage() for r in caplog.records if 'rplidar' in r.getMessage()]
    assert chosen and 'cliff_front_left' in chosen[0] and 'lidar_sensor' in chosen[0]
    # One-beam range sensors are left out without a warning (they are not lidars).
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_turtlebot4_scans_with_its_lidar(tmp_path):
    backend = EmbeddedBackend(_box_world(tmp_path, 2.0), load_robot_description(TB4),
                              lidar_noise=False)
    _at_origin(backend)
    scan = backend.scan()
    assert len(scan.ranges) == 640
    x, _, _ = backend.lidar_pose()[0]
    # The RPLIDAR is yawed 90 deg on its link: find the beam along the base's +x.
    assert np.nanmin(scan.ranges) == pytest.approx(2.0 - x, abs=1e-3)


def test_lidar_sensor_names_the_sensor_to_simulate():
    robot = load_robot_description(TB4, lidar_sensor='ir_intensity_front_left')
    assert robot.lidar.name == 'ir_intensity_front_left' and robot.lidar.samples == 1


def test_unknown_lidar_sensor_lists_the_robots_lidars():
    with pytest.raises(RobotDescriptionError) as info:
        load_robot_description(TB4, lidar_sensor='front_laser')
    message = str(info.value)
    assert str(TB4) in message and '"front_laser"' in message and '"rplidar"' in message


# -- 4. an SDF model as the robot ---------------------------------------------------------------

def test_turtlebot3_jazzy_urdf_has_no_lidar_the_model_sdf_has():
    assert load_robot_description(TB3_URDF).lidar is None
    robot = load_robot_description(TB3_MODEL)
    assert robot.sdf_path == TB3_MODEL.resolve() and robot.source == str(TB3_MODEL)
    assert robot.root_link == 'base_footprint'
    assert robot.lidar.name == 'hls_lfcd_lds' and robot.lidar.link == 'base_scan'
    assert (robot.lidar.samples, robot.lidar.range_min, robot.lidar.range_max) == (360, 0.12, 3.5)
    assert robot.wheel_joint_names == ('wheel_left_joint', 'wheel_right_joint')
    assert robot.joint('wheel_left_joint').type == 'continuous'
    np.testing.assert_allclose(robot.link_pose('base_scan').position, [-0.032, 0, 0.182],
                               atol=1e-9)
    # The wheel axle points along the base's y axis (the link is rolled -90 deg).
    pose = robot.link_pose('wheel_left_link')
    axis = pose.matrix()[:3, :3] @ np.asarray(robot.joint('wheel_left_joint').axis)
    np.testing.assert_allclose(np.abs(axis), [0, 1, 0], atol=1e-3)


def test_turtlebot3_model_sdf_scans_exactly(tmp_path):
    backend = EmbeddedBackend(_box_world(tmp_path, 1.0), load_robot_description(TB3_MODEL),
                              lidar_noise=False)
    _at_origin(backend)
    position, _ = backend.lidar_pose()
    np.testing.assert_allclose(position, [-0.096, 0, 0.303], atol=1e-9)
    assert backend.scan().ranges[0] == pytest.approx(1.096, abs=1e-5)


def test_a_world_file_is_not_a_robot():
    world = Path(__file__).resolve().parent / 'data' / 'ecosystem' / 'worlds' / \
        'locked_joint.sdf'
    with pytest.raises(RobotDescriptionError, match='model.sdf'):
        load_robot_description(world)


# -- 7. broken visual meshes --------------------------------------------------------------------

def test_broken_visual_meshes_do_not_stop_the_twin(caplog):
    with caplog.at_level(logging.WARNING):
        backend = EmbeddedBackend('empty', load_robot_description(BROKEN_VISUAL),
                                  lidar_noise=False)
    assert backend.model.nmesh == 1  # body.dae loads without its broken material
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert 'sticker.stl' in warnings[0] and 'mesh has no triangles' in warnings[0]
    assert 'visual' in warnings[0]


# -- 3 and 4 on the Gazebo path and in the launch files -----------------------------------------

def test_gazebo_plan_spawns_an_sdf_robot_from_its_file(tmp_path):
    from twin_bridge.gazebo.launch_support import plan_gazebo_twin

    plan = plan_gazebo_twin(world='empty', robot_description_file=str(TB3_MODEL),
                            headless='true', bridge_directory=tmp_path)
    args = plan.create_arguments
    assert args[args.index('-file') + 1] == str(TB3_MODEL.resolve())
    assert '-topic' not in args
    assert str(TB3_MODEL.resolve().parents[1]) in plan.gz_resource_paths  # its model:// URIs
    bridged = plan.bridge.config_file.read_text(encoding='utf-8')
    assert 'LaserScan' in bridged and 'wheel_left_joint' in bridged
    assert plan.twin_parameters['robot_description_file'] == str(TB3_MODEL)


def test_gazebo_plan_and_node_get_the_named_lidar(tmp_path):
    from twin_bridge.gazebo.launch_support import plan_gazebo_twin

    plan = plan_gazebo_twin(world='empty', robot_description_file=str(TB4), headless='true',
                            bridge_directory=tmp_path, lidar_sensor='rplidar')
    assert plan.twin_parameters['lidar_sensor'] == 'rplidar'


def test_robot_state_publisher_gets_urdf_for_an_sdf_robot():
    import xml.etree.ElementTree as ET

    from twin_bridge.gazebo.robot_source import robot_description_xml

    root = ET.fromstring(robot_description_xml(str(TB3_MODEL)))
    assert root.tag == 'robot' and root.find("link[@name='base_scan']") is not None
    assert ET.fromstring(robot_description_xml(str(TB3_URDF))).get('name') == \
        'turtlebot3_burger'


@pytest.mark.parametrize('name', ['gazebo_twin.launch.py', 'embedded_twin.launch.py'])
def test_both_launch_files_take_lidar_sensor(name):
    text = (Path(__file__).resolve().parents[1] / 'launch' / name).read_text(encoding='utf-8')
    assert "'lidar_sensor', default_value=''" in text
    assert "lidar_sensor=arg('lidar_sensor')" in text
