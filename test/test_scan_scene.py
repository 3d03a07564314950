"""Tests for scan_scene: the cell-split ray-casting copy of the world, against bare mj_multiRay
on the whole model and against analytic ranges in a generated many-shape world."""

import mujoco
import numpy as np
import pytest
from shapes_world import analytic_ranges, write_shapes_world

from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import quat_from_rpy
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.mujoco_robot import ROBOT_GEOM_GROUP
from twin_bridge.embedded.scan_scene import MAX_CELLS, ScanScene

PER_ROW = 200  # 600 shapes: the 3,000 of the benchmark cost seconds to compile


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    path = write_shapes_world(tmp_path_factory.mktemp('shapes'), PER_ROW)
    robot = load_robot_description(default_robot_path(), {})
    return EmbeddedBackend(path, robot, lidar_noise=False)


def world_geoms(model: mujoco.MjModel) -> np.ndarray:
    return np.flatnonzero(model.geom_group != ROBOT_GEOM_GROUP)


def bare_cast(model, data, origin, vec, cutoff):
    """The reference: mj_multiRay on the whole model, robot geoms skipped."""
    groups = np.ones(mujoco.mjNGROUP, dtype=np.uint8)
    groups[ROBOT_GEOM_GROUP] = 0
    geom, dist = np.zeros(len(vec), np.int32), np.zeros(len(vec))
    mujoco.mj_multiRay(model, data, origin, vec.reshape(-1), groups, 1, -1, geom, dist, None,
                       len(vec), cutoff)
    return geom, dist


def random_directions(rng, n):
    vec = rng.normal(size=(n, 3))
    return vec / np.linalg.norm(vec, axis=1, keepdims=True)


@pytest.mark.parametrize('x, y, yaw', [(0.3, 0.75, 0.3), (-40.1, -0.8, 2.0), (100.0, 0.7, -1.2),
                                       (149.0, 0.75, 0.0)])
def test_scans_in_a_many_shape_world_match_analytic_ranges(shapes, x, y, yaw):
    shapes.mirror(OdometrySample(position=np.array([x, y, 0.0]),
                                 orientation=quat_from_rpy(0, 0, yaw)))
    scan = shapes.scan()
    origin, quat = shapes.lidar_pose()
    heading = yaw + shapes.lidar.beam_angles()
    expected = analytic_ranges(origin, heading, PER_ROW)
    expected = np.where(expected > shapes.lidar.range_max, np.inf, expected)
    expected = np.where(expected < shapes.lidar.range_min, -np.inf, expected)
    hit = np.isfinite(expected)
    assert hit.sum() > 100
    assert np.array_equal(scan.ranges[~hit], expected[~hit])
    assert np.max(np.abs(scan.ranges[hit] - expected[hit])) < 1e-3


def test_the_world_is_split_into_cells_with_every_visible_geom(shapes):
    scene = shapes._scene
    assert 1 < scene.cell_count <= MAX_CELLS
    robot_free = world_geoms(shapes.model)
    assert sorted(scene.source_ids) == sorted(robot_free)


def test_scene_casts_equal_bare_mj_multiray_in_any_direction(shapes):
    """The fast path against the reference: 3D rays from anywhere, geom for geom."""
    model, data = shapes.model, mujoco.MjData(shapes.model)
    mujoco.mj_kinematics(model, data)
    scene = ScanScene(model, data, world_geoms(model), cell_size=5.0)
    rng = np.random.default_rng(3)
    for origin in ([0.2, 0.75, 0.4], [-30.0, -0.7, 0.9], [12.0, 3.0, 2.0], [149.5, 0.0, 1.5]):
        origin = np.array(origin)
        vec = random_directions(rng, 500)
        geom, dist = np.zeros(500, np.int32), np.zeros(500)
        scene.cast(origin, vec, geom, dist, 20.0)
        ref_geom, ref_dist = bare_cast(model, data, origin, vec, 20.0)
        near = (ref_geom >= 0) & (ref_dist <= 20.0)
        assert near.sum() > 50
        assert np.array_equal(scene.source_ids[geom[near]], ref_geom[near])
        np.testing.assert_allclose(dist[near], ref_dist[near], atol=1e-9)
        assert np.all((geom >= 0) <= (ref_geom >= 0))


def test_a_planar_fan_skips_nothing_it_could_hit(shapes):
    model, data = shapes.model, mujoco.MjData(shapes.model)
    mujoco.mj_kinematics(model, data)
    scene = ScanScene(model, data, world_geoms(model), cell_size=12.0)
    groups = model.geom_group.copy()
    angles = np.linspace(-np.pi, np.pi, 720, endpoint=False)
    for z in (0.05, 0.5, 0.99, 1.2):
        origin = np.array([10.3, 0.75, z])
        vec = np.stack([np.cos(angles), np.sin(angles), np.zeros(720)], axis=1)
        geom, dist = np.zeros(720, np.int32), np.zeros(720)
        scene.cast(origin, vec, geom, dist, 12.0, plane_normal=np.array([0.0, 0.0, 1.0]))
        ref_geom, ref_dist = bare_cast(model, data, origin, vec, 12.0)
        near = (ref_geom >= 0) & (ref_dist <= 12.0)
        assert np.array_equal(scene.source_ids[geom[near]], ref_geom[near])
        np.testing.assert_allclose(dist[near], ref_dist[near], atol=1e-9)
    assert np.array_equal(model.geom_group, groups)  # the source model is never edited


def test_geoms_on_moving_bodies_follow_after_sync(shapes):
    """A shape moved into the corridor (and one tipped over) is seen where it now is."""
    model = shapes.model
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    scene = ScanScene(model, data, world_geoms(model), cell_size=12.0)
    assert scene.sync(data) == 0
    box = model.joint('box_30::box_link').qposadr[0]
    sphere = model.joint('sphere_90::sphere_link').qposadr[0]
    data.qpos[box:box + 3] = [0.0, 0.75, 0.5]          # from x = 45 into the corridor at 0
    data.qpos[sphere:sphere + 3] = [3.0, 0.75, 0.5]    # from x = 135
    data.qpos[box + 3:box + 7] = quat_from_rpy(0.3, 0.0, 0.7)[[3, 0, 1, 2]]
    mujoco.mj_kinematics(model, data)
    assert scene.sync(data) == 2
    rng = np.random.default_rng(5)
    for origin in ([-1.2, 0.75, 0.5], [1.5, 0.75, 0.5]):
        origin = np.array(origin)
        vec = random_directions(rng, 600)
        geom, dist = np.zeros(600, np.int32), np.zeros(600)
        scene.cast(origin, vec, geom, dist, 12.0)
        ref_geom, ref_dist = bare_cast(model, data, origin, vec, 12.0)
        near = (ref_geom >= 0) & (ref_dist <= 12.0)
        moved = np.isin(ref_geom, [model.geom('box_30::box_link::box_collision').id,
                                   model.geom('sphere_90::sphere_link::sphere_collision').id])
        assert (near & moved).sum() > 10
        assert np.array_equal(scene.source_ids[geom[near]], ref_geom[near])
        np.testing.assert_allclose(dist[near], ref_dist[near], atol=1e-9)


def test_scan_sees_shapes_that_moved_in_dynamics(tmp_path):
    robot = load_robot_description(default_robot_path(), {})
    backend = EmbeddedBackend(write_shapes_world(tmp_path, 20), robot, lidar_noise=False)
    backend.mirror(OdometrySample(position=np.array([0.0, 0.75, 0.0]),
                                  orientation=quat_from_rpy(0, 0, 0)))
    before = backend.scan().ranges.copy()
    qpos = backend.data.qpos
    box = backend.model.joint('box_11::box_link').qposadr[0]   # at x = 1.5
    qpos[box + 1] = 5.0                                          # out of view, then settles
    backend.step(0.01)
    after = backend.scan().ranges
    assert np.sum(after > before + 0.3) > 5   # beams that met box_11 now go farther


def test_world_edited_makes_scans_see_edited_static_geometry(tmp_path):
    from scan_room import ROOM, SEARCH
    robot = load_robot_description(default_robot_path(), {})
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_noise=False)
    backend.mirror(OdometrySample(position=np.array([0.0, 0.0, 0.0]),
                                  orientation=quat_from_rpy(0, 0, 0)))
    before = backend.scan().ranges.copy()
    walls = [g for g in range(backend.model.ngeom)
             if backend.model.geom_bodyid[g] == 0 and backend.model.geom_rbound[g] > 0]
    backend.model.geom_pos[walls, 0] += 0.5           # every static geom 0.5 m along +x
    assert np.array_equal(backend.scan().ranges, before)  # the copy, until told
    backend.world_edited()
    after = backend.scan().ranges
    assert not np.array_equal(after, before)
    np.testing.assert_allclose(after[360], before[360] + 0.5, atol=1e-4)  # beam along +x


def test_meshes_are_cast_on_their_exact_triangles(tmp_path):
    """The scene's copy of a mesh (re-centred when compiled, a token hull) meets rays where
    the world's mesh does."""
    from mesh_room import write_room_world
    robot = load_robot_description(default_robot_path(), {})
    backend = EmbeddedBackend(write_room_world(tmp_path), robot, lidar_noise=False,
                              decompose_meshes=False)
    model, data = backend.model, mujoco.MjData(backend.model)
    mujoco.mj_kinematics(model, data)
    scene = ScanScene(model, data, world_geoms(model), cell_size=12.0)
    rng = np.random.default_rng(9)
    for origin in ([0.0, 0.0, 1.0], [2.5, 1.5, 0.3], [0.0, -4.0, 2.0]):
        origin = np.array(origin)
        vec = random_directions(rng, 800)
        geom, dist = np.zeros(800, np.int32), np.zeros(800)
        scene.cast(origin, vec, geom, dist, 12.0)
        ref_geom, ref_dist = bare_cast(model, data, origin, vec, 12.0)
        near = (ref_geom >= 0) & (ref_dist <= 12.0)
        assert (near & (ref_geom == model.geom('room::link::walls').id)).sum() > 20
        assert np.array_equal(scene.source_ids[geom[near]], ref_geom[near])
        np.testing.assert_allclose(dist[near], ref_dist[near], atol=1e-6)
