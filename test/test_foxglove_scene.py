"""The Foxglove scene builder: entities match the compiled model's geoms."""

from __future__ import annotations

import foxglove.messages as fm
from google.protobuf import descriptor_pb2, message_factory
import mujoco
import numpy as np
import pytest

from twin_bridge.core.lidar import ScanData
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.embedded.foxglove_scene import (
    FRAME,
    laser_scan,
    path_entity,
    pose_in_frame,
    robot_entity,
    text_entity,
    world_entity,
)
from twin_bridge.embedded.scene_geometry import SceneGeometry

_G = mujoco.mjtGeom


def decode(message: object) -> object:
    """Decode an SDK message with its own protobuf schema."""
    schema = type(message).get_schema()
    fds = descriptor_pb2.FileDescriptorSet.FromString(schema.data)
    cls = message_factory.GetMessages(fds.file)[schema.name]
    return cls.FromString(message.encode())


@pytest.fixture(scope='module')
def backend() -> EmbeddedBackend:
    return EmbeddedBackend('warehouse', load_robot_description(default_robot_path()))


def _geometry(backend: EmbeddedBackend) -> SceneGeometry:
    data = mujoco.MjData(backend.model)
    mujoco.mj_kinematics(backend.model, data)
    root = backend.model.body(ROBOT_PREFIX + backend.robot.root_link).id
    return SceneGeometry(backend.model, data, root)


def test_world_entity_has_every_world_geom_but_planes(backend: EmbeddedBackend) -> None:
    m = backend.model
    world = (m.geom_group == 0) & (m.geom_type != _G.mjGEOM_PLANE)
    entity = decode(fm.SceneUpdate(entities=[world_entity(_geometry(backend))])).entities[0]
    assert entity.id == 'world' and entity.frame_id == FRAME
    assert len(entity.cubes) == np.count_nonzero(world & (m.geom_type == _G.mjGEOM_BOX))
    assert len(entity.cylinders) == np.count_nonzero(world & (m.geom_type == _G.mjGEOM_CYLINDER))
    assert len(entity.triangles) == np.count_nonzero(world & (m.geom_type == _G.mjGEOM_MESH))
    data = mujoco.MjData(m)
    mujoco.mj_kinematics(m, data)
    boxes = np.flatnonzero(world & (m.geom_type == _G.mjGEOM_BOX))
    cube = entity.cubes[0]
    np.testing.assert_allclose([cube.pose.position.x, cube.pose.position.y, cube.pose.position.z],
                               data.geom_xpos[boxes[0]], atol=1e-9)
    np.testing.assert_allclose([cube.size.x, cube.size.y, cube.size.z], 2 * m.geom_size[boxes[0]])


def test_robot_entity_follows_the_base_pose(backend: EmbeddedBackend) -> None:
    geometry = _geometry(backend)
    assert geometry.robot_shapes
    at_origin = decode(robot_entity(geometry, (0, 0, 0), (0, 0, 0, 1)))
    yaw = np.pi / 2
    moved = decode(robot_entity(geometry, (2.0, 1.0, 0.0), (0, 0, np.sin(yaw / 2),
                                                           np.cos(yaw / 2))))
    assert moved.id == 'robot'
    count = sum(len(getattr(moved, k)) for k in ('cubes', 'spheres', 'cylinders', 'triangles'))
    assert count >= len(geometry.robot_shapes)
    a, b = at_origin.cubes[0].pose.position, moved.cubes[0].pose.position
    # Rotated by 90 degrees about z, then shifted by (2, 1).
    np.testing.assert_allclose([b.x, b.y, b.z], [2.0 - a.y, 1.0 + a.x, a.z], atol=1e-9)


def test_scan_pose_path_and_text() -> None:
    ranges = np.array([1.0, np.inf, -np.inf, 2.5], dtype=np.float32)
    scan = ScanData('lidar', -0.3, 0.3, 0.2, 0.0, 0.1, 0.1, 10.0, ranges, stamp_ns=5)
    msg = decode(laser_scan(scan, (1.0, 2.0, 0.3), (0, 0, 0, 1)))
    assert msg.frame_id == FRAME and msg.timestamp.nanos == 5
    assert msg.ranges[0] == 1.0 and msg.ranges[3] == 2.5 and np.isnan(msg.ranges[1:3]).all()
    assert msg.start_angle == pytest.approx(-0.3) and msg.end_angle == pytest.approx(0.3)
    assert msg.pose.position.y == 2.0
    pose = decode(pose_in_frame((1, 2, 0), (0, 0, 0, 1), 3_000_000_001))
    assert pose.timestamp.seconds == 3 and pose.pose.position.x == 1
    path = decode(path_entity('p', np.array([[0, 0, 0], [1, 0, 0], [2, 1, 0]])))
    assert len(path.lines[0].points) == 3 and path.lines[0].points[2].y == 1
    assert decode(text_entity('t', 'safety: pass', (0, 0, 1))).texts[0].text == 'safety: pass'
