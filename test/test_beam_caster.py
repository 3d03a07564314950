"""Tests for beam_caster: batched casts vs analytic ranges, the backend's scan, mj_ray."""


import mujoco
import numpy as np
import pytest
from scan_room import ROOM, SEARCH, analytic_ranges

from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import quat_from_rpy, yaw_from_quat
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.beam_caster import BeamCaster, rep117
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.errors import BackendError


def place(backend, x, y, yaw):
    backend.mirror(OdometrySample(position=np.array([x, y, 0.0]),
                                  orientation=quat_from_rpy(0, 0, yaw)))


@pytest.fixture(scope='module')
def backend():
    robot = load_robot_description(default_robot_path())
    return EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_noise=False)


@pytest.fixture(scope='module')
def caster(backend):
    return BeamCaster.from_backend(backend)


@pytest.mark.parametrize('x, y, yaw', [(0.0, 0.0, 0.0), (1.0, -1.0, 0.7), (-3.0, 2.5, -2.0)])
def test_ranges_match_analytic_truth(caster, x, y, yaw):
    angles = np.linspace(-np.pi, np.pi, 720, endpoint=False)
    hits = caster.cast(np.array([x, y, 0.3]), yaw, angles)
    expected = analytic_ranges(np.array([x, y]), angles + yaw)
    np.testing.assert_allclose(hits.ranges, expected, atol=1e-6)
    assert np.all(hits.geom_ids >= 0)
    np.testing.assert_allclose(np.linalg.norm(hits.normals, axis=1), 1.0, atol=1e-9)


def test_normals_face_the_beam_and_are_the_wall_normal(caster):
    angles = np.array([0.0, np.pi / 2, np.pi, -np.pi / 2])
    hits = caster.cast(np.array([0.5, 0.0, 0.3]), 0.0, angles)
    np.testing.assert_allclose(hits.ranges, [3.5, 3.0, 4.5, 3.0], atol=1e-9)
    np.testing.assert_allclose(hits.normals, [[-1, 0, 0], [0, -1, 0], [1, 0, 0], [0, 1, 0]],
                               atol=1e-9)
    assert np.all(np.einsum('ij,ij->i', hits.normals, hits.directions) < 0)


def test_same_as_the_backend_scan_from_the_lidar_pose(backend, caster):
    place(backend, 0.7, -0.4, 0.4)
    scan = backend.scan()
    pos, quat = backend.lidar_pose()
    lidar = backend.lidar
    hits = caster.cast(pos, yaw_from_quat(quat), lidar.beam_angles())
    ranges = rep117(hits.ranges, lidar.range_min, lidar.range_max)
    np.testing.assert_allclose(ranges, scan.ranges, atol=1e-5)


def test_the_robot_is_not_hit_from_inside_it(backend):
    angles = np.linspace(-np.pi, np.pi, 90, endpoint=False)
    origin = np.array([0.0, 0.0, 0.1])  # inside the chassis
    place(backend, 0.0, 0.0, 0.0)
    backend.lidar_pose()  # brings the backend's kinematics up to date
    inside = BeamCaster.from_backend(backend).cast(origin, 0.0, angles).ranges
    place(backend, 3.5, 2.5, 0.0)
    away = BeamCaster.from_backend(backend).cast(origin, 0.0, angles).ranges
    np.testing.assert_array_equal(inside, away)
    assert np.all(inside > 1.0)


def test_batched_cast_equals_a_plain_mj_ray_loop(caster):
    rng = np.random.default_rng(3)
    origin = np.array([0.3, 0.8, 0.3])
    dirs = rng.normal(size=(64, 3))
    dirs[:, 2] *= 0.2
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    hits = caster.cast_directions(origin, dirs)
    geomgroup = np.ones(mujoco.mjNGROUP, dtype=np.uint8)
    geomgroup[[2, 5]] = 0
    geomid = np.zeros(1, dtype=np.int32)
    for i, d in enumerate(dirs):  # the plain reference: one mj_ray per beam
        dist = mujoco.mj_ray(caster.model, caster.data, origin, d, geomgroup, 1, -1, geomid)
        expected = np.inf if geomid[0] < 0 else dist
        assert hits.geom_ids[i] == geomid[0]
        assert hits.ranges[i] == pytest.approx(expected, abs=1e-9)


def test_rep117():
    out = rep117(np.array([0.05, 1.0, 13.0, np.inf]), 0.12, 12.0)
    np.testing.assert_array_equal(out, [-np.inf, 1.0, np.inf, np.inf])


def test_bad_input_is_refused(caster):
    with pytest.raises(BackendError, match='angles'):
        caster.cast(np.zeros(3), 0.0, np.zeros(caster.max_beams + 1))
    with pytest.raises(BackendError, match='finite'):
        caster.cast(np.array([np.nan, 0, 0]), 0.0, np.zeros(3))
    with pytest.raises(BackendError, match='not finite'):
        caster.cast(np.zeros(3), 0.0, np.array([0.0, np.inf]))
    with pytest.raises(BackendError, match='qpos'):
        caster.sync(np.zeros(2))


def test_sync_follows_a_moved_world_body(backend):
    caster = BeamCaster.from_backend(backend)
    before = caster.cast(np.array([-2.0, 0.0, 0.3]), -np.pi / 2, np.zeros(1)).ranges[0]
    qpos = backend.data.qpos.copy()
    cube = backend.model.joint(backend.model.body('cube::link').jntadr[0])
    qpos[cube.qposadr[0]] += 1.0  # the cube 1 m along +x: the beam now reaches the wall
    caster.sync(qpos)
    after = caster.cast(np.array([-2.0, 0.0, 0.3]), -np.pi / 2, np.zeros(1)).ranges[0]
    assert before == pytest.approx(1.3, abs=1e-6)
    assert after == pytest.approx(3.0, abs=1e-6)


@pytest.mark.parametrize('moved', [False, True])
def test_scene_caster_equals_the_plain_caster(backend, moved):
    """``scene=True`` (spatial cells) gives the plain caster's hits: ranges, geoms, normals,
    in the plane and in 3D, also after sync() moved a world body."""
    qpos = backend.data.qpos.copy()
    if moved:
        cube = backend.model.joint(backend.model.body('cube::link').jntadr[0])
        qpos[cube.qposadr[0]:cube.qposadr[0] + 2] += [1.0, 0.7]
    plain = BeamCaster(backend.model, qpos)
    fast = BeamCaster(backend.model, qpos, scene=True)
    fast.sync(qpos)
    rng = np.random.default_rng(11)
    angles = np.linspace(-np.pi, np.pi, 720, endpoint=False)
    for origin in ([-2.0, 0.0, 0.3], [1.0, 1.0, 0.2], [3.0, -2.5, 1.0]):
        origin = np.array(origin)
        vec = rng.normal(size=(500, 3))
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        for a, b in ((plain.cast(origin, 0.4, angles), fast.cast(origin, 0.4, angles)),
                     (plain.cast_directions(origin, vec), fast.cast_directions(origin, vec))):
            assert np.array_equal(a.geom_ids, b.geom_ids)
            np.testing.assert_allclose(a.ranges, b.ranges, atol=1e-9)
            np.testing.assert_allclose(a.normals, b.normals, atol=1e-6)
