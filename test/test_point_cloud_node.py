"""The twin node publishes a 3D lidar's every ring on virtual/points (real DDS, real process):
the PointCloud2 is byte for byte what the embedded backend casts, in Gazebo's layout."""

import numpy as np
from ros_harness import RosTestContext, spawn_node, write_params_file
from sensor_msgs.msg import LaserScan, PointCloud2
from test_point_cloud import VLP16, room_sdf

from twin_bridge.description.robot_description import parse_urdf
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.ros.qos import qos_profile


def test_virtual_points_carries_every_ring(tmp_path):
    world = tmp_path / 'box_room.sdf'
    world.write_text(room_sdf())
    params = {'backend': 'embedded', 'world': str(world), 'robot_description': VLP16,
              'scan_rate': 5.0, 'drift_check': False, 'gate': False}
    params_file = write_params_file(tmp_path / 'params.yaml', '/**', params)
    expected = EmbeddedBackend(world, parse_urdf(VLP16), lidar_noise=False).point_cloud()
    with RosTestContext('points_observer') as ros, spawn_node(
            'twin_bridge.ros.bridge_node', params_file=params_file, log_dir=tmp_path) as proc:
        clouds = ros.collect('virtual/points', PointCloud2, qos_profile('sensor_data', 5))
        scans = ros.collect('virtual/scan', LaserScan, qos_profile('sensor_data', 5))
        assert ros.spin_until(lambda: len(clouds) >= 2 and len(scans) >= 1, 30.0, proc), \
            proc.tail()
        assert proc.stop() == 0
    msg = clouds.last
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (16, 1800, 32, 32 * 1800)
    assert [(f.name, f.offset, f.datatype, f.count) for f in msg.fields] == [
        ('x', 0, 7, 1), ('y', 4, 7, 1), ('z', 8, 7, 1), ('intensity', 16, 7, 1),
        ('ring', 24, 4, 1)]
    assert msg.header.frame_id == 'velodyne' and not msg.is_bigendian and msg.is_dense
    assert bytes(msg.data) == expected.packed()
    np.testing.assert_array_equal(np.asarray(scans.last.ranges, np.float32), expected.ranges[8])
