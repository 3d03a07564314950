"""Worlds a Gazebo user brings, loaded by the embedded backend: what compiles, what a scan sees.

The data in ``test/data/ecosystem/`` is written in the style of gz-sim examples and Fuel
models (plugins, GUI, lights, actors, populations, model.config with several SDF versions,
``relative_to`` chains, COLLADA meshes in inches with node transforms, SDF 1.6 and 1.11).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
import shutil

import mujoco
import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.description.sdf_world import parse_world
from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.errors import ResourceNotFoundError, TwinBridgeError

DATA = Path(__file__).resolve().parent / 'data' / 'ecosystem'
MODELS = DATA / 'models'
GZ_EXAMPLES = DATA / 'worlds' / 'gz_examples_style.sdf'
SDF_111 = DATA / 'worlds' / 'sdf111_features.sdf'
CRATE_DAE = MODELS / 'eco_crate' / 'meshes' / 'crate.dae'
# Put the default robot's base here and its lidar sits at (0, 0, 0.3), level.
BASE_POSITION = np.array([-0.1, 0.0, 0.0])
LIDAR_HEIGHT = 0.3


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def _place_base(backend, position) -> None:
    """Put the robot's root at ``position``, unrotated (a checked, root-frame pose)."""
    backend.mirror(OdometrySample(position=np.asarray(position, float),
                                  orientation=np.array([0.0, 0.0, 0.0, 1.0])))


def _backend(world, robot, **kwargs) -> EmbeddedBackend:
    backend = EmbeddedBackend(world, robot, lidar_noise=False, **kwargs)
    _place_base(backend, BASE_POSITION)
    position, _ = backend.lidar_pose()
    np.testing.assert_allclose(position, [0.0, 0.0, LIDAR_HEIGHT], atol=1e-9)
    return backend


def _range_at(scan, degrees: float) -> float:
    """Range of the beam pointing ``degrees`` from the lidar's +x (CCW)."""
    angle = math.radians(degrees)
    index = int(round((angle - scan.angle_min) / scan.angle_increment)) % len(scan.ranges)
    return float(scan.ranges[index])


# -- a gz-sim-examples-style world ------------------------------------------------------------

@pytest.fixture(scope='module')
def examples_backend(robot):
    return _backend(GZ_EXAMPLES, robot, search_path=[MODELS])


def test_examples_world_scan_sees_every_modelled_obstacle(examples_backend):
    scan = examples_backend.scan()
    # +x: shelf from model-1_6.sdf (model.config's newest), front face at x = 2.8
    #     (model-1_5.sdf would put it at x = 2.5).
    assert _range_at(scan, 0) == pytest.approx(2.8, abs=2e-3)
    # +y: COLLADA crate in inches, lifted by its node <translate>, <scale> 0.5, placed
    #     relative_to the world frame "dock" and yawed 45 degrees (degrees="true"):
    #     its vertical edge faces the lidar at y = 3 - 0.25 * sqrt(2).
    assert _range_at(scan, 90) == pytest.approx(3.0 - 0.25 * math.sqrt(2), abs=2e-3)
    # -y: nested forearm placed through a relative_to chain, model yawed 180 degrees.
    assert _range_at(scan, -90) == pytest.approx(2.4, abs=2e-3)
    # -x: the fence board; the actor standing at x = -2 is not simulated.
    assert _range_at(scan, 180) == pytest.approx(3.9, abs=2e-3)
    # Diagonal: nothing there (the population's cans are not simulated either).
    assert math.isinf(_range_at(scan, 45))


def test_examples_world_structure(examples_backend):
    world = examples_backend.world_description
    assert world.name == 'eco_examples'
    assert world.max_step_size == pytest.approx(0.001)
    names = {link.name for link in world.links}
    assert {'ground_plane::link', 'shelf_a::frame', 'crate::body', 'arm_south::pedestal',
            'arm_south::forearm::link', 'fence::posts'} <= names
    # <include><static>true</static> overrides the model file's <static>0</static>.
    shelf = world.link('shelf_a::frame')
    assert shelf.static
    assert shelf.collisions[0].geometry.size == pytest.approx((0.4, 2.0, 1.0))
    crate = world.link('crate::body').collisions[0].geometry
    assert crate.kind == 'mesh' and crate.mesh_path.resolve() == CRATE_DAE.resolve()
    assert crate.scale == (0.5, 0.5, 0.5)
    shoulder = next(j for j in world.joints if j.name == 'arm_south::shoulder')
    assert (shoulder.type, shoulder.parent, shoulder.child) == (
        'revolute', 'arm_south::pedestal', 'arm_south::forearm::link')
    assert (shoulder.lower, shoulder.upper) == (-1.5, 1.5)
    # Axis z of the joint frame: the model is yawed, not tilted, so it stays world z.
    np.testing.assert_allclose(shoulder.axis, [0.0, 0.0, 1.0], atol=1e-9)
    # The joint sits at the "mount" frame: pedestal (z 0.05) + 0.05, under the yawed model.
    np.testing.assert_allclose(shoulder.pose.position, [0.0, -2.0, 0.1], atol=1e-9)


def test_examples_world_compiles_jointed_models_as_bodies(examples_backend):
    model = examples_backend.model
    forearm = model.body('arm_south::forearm::link')
    assert forearm.parentid[0] == model.body('arm_south::pedestal').id
    hinge = model.joint('arm_south::shoulder')
    assert hinge.type[0] == mujoco.mjtJoint.mjJNT_HINGE
    np.testing.assert_allclose(model.jnt_range[hinge.id], [-1.5, 1.5])
    assert model.dof_damping[hinge.dofadr[0]] == pytest.approx(0.5)
    # The crate mesh was compiled as a mesh geom in the world group.
    crate = model.geom('crate::body::collision')
    assert crate.type[0] == mujoco.mjtGeom.mjGEOM_MESH
    assert model.geom_group[crate.id] == 0
    # The robot is there too, under its prefix.
    assert model.body(ROBOT_PREFIX + 'base_link').id > 0


def test_examples_world_lists_what_it_ignores_in_one_warning(robot, caplog):
    with caplog.at_level(logging.WARNING, logger='twin_bridge.description.sdf_world'):
        world = parse_world(GZ_EXAMPLES, search_path=[MODELS])
    warnings = [r for r in caplog.records if r.name == 'twin_bridge.description.sdf_world']
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    for what in ('<actor name="walker">', '<population name="cans">', '<polyline>',
                 '<heightmap>'):
        assert what in text, what
        assert any(what in item for item in world.ignored), what
    # Things that do not change what the twin senses are not noise in that warning.
    for quiet in ('<light', '<gui', '<plugin', 'spherical_coordinates', '<scene'):
        assert quiet not in text, quiet
    assert len(world.ignored) == 4


def test_model_found_through_gz_sim_resource_path(robot, monkeypatch):
    monkeypatch.setenv('GZ_SIM_RESOURCE_PATH', str(MODELS))
    world = parse_world(GZ_EXAMPLES)
    assert world.link('crate::body').collisions[0].geometry.mesh_path.is_file()


# -- SDF 1.11 --------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def backend_111(robot):
    return _backend(SDF_111, robot)


def test_sdf_1_11_world_poses_and_scan(backend_111):
    world = backend_111.world_description
    assert world.version == '1.11'
    np.testing.assert_allclose(world.link('tote::bin').pose.position, [0.0, 2.15, 0.3],
                               atol=1e-9)  # placement_frame
    np.testing.assert_allclose(world.link('lid::link').pose.position, [0.0, 2.15, 0.6],
                               atol=1e-9)  # model pose relative_to another model
    assert world.link('tote::bin').inertial.auto
    assert backend_111.model.opt.timestep == pytest.approx(0.004)
    scan = backend_111.scan()
    assert _range_at(scan, 0) == pytest.approx(1.9, abs=2e-3)  # quaternion pose, yawed
    assert _range_at(scan, 90) == pytest.approx(2.0, abs=2e-3)
    # The cone (base at z = 0, radius 0.3, length 1) is 0.21 m wide at the lidar's height.
    assert _range_at(scan, 180) == pytest.approx(3.0 - 0.21, abs=1e-3)
    assert not any('<cone>' in item for item in world.ignored)


def test_world_level_joint_is_simulated_or_listed_as_ignored():
    """SDF 1.8+ allows <joint> directly in <world> (e.g. a fixed joint attaching two models).

    Dropping it without a word breaks the "nothing dropped silently" rule: the lid is
    non-static, so without the joint it falls off the tote as soon as the twin steps.
    """
    world = parse_world(SDF_111)
    simulated = any(j.child == 'lid::link' for j in world.joints)
    listed = any('lid_hinge' in item for item in world.ignored)
    assert simulated or listed, (world.joints, world.ignored)


# -- URIs a Gazebo user writes ---------------------------------------------------------------

def _world_with(tmp_path: Path, body: str, version: str = '1.9') -> Path:
    path = tmp_path / 'user_world.sdf'
    path.write_text(f'<?xml version="1.0"?>\n<sdf version="{version}">\n'
                    f'  <world name="user">\n{body}\n  </world>\n</sdf>\n', encoding='utf-8')
    return path


FUEL_CONE = 'https://fuel.gazebosim.org/1.0/OpenRobotics/models/Construction Cone'


def test_fuel_include_fails_clearly(tmp_path):
    world = _world_with(tmp_path, f'    <include><uri>{FUEL_CONE}</uri><pose>1 0 0 0 0 0</pose>'
                                  '</include>')
    with pytest.raises(ResourceNotFoundError) as info:
        parse_world(world)
    message = str(info.value)
    assert FUEL_CONE in message
    assert str(world) in message and '<include>' in message
    assert 'Fuel' in message or 'download' in message


def test_fuel_mesh_uri_fails_clearly(tmp_path):
    uri = FUEL_CONE + '/1/files/meshes/construction_cone.dae'
    world = _world_with(tmp_path, f'''
    <model name="cone"><static>true</static><link name="link"><collision name="c">
      <geometry><mesh><uri>{uri}</uri></mesh></geometry>
    </collision></link></model>''')
    with pytest.raises(ResourceNotFoundError) as info:
        parse_world(world)
    assert uri in str(info.value) and '<collision name="c">' in str(info.value)


@pytest.mark.parametrize('style', ['absolute', 'percent-encoded space', 'raw space'])
def test_file_uri_mesh(tmp_path, robot, style):
    folder = tmp_path / ('my meshes' if 'space' in style else 'meshes')
    folder.mkdir()
    shutil.copy(CRATE_DAE, folder / 'crate.dae')
    path = str(folder / 'crate.dae')
    uri = 'file://' + (path.replace(' ', '%20') if style == 'percent-encoded space' else path)
    world = _world_with(tmp_path, f'''
    <model name="box"><static>true</static><pose>1.5 0 0 0 0 0</pose>
      <link name="link"><collision name="c">
        <geometry><mesh><uri>{uri}</uri><scale>0.5 0.5 0.5</scale></mesh></geometry>
      </collision></link></model>''')
    backend = _backend(world, robot)
    assert _range_at(backend.scan(), 0) == pytest.approx(1.25, abs=2e-3)


def test_include_by_relative_directory_path(tmp_path, robot):
    """<include><uri> may be a directory path relative to the world file (no model://)."""
    shutil.copytree(MODELS / 'eco_crate', tmp_path / 'models' / 'eco_crate')
    (tmp_path / 'worlds').mkdir()
    world = tmp_path / 'worlds' / 'relative.sdf'
    world.write_text('''<?xml version="1.0"?>
<sdf version="1.9"><world name="relative">
  <include><uri>../models/eco_crate</uri><pose>0 -1.5 0 0 0 0</pose></include>
</world></sdf>
''', encoding='utf-8')
    # model://eco_crate inside the model resolves through GZ_SIM_RESOURCE_PATH as in Gazebo.
    backend = _backend(world, robot, search_path=[tmp_path / 'models'])
    assert _range_at(backend.scan(), -90) == pytest.approx(1.25, abs=2e-3)


def test_missing_model_error_names_uri_and_include(tmp_path):
    world = _world_with(tmp_path, '    <include><uri>model://no_such_model</uri></include>')
    with pytest.raises(TwinBridgeError) as info:
        parse_world(world, search_path=[MODELS])
    message = str(info.value)
    assert 'model://no_such_model' in message and str(world) in message
    assert 'GZ_SIM_RESOURCE_PATH' in message


def test_mesh_uri_relative_to_the_model_file(tmp_path, robot):
    """Model files often name meshes relative to themselves (``meshes/x.dae``)."""
    model = tmp_path / 'models' / 'crate_rel'
    shutil.copytree(MODELS / 'eco_crate', model)
    sdf = model / 'model.sdf'
    sdf.write_text(sdf.read_text(encoding='utf-8').replace('model://eco_crate/meshes/crate.dae',
                                                           'meshes/crate.dae'), encoding='utf-8')
    world = _world_with(tmp_path, '    <include><uri>model://crate_rel</uri>'
                                  '<pose>1.5 0 0 0 0 0</pose></include>')
    backend = _backend(world, robot, search_path=[tmp_path / 'models'])
    assert _range_at(backend.scan(), 0) == pytest.approx(1.25, abs=2e-3)


@pytest.mark.parametrize('suffix', ['.glb', '.gltf'])
def test_gltf_meshes_that_gazebo_harmonic_reads(tmp_path, robot, suffix):
    """Gazebo Harmonic loads glTF/GLB meshes (gz-common's assimp loader) and newer Fuel models
    use them; a world that runs in Gazebo should not fail to load in the twin."""
    import trimesh

    trimesh.creation.box(extents=(0.5, 0.5, 0.5)).export(tmp_path / f'box{suffix}')
    world = _world_with(tmp_path, f'''
    <model name="box"><static>true</static><pose>1.5 0 0.25 0 0 0</pose>
      <link name="link"><collision name="c">
        <geometry><mesh><uri>box{suffix}</uri></mesh></geometry>
      </collision></link></model>''')
    backend = _backend(world, robot)
    assert _range_at(backend.scan(), 0) == pytest.approx(1.25, abs=2e-3)
