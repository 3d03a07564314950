"""Worlds from the wild (issue 10): what Gazebo Harmonic loads, the embedded twin loads, or
refuses in one sentence naming the file, the element and what to do.

Fixtures in ``test/data/ecosystem/worlds/`` reproduce each cause: gz-sim example headers with
``--`` in comments and undeclared ``gz:`` prefixes, a shapes.sdf-style world with a cone, a
locked joint, a saved ``<state>``; relative ``file://`` meshes are laid out in ``tmp_path``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
import shutil

import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.description.primitive_meshes import CONE_TOLERANCE, cone_mesh
from twin_bridge.description.resources import resolve_uri
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.description.sdf_world import parse_world
from twin_bridge.embedded.compile_errors import describe_compile_error
from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.errors import ResourceNotFoundError, WorldLoadError

DATA = Path(__file__).resolve().parent / 'data' / 'ecosystem'
WORLDS = DATA / 'worlds'
CRATE_DAE = DATA / 'models' / 'eco_crate' / 'meshes' / 'crate.dae'
LIDAR_HEIGHT = 0.3


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def _backend(world, robot, **kwargs) -> EmbeddedBackend:
    """The default robot with its lidar at (0, 0, 0.3), level."""
    backend = EmbeddedBackend(world, robot, lidar_noise=False, **kwargs)
    backend.mirror(OdometrySample(position=np.array([-0.1, 0.0, 0.0]),
                                  orientation=np.array([0.0, 0.0, 0.0, 1.0])))
    np.testing.assert_allclose(backend.lidar_pose()[0], [0.0, 0.0, LIDAR_HEIGHT], atol=1e-9)
    return backend


def _range_at(scan, degrees: float) -> float:
    index = int(round((math.radians(degrees) - scan.angle_min) / scan.angle_increment))
    return float(scan.ranges[index % len(scan.ranges)])


# -- 1. XML that tinyxml2 accepts ---------------------------------------------------------------

def test_gz_example_header_comments_and_undeclared_prefixes_load(robot):
    world = parse_world(WORLDS / 'gz_lenient_xml.sdf')
    assert world.models == ('box',)
    assert _range_at(_backend(WORLDS / 'gz_lenient_xml.sdf', robot).scan(), 0) == \
        pytest.approx(1.5, abs=1e-6)


def test_really_broken_xml_names_file_line_column_and_cause(tmp_path):
    path = tmp_path / 'broken.sdf'
    path.write_text('<?xml version="1.0"?>\n<sdf version="1.9"><world name="w">\n'
                    '  <model name="m"><link name="l"></model>\n</world></sdf>\n',
                    encoding='utf-8')
    with pytest.raises(WorldLoadError) as info:
        parse_world(path)
    message = str(info.value)
    assert str(path) in message and 'line 3, column' in message
    assert 'mismatched tag' in message and 'end tag does not match' in message
    assert '</model>' in message and 'fix the file' in message


# -- 2. relative file:// URIs -------------------------------------------------------------------

def _aws_style_package(root: Path) -> Path:
    """An AWS-RoboMaker-style layout: worlds/ and models/ side by side, meshes referenced as
    ``file://models/<model>/meshes/<mesh>``."""
    meshes = root / 'models' / 'crate' / 'meshes'
    meshes.mkdir(parents=True)
    shutil.copy(CRATE_DAE, meshes / 'crate.dae')
    (root / 'worlds').mkdir()
    world = root / 'worlds' / 'warehouse.sdf'
    world.write_text('''<?xml version="1.0"?>
<sdf version="1.6"><world name="aws">
  <model name="crate"><static>true</static><pose>1.5 0 0 0 0 0</pose>
    <link name="link"><collision name="c"><geometry><mesh>
      <uri>file://models/crate/meshes/crate.dae</uri><scale>0.5 0.5 0.5</scale>
    </mesh></geometry></collision></link></model>
</world></sdf>
''', encoding='utf-8')
    return world


def test_relative_file_uri_found_on_the_resource_path(tmp_path, robot, monkeypatch):
    world = _aws_style_package(tmp_path / 'aws_pkg')
    monkeypatch.setenv('GZ_SIM_RESOURCE_PATH', str(tmp_path / 'aws_pkg'))
    assert _range_at(_backend(world, robot).scan(), 0) == pytest.approx(1.25, abs=2e-3)


def test_relative_file_uri_next_to_the_including_file(tmp_path):
    (tmp_path / 'models' / 'x').mkdir(parents=True)
    (tmp_path / 'models' / 'x' / 'y.dae').write_text('', encoding='utf-8')
    assert resolve_uri('file://models/x/y.dae', base_dir=tmp_path, search_path=[]) == \
        tmp_path / 'models' / 'x' / 'y.dae'


def test_relative_file_uri_not_found_says_where_it_looked(tmp_path, monkeypatch):
    world = _aws_style_package(tmp_path / 'aws_pkg')
    monkeypatch.delenv('GZ_SIM_RESOURCE_PATH', raising=False)
    with pytest.raises(ResourceNotFoundError) as info:
        parse_world(world)
    message = str(info.value)
    assert 'file://models/crate/meshes/crate.dae' in message and str(world) in message
    assert str(world.parent) in message and 'GZ_SIM_RESOURCE_PATH' in message


# -- 5. cones -----------------------------------------------------------------------------------

def test_cone_mesh_is_within_tolerance_of_the_cone():
    mesh = cone_mesh(0.5, 1.0)
    ring = mesh.vertices[:-2]
    np.testing.assert_allclose(np.hypot(ring[:, 0], ring[:, 1]), 0.5)
    step = 2 * math.pi / len(ring)
    assert 0.5 * (1 - math.cos(step / 2)) <= CONE_TOLERANCE
    assert mesh.vertices[-2].tolist() == [0.0, 0.0, 0.5]


def test_shapes_world_with_a_cone_loads_and_the_lidar_sees_the_cone(robot):
    world = parse_world(WORLDS / 'shapes_style.sdf')
    assert world.link('cone::cone_link').collisions[0].geometry.kind == 'cone'
    assert not any('cone' in entry for entry in world.ignored)
    backend = _backend(WORLDS / 'shapes_style.sdf', robot)
    scan = backend.scan()
    # At the lidar's height (0.3 m above the base at z = 0) the cone's radius is 0.35 m.
    radius, centre = 0.5 * (1 - LIDAR_HEIGHT / 1.0), 2.0
    checked = 0
    for index, measured in enumerate(scan.ranges):
        angle = scan.angle_min + index * scan.angle_increment
        offset = centre * math.sin(angle)
        if abs(offset) > radius * 0.999 or math.cos(angle) <= 0:
            continue
        expected = centre * math.cos(angle) - math.sqrt(radius ** 2 - offset ** 2)
        assert measured == pytest.approx(expected, abs=1e-3), math.degrees(angle)
        checked += 1
    assert checked >= 5


def test_a_dynamic_cone_falls_onto_the_ground(robot):
    backend = EmbeddedBackend(WORLDS / 'shapes_style.sdf', robot, lidar_noise=False)
    body = backend.model.body('cone::cone_link')
    assert body.mass[0] == pytest.approx(1000 * math.pi * 0.25 * 1.0 / 3, rel=1e-2)
    backend.step(0.5)
    assert backend.data.xpos[body.id][2] < 0.5


# -- 6. locked joints and compile errors --------------------------------------------------------

def test_locked_joint_is_fixed_at_its_locked_position(robot):
    world = parse_world(WORLDS / 'locked_joint.sdf')
    assert world.joints[0].type == 'fixed'
    np.testing.assert_allclose(world.link('barrier::arm').pose.position, [1.5, 0.0, 0.3],
                               atol=1e-9)
    backend = _backend(WORLDS / 'locked_joint.sdf', robot)
    assert _range_at(backend.scan(), 0) == pytest.approx(1.45, abs=1e-6)


def test_a_compile_error_names_the_file_and_element():
    world = parse_world(WORLDS / 'locked_joint.sdf')
    robot = load_robot_description(default_robot_path())
    message = describe_compile_error(
        "Error: range[0] should be smaller than range[1] in joint\n"
        "Element name 'barrier::hinge', id 0", world=world, robot=robot,
        robot_prefix=ROBOT_PREFIX)
    assert message.startswith(str(WORLDS / 'locked_joint.sdf'))
    assert '<joint name="hinge">' in message and 'range[0]' in message and 'fix' in message
    robot_message = describe_compile_error(
        f"Error: mass too small in body\nElement name '{ROBOT_PREFIX}base_link', id 3",
        world=world, robot=robot, robot_prefix=ROBOT_PREFIX)
    assert robot.source in robot_message and 'body "base_link"' in robot_message


# -- 10. Fuel wording, saved <state> ------------------------------------------------------------

def test_fuel_cache_miss_reads_well(tmp_path, monkeypatch):
    monkeypatch.setenv('GZ_FUEL_CACHE_PATH', str(tmp_path))
    with pytest.raises(ResourceNotFoundError) as info:
        resolve_uri('https://fuel.gazebosim.org/1.0/OpenRobotics/models/Table')
    assert 'no any version' not in str(info.value)
    assert 'has no copy of it' in str(info.value)


def test_saved_state_moves_the_model_as_gazebo_does_on_load(robot, caplog):
    with caplog.at_level(logging.WARNING):
        world = parse_world(WORLDS / 'saved_state.sdf')
    np.testing.assert_allclose(world.link('box::link').pose.position, [2.0, 0.0, 0.5])
    assert any('saved <link> state' in entry for entry in world.ignored)
    assert _range_at(_backend(WORLDS / 'saved_state.sdf', robot).scan(), 0) == \
        pytest.approx(1.5, abs=1e-6)
