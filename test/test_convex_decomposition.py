"""Tests for convex_decomposition and the world loader's use of it: a robot drives through
the doorway of a room modelled as one concave mesh under step() (as the mesh's hull it is
stopped), the lidar still ray-casts the exact triangles, and decompositions are cached."""

import logging

from mesh_room import OUTLINE, analytic_ranges, extrude, write_room_world
import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import quat_from_rpy
from twin_bridge.description import mesh_cache
from twin_bridge.description.meshes import TriangleMesh
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded import convex_decomposition
from twin_bridge.embedded.convex_decomposition import MIN_HULL_GAP, convex_parts, hull_gap
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.mujoco_world import CONTACT_GEOM_GROUP


@pytest.fixture(scope='module')
def cache(tmp_path_factory):
    """One decomposition for the module, in a cache of its own."""
    path = tmp_path_factory.mktemp('cache')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(mesh_cache.CACHE_DIR_ENV, str(path))
        yield path


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    return write_room_world(tmp_path_factory.mktemp('room'))


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path(), {})


def drive_north(backend, robot, seconds=7.0):
    """Start outside the doorway facing it, drive straight at 0.48 m/s; the final y."""
    backend.mirror(OdometrySample(position=np.array([0.0, -3.3, 0.0]),
                                  orientation=quat_from_rpy(0, 0, np.pi / 2)))
    wheels = dict.fromkeys(robot.wheel_joint_names, 8.0)
    for _ in range(int(seconds / 0.5)):
        backend.step(0.5, wheels)
    return backend.odometry().position


def test_robot_drives_through_the_doorway_of_a_concave_mesh_room(cache, world, robot):
    backend = EmbeddedBackend(world, robot, lidar_noise=False)
    m = backend.model
    parts = [g for g in range(m.ngeom) if m.geom_group[g] == CONTACT_GEOM_GROUP]
    assert len(parts) >= 3  # walls split apart, the doorway left open
    exact = m.geom('room::link::walls').id
    assert m.geom_contype[exact] == 0 and m.geom_conaffinity[exact] == 0  # rays only
    position = drive_north(backend, robot)
    assert position[1] > -1.0, 'the robot did not get through the doorway'  # wall: -1.8
    assert abs(position[0]) < 0.2


def test_as_its_convex_hull_the_room_blocks_the_doorway(world, robot):
    backend = EmbeddedBackend(world, robot, lidar_noise=False, decompose_meshes=False)
    position = drive_north(backend, robot)
    assert position[1] < -2.1  # stopped at the hull's south face (y = -2)


@pytest.mark.parametrize('x, y, yaw', [(0.0, 0.0, 0.0), (1.9, 1.1, 2.3), (-2.2, -1.2, -0.7),
                                       (0.1, -1.5, 1.4)])
def test_lidar_casts_the_exact_triangles_not_the_parts(cache, world, robot, x, y, yaw):
    backend = EmbeddedBackend(world, robot, lidar_noise=False)
    backend.mirror(OdometrySample(position=np.array([x, y, 0.0]),
                                  orientation=quat_from_rpy(0, 0, yaw)))
    scan = backend.scan()
    origin, _ = backend.lidar_pose()
    expected = analytic_ranges(origin, yaw + backend.lidar.beam_angles())
    expected = np.where(expected > backend.lidar.range_max, np.inf, expected)
    assert np.array_equal(np.isinf(scan.ranges), np.isinf(expected))
    hit = np.isfinite(expected)
    assert hit.sum() > 400
    assert np.max(np.abs(scan.ranges[hit] - expected[hit])) < 1e-3
    # What the lidar can hit: the exact mesh, never a convex part.
    seen = backend._scene.source_ids
    assert backend.model.geom('room::link::walls').id in seen
    assert not np.any(backend.model.geom_group[seen] == CONTACT_GEOM_GROUP)


def test_a_second_load_takes_the_parts_from_the_cache(cache, world, robot, monkeypatch):
    EmbeddedBackend(world, robot)  # decomposed (or already cached by another test)
    assert list((cache / 'convex_parts').glob('*.npz'))

    def refuse(*_args):
        raise AssertionError('decomposed again instead of reading the cache')

    monkeypatch.setattr(convex_decomposition, '_decompose', refuse)
    monkeypatch.setattr(convex_decomposition, 'hull_gap', refuse)
    again = EmbeddedBackend(world, robot)
    assert np.sum(again.model.geom_group == CONTACT_GEOM_GROUP) >= 3


def test_decomposition_is_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(mesh_cache.CACHE_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(convex_decomposition, '_PROGRESS_PERIOD', 0.02)  # CoACD takes longer
    vertices, faces = extrude([(0, 0), (2, 0), (2, 2), (1.6, 2), (1.6, 0.4), (0, 0.4)], 1.0)
    with caplog.at_level(logging.INFO, logger='twin_bridge.embedded.convex_decomposition'):
        parts = convex_parts(TriangleMesh(vertices, faces.astype(np.int32)), 'l_shape.obj')
    assert parts is not None and len(parts) >= 2
    text = caplog.text
    assert 'l_shape.obj: concave' in text and 'convex parts in' in text
    assert 'l_shape.obj: still decomposing' in text


def test_hull_gap_tells_convex_from_concave():
    box_v, box_f = extrude([(0, 0), (1, 0), (1, 1), (0, 1)], 1.0)
    room_v, room_f = extrude(OUTLINE, 2.5)
    l_v, l_f = extrude([(0, 0), (2, 0), (2, 2), (1.6, 2), (1.6, 0.4), (0, 0.4)], 1.0)
    assert hull_gap(TriangleMesh(box_v, box_f.astype(np.int32))) < 1e-5
    # The room's hull spans its empty inside: rays from its top meet nothing.
    assert hull_gap(TriangleMesh(room_v, room_f.astype(np.int32))) == pytest.approx(6.0)
    # The L's hull reaches to the corner (2, 2) - (0, 0.4) diagonal: about 1.2 m in.
    assert 1.0 < hull_gap(TriangleMesh(l_v, l_f.astype(np.int32))) < 2.1
    chamfer_v, chamfer_f = extrude([(0, 0), (1, 0), (1, 0.98), (0.98, 1), (0, 1)], 1.0)
    assert hull_gap(TriangleMesh(chamfer_v, chamfer_f.astype(np.int32))) < MIN_HULL_GAP


def test_convex_meshes_collide_as_they_are(tmp_path, monkeypatch):
    monkeypatch.setenv(mesh_cache.CACHE_DIR_ENV, str(tmp_path))
    vertices, faces = extrude([(0, 0), (1, 0), (1, 1), (0, 1)], 1.0)
    assert convex_parts(TriangleMesh(vertices, faces.astype(np.int32)), 'box.obj') is None


def test_a_failing_decomposition_names_the_mesh(tmp_path, monkeypatch):
    monkeypatch.setenv(mesh_cache.CACHE_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(convex_decomposition, '_WORKER',
                        'import sys; sys.stderr.write("boom"); sys.exit(3)')
    from twin_bridge.errors import WorldLoadError
    vertices, faces = extrude(OUTLINE, 2.5)
    with pytest.raises(WorldLoadError, match='room.obj: convex decomposition .* failed: boom'):
        convex_parts(TriangleMesh(vertices, faces.astype(np.int32)), 'room.obj')
