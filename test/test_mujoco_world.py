"""Tests for mujoco_world: SDF world -> MuJoCo spec, and ray casts against it."""

from pathlib import Path

import mujoco
import numpy as np
import pytest

from twin_bridge.embedded.mujoco_world import (
    CONTACT_GEOM_GROUP,
    WORLD_GEOM_GROUP,
    load_world_spec,
)
from twin_bridge.errors import WorldLoadError

DATA = Path(__file__).resolve().parent / 'data' / 'worlds'
MODELS = [DATA / 'models']


def _compiled(name: str):
    spec, world = load_world_spec(DATA / name, search_path=MODELS)
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    return model, data, world


def test_static_geoms_on_world_body_and_dynamic_bodies_free():
    model, _, world = _compiled('basic.sdf')
    assert model.nbody == 1 + sum(not link.static for link in world.links)
    for link in world.links:
        for collision in link.collisions:
            gid = model.geom(collision.name).id
            body = model.geom_bodyid[gid]
            if link.static:
                assert body == 0
            else:
                assert model.body(body).name == link.name
                jnt = model.body_jntadr[body]
                assert model.body_jntnum[body] == 1
                assert model.jnt_type[jnt] == mujoco.mjtJoint.mjJNT_FREE
    assert set(model.geom_group) == {WORLD_GEOM_GROUP}
    # Include override: crate_b is static, crate_a keeps the model's dynamic default.
    assert world.link('crate_b::link').static and not world.link('crate_a::link').static
    assert model.body('crate_a::link').mass[0] == pytest.approx(5.0)


def test_physics_options_read():
    model, _, world = _compiled('basic.sdf')
    assert world.max_step_size == pytest.approx(0.004)
    assert model.opt.timestep == pytest.approx(0.004)
    np.testing.assert_allclose(model.opt.gravity, [0, 0, -9.81])


def test_ray_hits_wall_and_rotated_pillar_at_analytic_distance():
    model, data, _ = _compiled('basic.sdf')
    geomid = np.array([-1], dtype=np.int32)
    origin = np.array([0.0, 0.0, 0.5])
    # Wall: box 0.2 thick centred at x=3 -> near face at x=2.9.
    dist = mujoco.mj_ray(model, data, origin, np.array([1.0, 0, 0]), None, 1, -1, geomid)
    assert abs(dist - 2.9) < 1e-3
    assert model.geom(geomid[0]).name == 'wall::link::collision'
    # Pillar: model yawed 90 deg, collision offset 1 m along link x -> centre (0, -1), r 0.25.
    dist = mujoco.mj_ray(model, data, origin, np.array([0, -1.0, 0]), None, 1, -1, geomid)
    assert abs(dist - 0.75) < 1e-3
    assert model.geom(geomid[0]).name == 'pillar::link::collision'


def _ray(model, data, origin, direction, group=WORLD_GEOM_GROUP):
    geomid = np.array([-1], dtype=np.int32)
    groups = np.zeros(6, dtype=np.uint8)
    groups[group] = 1
    direction = np.asarray(direction, dtype=float)
    dist = mujoco.mj_ray(model, data, np.asarray(origin, dtype=float),
                         direction / np.linalg.norm(direction), groups, 1, -1, geomid)
    return dist, (model.geom(geomid[0]).name if geomid[0] >= 0 else None)


def test_mesh_geoms_ray_cast_at_analytic_distances():
    model, data, world = _compiled('meshes.sdf')
    # One asset per (file, scale): the STL cube is used at two scales.
    assert model.nmesh == 5 == len({(str(c.geometry.mesh_path), c.geometry.scale)
                                    for link in world.links for c in link.collisions})
    cases = [  # origin, direction, distance, geom
        ([0, 0, 0.5], [1, 0, 0], 2.0, 'stl_cube::link::collision'),     # x scale 2 at x=3
        ([0, 0, 0.5], [0, 1, 0], 3.75, 'obj_cube::link::collision'),    # y scale 0.5 at y=4
        ([0, 0, 0.5], [-1, 0, 0], 4.5, 'dae_cube::link::collision'),    # cm COLLADA at x=-5
        ([0.2, -3.1, 2.0], [0, 0, -1], 1.5, 'floor_tile::link::collision'),  # flat mesh z=0.5
        ([-2, 0, 0.25], [0, -1, 0], 1.75, 'loose_cube::link::collision'),  # dynamic, 0.5 m cube
    ]
    for origin, direction, expected, name in cases:
        dist, geom = _ray(model, data, origin, direction)
        assert geom == name
        assert abs(dist - expected) < 1e-3, (name, dist)


def test_mesh_world_after_dynamics_step_keeps_free_body_mesh():
    model, data, _ = _compiled('meshes.sdf')
    assert model.body('loose_cube::link').mass[0] == pytest.approx(1.0)
    mujoco.mj_step(model, data)
    assert np.all(np.isfinite(data.qpos))


def test_sdf16_and_sdf111_fixture_worlds_compile():
    model, data, _ = _compiled('sdf16_classic.sdf')
    # Jointed classic model: the chassis is free, the wheel hangs on a hinge from it.
    assert list(model.jnt_type) == [mujoco.mjtJoint.mjJNT_FREE, mujoco.mjtJoint.mjJNT_HINGE]
    wheel = model.body('cart::wheel')
    assert model.body_parentid[wheel.id] == model.body('cart::chassis').id
    np.testing.assert_allclose(wheel.pos, [0.3, 0, -0.1], atol=1e-12)
    np.testing.assert_allclose(data.xaxis[model.joint('cart::axle').id], [0, -1, 0], atol=1e-5)
    assert model.opt.timestep == pytest.approx(0.002)
    model, data, world = _compiled('sdf111_frames.sdf')
    gid = model.geom('rack::sub::base::box').id
    np.testing.assert_allclose(data.geom_xpos[gid], [9.5, 1.5, 1.5], atol=1e-9)
    assert model.geom_type[gid] == mujoco.mjtGeom.mjGEOM_ELLIPSOID
    np.testing.assert_allclose(model.geom_size[gid], [0.1, 0.2, 0.3])
    capsule = model.geom('follower::link::capsule').id
    np.testing.assert_allclose(model.geom_size[capsule][:2], [0.1, 0.2])
    # <inertial auto="true">: mass from the collision density (500 kg/m^3 * 0.1 m^3).
    assert model.body('rock::link').mass[0] == pytest.approx(50.0)


def _tmp_world(tmp_path, body):
    path = tmp_path / 'w.sdf'
    path.write_text(f'<sdf version="1.9"><world name="w">{body}</world></sdf>')
    spec, world = load_world_spec(path)
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    return model, data, world


def test_full_inertia_tensor_and_inertial_pose_survive(tmp_path):
    inertia = np.array([[0.3, 0.05, -0.02], [0.05, 0.2, 0.01], [-0.02, 0.01, 0.25]])
    model, data, _ = _tmp_world(tmp_path, '''
        <model name="m"><pose>1 2 3 0 0 0.7</pose><link name="l">
          <gravity>false</gravity>
          <inertial><pose>0.1 0 0 0.2 0 0</pose><mass>3</mass>
            <inertia><ixx>0.3</ixx><iyy>0.2</iyy><izz>0.25</izz>
              <ixy>0.05</ixy><ixz>-0.02</ixz><iyz>0.01</iyz></inertia>
          </inertial>
        </link></model>''')
    body = model.body('m::l')
    assert body.mass[0] == pytest.approx(3.0)
    np.testing.assert_allclose(body.ipos, [0.1, 0, 0], atol=1e-12)
    assert model.body_gravcomp[body.id] == pytest.approx(1.0)
    # Rebuild the tensor in the link frame: R_inertial_pose diag(I) R^T from iquat.
    rot = np.zeros(9)
    mujoco.mju_quat2Mat(rot, body.iquat)
    rot = rot.reshape(3, 3)
    rebuilt = rot @ np.diag(body.inertia) @ rot.T
    pose_rot = np.zeros(9)
    mujoco.mju_quat2Mat(pose_rot, np.array([np.cos(0.1), np.sin(0.1), 0, 0]))
    pose_rot = pose_rot.reshape(3, 3)
    np.testing.assert_allclose(rebuilt, pose_rot @ inertia @ pose_rot.T, atol=1e-9)


def test_tilted_plane_normal(tmp_path):
    model, data, _ = _tmp_world(tmp_path, '''
        <model name="p"><static>true</static><pose>5 0 0 0 0 0</pose><link name="l">
          <collision name="c"><geometry><plane><normal>-1 0 0</normal><size>2 2</size></plane>
          </geometry></collision></link></model>''')
    dist, geom = _ray(model, data, [0, 0, 1], [1, 0, 0])
    assert geom == 'p::l::c' and abs(dist - 5.0) < 1e-9
    dist, geom = _ray(model, data, [0, 0, 1], [-1, 0, 0])
    assert geom is None  # a plane is one-sided for rays from behind


SHIPPED = ('empty', 'warehouse', 'obstacle_course')


@pytest.mark.parametrize('name', SHIPPED)
def test_shipped_world_compiles_and_keeps_spawn_area_clear(name):
    spec, world = load_world_spec(name)
    assert world.name == name and world.ignored == ()
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    # World geoms, and the convex parts of concave meshes (the traffic cone's), for contacts.
    assert set(model.geom_group) <= {WORLD_GEOM_GROUP, CONTACT_GEOM_GROUP}
    n = 360
    angles = np.linspace(-np.pi, np.pi, n, endpoint=False)
    vec = np.stack([np.cos(angles), np.sin(angles), np.zeros(n)], axis=1).ravel()
    groups = np.array([1, 0, 0, 0, 0, 0], dtype=np.uint8)
    for height in (0.02, 0.19, 0.5, 1.0, 2.0):
        geomid = np.zeros(n, dtype=np.int32)
        dist = np.zeros(n)
        mujoco.mj_multiRay(model, data, np.array([0, 0, height]), vec, groups, 1, -1, geomid,
                           dist, None, n, 100.0)
        hit = geomid >= 0
        assert np.all(dist[hit] >= 1.5), (name, height, dist[hit].min())
        if name != 'empty' and height < 0.5:
            assert hit.sum() > n // 2
    for link in world.links:
        if not link.static:
            assert np.linalg.norm(link.pose.position[:2]) > 1.5


def test_warehouse_rays_match_wall_geometry_at_several_poses():
    spec, _ = load_world_spec('warehouse')
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    half = 0.075  # half wall thickness
    cases = [  # origin (x, y), direction, analytic distance to the wall's near face
        ((0, 0), (0, 1), 5 - half),                 # north wall
        ((0, 0), (1, 0), 2.5 - half),               # partition
        ((0, 0), (-1, 0), 6 - half),                # west wall
        ((1.0, 0), (0, -1), 5 - half),              # south wall
        ((1.0, -1.0), (0, 1), 6 - half),
        ((-5.5, 1.0), (1, 0), 2.5 - half + 5.5),    # across the hall at y=1
        ((4.0, 0.5), (-1, 0), 4.0 - 2.5 - half),    # partition from the store room side
        ((0.5, 0.5), (1, 1), np.hypot(2.5 - half - 0.5, 2.5 - half - 0.5)),  # diagonal
    ]
    for (x, y), direction, expected in cases:
        dist, geom = _ray(model, data, [x, y, 0.19], [*direction, 0])
        assert geom is not None and geom.startswith(('outer_walls::', 'partition_')), geom
        assert abs(dist - expected) < 1e-3, ((x, y), direction, dist, expected)
    # Through the partition's doorway (y in [-2.45, -1.55]) the ray reaches the east wall.
    dist, geom = _ray(model, data, [0, -2.0, 0.19], [1, 0, 0])
    assert geom.startswith(('wall_east_', 'shelf_store_'))
    assert dist > 4.5


def test_unreadable_mesh_error_names_collision_and_file(tmp_path):
    broken = DATA.parent / 'meshes' / 'broken.stl'
    path = tmp_path / 'w.sdf'
    path.write_text(f'<sdf version="1.9"><world name="w"><model name="m"><static>true</static>'
                    f'<link name="l"><collision name="c"><geometry><mesh><uri>file://{broken}'
                    '</uri></mesh></geometry></collision></link></model></world></sdf>')
    with pytest.raises(WorldLoadError) as info:
        load_world_spec(path)
    message = str(info.value)
    assert str(path) in message and '<collision name="c">' in message
    assert 'broken.stl' in message


def test_saved_state_of_a_missing_model_is_listed_as_ignored(tmp_path):
    _, _, world = _tmp_world(tmp_path, '<state world_name="w"><model name="x">'
                                       '<pose>1 0 0 0 0 0</pose></model></state>')
    assert len(world.ignored) == 1 and '<state' in world.ignored[0]


def test_hinged_door_swings_about_its_hinge_within_limits(tmp_path):
    model, data, world = _tmp_world(tmp_path, '''
        <model name="door">
          <pose>2 0 0 0 0 0</pose>
          <link name="leaf">
            <pose>0 0.5 1 0 0 0</pose>
            <inertial><mass>10</mass><inertia><ixx>1</ixx><iyy>1</iyy><izz>1</izz></inertia>
            </inertial>
            <collision name="c"><geometry><box><size>0.04 1 2</size></box></geometry></collision>
          </link>
          <joint name="hinge" type="revolute">
            <pose relative_to="leaf">0 -0.5 0 0 0 0</pose>
            <parent>world</parent><child>leaf</child>
            <axis><xyz>0 0 1</xyz><limit><lower>0</lower><upper>1.5</upper></limit></axis>
          </joint>
        </model>''')
    assert model.njnt == 1 and model.jnt_type[0] == mujoco.mjtJoint.mjJNT_HINGE
    assert model.jnt_limited[0] and list(model.jnt_range[0]) == [0, 1.5]
    np.testing.assert_allclose(data.xanchor[0], [2, 0, 1], atol=1e-12)
    np.testing.assert_allclose(data.xaxis[0], [0, 0, 1], atol=1e-12)
    # Swinging it 90 deg moves the leaf centre around the hinge line.
    data.qpos[0] = np.pi / 2
    mujoco.mj_kinematics(model, data)
    np.testing.assert_allclose(data.xpos[model.body('door::leaf').id], [1.5, 0, 1], atol=1e-9)
    dist, geom = _ray(model, data, [0, 0, 1], [1, 0, 0])
    assert geom == 'door::leaf::c' and abs(dist - 1.0) < 1e-3  # leaf now spans x in [1, 2]


def test_fixed_ball_and_slide_joints_build_a_body_tree(tmp_path):
    inertial = ('<inertial><mass>1</mass><inertia><ixx>0.1</ixx><iyy>0.1</iyy><izz>0.1</izz>'
                '</inertia></inertial>')
    model, data, _ = _tmp_world(tmp_path, f'''
        <model name="m">
          <link name="a"><pose>0 0 1 0 0 0</pose>{inertial}</link>
          <link name="b"><pose>1 0 1 0 0 0</pose>{inertial}</link>
          <link name="c"><pose>2 0 1 0 0 0</pose>{inertial}</link>
          <link name="d"><pose>3 0 1 0 0 0</pose>{inertial}</link>
          <joint name="weld" type="fixed"><parent>a</parent><child>b</child></joint>
          <joint name="ball" type="ball"><parent>b</parent><child>c</child></joint>
          <joint name="slide" type="prismatic"><parent>c</parent><child>d</child>
            <axis><xyz>1 0 0</xyz><limit><lower>-0.1</lower><upper>0.2</upper></limit></axis>
          </joint>
        </model>''')
    types = [model.jnt_type[model.body_jntadr[model.body(f'm::{n}').id]]
             if model.body_jntnum[model.body(f'm::{n}').id] else None for n in 'abcd']
    assert types == [mujoco.mjtJoint.mjJNT_FREE, None, mujoco.mjtJoint.mjJNT_BALL,
                     mujoco.mjtJoint.mjJNT_SLIDE]
    for name, parent in (('b', 'a'), ('c', 'b'), ('d', 'c')):
        assert model.body_parentid[model.body(f'm::{name}').id] == model.body(f'm::{parent}').id
    np.testing.assert_allclose(data.xpos[model.body('m::d').id], [3, 0, 1], atol=1e-12)
    slide = model.joint('m::slide').id
    np.testing.assert_allclose(model.jnt_range[slide], [-0.1, 0.2])
    for _ in range(50):
        mujoco.mj_step(model, data)
    assert np.all(np.isfinite(data.qpos))


def test_inertia_breaking_triangle_inequality_is_raised_and_listed(tmp_path):
    model, _, world = _tmp_world(tmp_path, '''
        <model name="m"><link name="l"><inertial><mass>1</mass>
          <inertia><ixx>0.1</ixx><iyy>0.1</iyy><izz>1.0</izz></inertia>
        </inertial></link></model>''')
    assert len(world.ignored) == 1 and 'triangle inequality' in world.ignored[0]
    moments = np.sort(model.body('m::l').inertia)
    assert moments[2] == pytest.approx(1.0)
    assert moments[0] + moments[1] >= moments[2] - 1e-9
    assert moments[0] == pytest.approx(0.5, abs=1e-6)


_TOTE_AND_LID = '''
    <model name="ground"><static>true</static><link name="link"><collision name="c">
      <geometry><plane><normal>0 0 1</normal></plane></geometry></collision></link></model>
    <model name="tote"><pose>0 0 0.2 0 0 0</pose><link name="bin">
      <inertial><mass>2</mass><inertia><ixx>0.03</ixx><iyy>0.04</iyy><izz>0.04</izz></inertia>
      </inertial>
      <collision name="c"><geometry><box><size>0.4 0.3 0.3</size></box></geometry></collision>
    </link></model>
    <model name="lid"><pose>0.3 0 0.45 0 0 0</pose><link name="link">
      <inertial><mass>0.5</mass><inertia><ixx>0.004</ixx><iyy>0.007</iyy><izz>0.01</izz>
      </inertia></inertial>
      <collision name="c"><geometry><box><size>0.4 0.3 0.02</size></box></geometry></collision>
    </link></model>'''


def _lid_in_tote_after(model, data, seconds: float) -> np.ndarray:
    tote, lid = model.body('tote::bin').id, model.body('lid::link').id
    for _ in range(int(seconds / model.opt.timestep)):
        mujoco.mj_step(model, data)
    return data.xmat[tote].reshape(3, 3).T @ (data.xpos[lid] - data.xpos[tote])


def test_fixed_world_joint_keeps_the_lid_on_the_tote_under_dynamics(tmp_path):
    """A world-level fixed joint (SDF 1.8+) welds the lid to the tote: no free joint of its own."""
    joint = ('<joint name="lid_on" type="fixed"><parent>tote::bin</parent>'
             '<child>lid::link</child></joint>')
    model, data, world = _tmp_world(tmp_path, _TOTE_AND_LID + joint)
    assert world.ignored == ()
    lid = model.body('lid::link')
    assert lid.parentid[0] == model.body('tote::bin').id
    assert model.body_jntnum[lid.id] == 0 and model.njnt == 1  # only the tote's free joint
    offset = _lid_in_tote_after(model, data, 1.0)
    # The tote fell 0.05 m onto the ground; the lid, overhanging by 0.3 m and held 0.1 m above
    # the tote's top, came along without moving relative to it.
    assert data.xpos[model.body('tote::bin').id][2] == pytest.approx(0.15, abs=5e-3)
    np.testing.assert_allclose(offset, [0.3, 0, 0.25], atol=1e-9)
    # Without the joint the same lid falls (the check above can fail).
    model, data, _ = _tmp_world(tmp_path, _TOTE_AND_LID)
    assert _lid_in_tote_after(model, data, 1.0)[2] < 0.2


def test_revolute_world_joint_becomes_a_hinge(tmp_path):
    model, data, _ = _tmp_world(tmp_path, _TOTE_AND_LID + '''
        <joint name="flap" type="revolute"><pose>-0.2 0 0 0 0 0</pose>
          <parent>tote::bin</parent><child>lid</child>
          <axis><xyz>0 1 0</xyz><limit><lower>-2</lower><upper>0</upper></limit></axis>
        </joint>''')
    flap = model.joint('flap')
    assert flap.type[0] == mujoco.mjtJoint.mjJNT_HINGE
    assert model.jnt_bodyid[flap.id] == model.body('lid::link').id
    np.testing.assert_allclose(model.jnt_range[flap.id], [-2, 0])
    np.testing.assert_allclose(data.xanchor[flap.id], [0.1, 0, 0.45], atol=1e-12)
    np.testing.assert_allclose(data.xaxis[flap.id], [0, 1, 0], atol=1e-12)
