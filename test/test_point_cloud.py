"""Tests for 3D lidars: every ring of a VLP-16-like gpu_lidar in a closed box room against
analytic ranges, the scan ring, and the PointCloud2 layout of Gazebo's gpu_lidar."""

import numpy as np
import pytest

from twin_bridge.core.point_cloud import CLOUD_FIELDS, CLOUD_POINT_STEP, PointCloudData
from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import quat_from_rpy, quat_to_matrix
from twin_bridge.description.robot_description import parse_urdf
from twin_bridge.embedded.embedded_backend import EmbeddedBackend

ROOM = (-3.0, 5.0, -2.0, 4.0, 0.0, 2.5)  # inner faces: xmin, xmax, ymin, ymax, zmin, zmax
_WALL = 0.2


def room_sdf() -> str:
    """A closed box room (floor, ceiling, four walls) of inner size ROOM."""
    x0, x1, y0, y1, z0, z1 = ROOM
    cx, cy, cz = (x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2
    sx, sy, sz = x1 - x0 + 2 * _WALL, y1 - y0 + 2 * _WALL, z1 - z0 + 2 * _WALL
    boxes = {  # name: (centre, size)
        'floor': ((cx, cy, z0 - _WALL / 2), (sx, sy, _WALL)),
        'ceiling': ((cx, cy, z1 + _WALL / 2), (sx, sy, _WALL)),
        'west': ((x0 - _WALL / 2, cy, cz), (_WALL, sy, sz)),
        'east': ((x1 + _WALL / 2, cy, cz), (_WALL, sy, sz)),
        'south': ((cx, y0 - _WALL / 2, cz), (sx, _WALL, sz)),
        'north': ((cx, y1 + _WALL / 2, cz), (sx, _WALL, sz)),
    }
    collisions = ''.join(
        f'<collision name="{name}"><pose>{c[0]} {c[1]} {c[2]} 0 0 0</pose><geometry><box>'
        f'<size>{s[0]} {s[1]} {s[2]}</size></box></geometry></collision>'
        for name, (c, s) in boxes.items())
    return (f'<?xml version="1.0"?><sdf version="1.9"><world name="box_room"><model name="room">'
            f'<static>true</static><link name="link">{collisions}</link></model></world></sdf>')


VLP16 = '''<robot name="vlp_bot">
  <link name="base_link"><collision><geometry><box size="0.5 0.4 0.2"/></geometry></collision>
    <inertial><mass value="10"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/>
    </inertial></link>
  <link name="velodyne"><collision><geometry><cylinder radius="0.05" length="0.07"/></geometry>
    </collision><inertial><mass value="0.8"/>
    <inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial></link>
  <joint name="velodyne_mount" type="fixed"><parent link="base_link"/><child link="velodyne"/>
    <origin xyz="0.1 0 0.6" rpy="0 0 0"/></joint>
  <gazebo reference="velodyne"><sensor name="vlp16" type="gpu_lidar">
    <update_rate>10</update_rate><topic>points</topic><gz_frame_id>velodyne</gz_frame_id>
    <lidar><scan>
      <horizontal><samples>1800</samples><resolution>1</resolution>
        <min_angle>-3.14159265</min_angle><max_angle>3.14159265</max_angle></horizontal>
      <vertical><samples>16</samples><resolution>1</resolution>
        <min_angle>-0.2617994</min_angle><max_angle>0.2617994</max_angle></vertical>
    </scan><range><min>0.9</min><max>100</max><resolution>0.003</resolution></range></lidar>
  </sensor></gazebo>
</robot>'''


@pytest.fixture(scope='module')
def backend(tmp_path_factory):
    world = tmp_path_factory.mktemp('room') / 'box_room.sdf'
    world.write_text(room_sdf())
    return EmbeddedBackend(world, parse_urdf(VLP16, source='vlp16.urdf'), lidar_noise=False)


def box_room_ranges(origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Distance from ``origin`` inside ROOM along each unit direction to its inner faces."""
    low, high = np.array(ROOM[0::2]), np.array(ROOM[1::2])
    with np.errstate(divide='ignore'):
        bound = np.where(directions > 0, high, low)
        t = np.where(directions != 0, (bound - origin) / directions, np.inf)
    return t.min(axis=1)


@pytest.mark.parametrize('x, y, yaw', [(0.0, 0.0, 0.0), (2.5, 1.7, 0.9), (-1.8, -0.9, -2.4)])
def test_every_ring_matches_the_analytic_box_room(backend, x, y, yaw):
    backend.mirror(OdometrySample(position=np.array([x, y, 0.0]),
                                  orientation=quat_from_rpy(0, 0, yaw)))
    cloud = backend.point_cloud()
    lidar = backend.lidar
    assert cloud.ranges.shape == (16, 1800) and cloud.ranges.dtype == np.float32
    origin, quat = backend.lidar_pose()
    world_dirs = lidar.ray_directions() @ quat_to_matrix(quat).T
    expected = box_room_ranges(origin, world_dirs).reshape(16, 1800)
    assert np.all(np.isfinite(cloud.ranges))          # a closed room: every beam returns
    assert np.max(np.abs(cloud.ranges - expected)) < 1e-3
    # The lowest ring looks down at the floor, the highest up at the ceiling.
    assert np.all(cloud.points()[0, :, 2] < 0) and np.all(cloud.points()[15, :, 2] > 0)


def test_the_scan_is_the_middle_ring_as_ros_gz_bridge_takes_it(backend):
    backend.mirror(OdometrySample(position=np.array([1.0, 0.5, 0.0]),
                                  orientation=quat_from_rpy(0, 0, 0.4)))
    scan, cloud = backend.scan(), backend.point_cloud()
    assert backend.lidar.scan_ring == 8
    assert scan.ranges.shape == (1800,)
    np.testing.assert_array_equal(scan.ranges, cloud.ranges[8])


def test_out_of_range_beams_follow_rep117():
    cloud = PointCloudData('velodyne', np.array([[np.inf, 2.0], [-np.inf, 1.0]], np.float32),
                           np.array([-0.1, 0.1]), np.array([0.0, 1.0]), 0.9, 100.0)
    assert not cloud.is_dense
    assert np.all(np.isfinite(cloud.points()[0, 1])) and not np.all(
        np.isfinite(cloud.points()[0, 0]))


def test_packed_layout_is_gazebos_gpu_lidar_layout(backend):
    """x, y, z float32 at 0, 4, 8; intensity float32 at 16; ring uint16 at 24; 32-byte
    points, ring-major rows (gz-sensors GpuLidarSensor + InitPointCloudPacked aligned)."""
    assert [(n, o) for n, o, _, _ in CLOUD_FIELDS] == [('x', 0), ('y', 4), ('z', 8),
                                                       ('intensity', 16), ('ring', 24)]
    assert [t for _, _, t, _ in CLOUD_FIELDS] == [7, 7, 7, 7, 4]  # FLOAT32, UINT16
    backend.mirror(OdometrySample(position=np.array([0.5, 0.0, 0.0]),
                                  orientation=quat_from_rpy(0, 0, 0)))
    cloud = backend.point_cloud()
    data = cloud.packed()
    assert len(data) == 16 * 1800 * CLOUD_POINT_STEP
    raw = np.frombuffer(data, dtype=np.uint8).reshape(16, 1800, CLOUD_POINT_STEP)
    xyz = raw[:, :, 0:12].copy().view('<f4').reshape(16, 1800, 3)
    np.testing.assert_array_equal(xyz, cloud.points())
    assert np.all(raw[:, :, 16:20].copy().view('<f4') == 0.0)
    rings = raw[:, :, 24:26].copy().view('<u2').reshape(16, 1800)
    assert np.array_equal(rings, np.repeat(np.arange(16)[:, None], 1800, axis=1))
    # The points are where the beams end: their norms are the ranges.
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=2), cloud.ranges, rtol=1e-5)


def test_a_planar_lidar_cloud_is_its_scan(tmp_path):
    from twin_bridge.description.robot_description import (
        default_robot_path,
        load_robot_description,
    )
    world = tmp_path / 'box_room.sdf'
    world.write_text(room_sdf())
    robot = load_robot_description(default_robot_path(), {})
    planar = EmbeddedBackend(world, robot, lidar_noise=False)
    planar.mirror(OdometrySample(position=np.array([0.0, 0.0, 0.0]),
                                 orientation=quat_from_rpy(0, 0, 0)))
    cloud = planar.point_cloud()
    assert cloud.ranges.shape == (1, 720)
    np.testing.assert_array_equal(cloud.ranges[0], planar.scan().ranges)


def test_gazebo_bridge_config_carries_the_cloud_of_a_3d_lidar():
    from twin_bridge.gazebo.gz_bridge_config import required_bridge_config
    robot = parse_urdf(VLP16, source='vlp16.urdf')
    entries = required_bridge_config(robot).entries
    clouds = [e for e in entries if e.ros_type == 'sensor_msgs/msg/PointCloud2']
    assert len(clouds) == 1
    scan = next(e for e in entries if e.ros_type == 'sensor_msgs/msg/LaserScan')
    assert clouds[0].gz_topic == scan.gz_topic + '/points'  # gz-sensors' topic
    assert clouds[0].gz_type == 'gz.msgs.PointCloudPacked'
    assert clouds[0].direction == 'GZ_TO_ROS'
    planar = required_bridge_config(parse_urdf(VLP16.replace('<samples>16<', '<samples>1<')))
    assert not [e for e in planar.entries if 'PointCloud2' in e.ros_type]


@pytest.mark.parametrize('vertical, words', [
    ('<samples>16</samples><min_angle>0.3</min_angle><max_angle>-0.3</max_angle>',
     'min_angle <= max_angle'),
    ('<samples>16</samples><min_angle>-2</min_angle><max_angle>0.3</max_angle>', '-pi/2'),
    ('<samples>0</samples>', '<vertical><samples> must be at least 1'),
    ('<samples>many</samples>', 'not a number'),
])
def test_bad_vertical_blocks_are_clear_errors(vertical, words):
    from twin_bridge.errors import RobotDescriptionError
    urdf = VLP16.replace(VLP16[VLP16.index('<vertical>'):VLP16.index('</vertical>')],
                         f'<vertical>{vertical}')
    with pytest.raises(RobotDescriptionError, match='vlp16') as exc:
        parse_urdf(urdf, source='vlp16.urdf')
    assert words in str(exc.value)
