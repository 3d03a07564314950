"""``virtual/points``: a 3D lidar's every ring as ``sensor_msgs/PointCloud2``, on a thread."""

from __future__ import annotations

from array import array
from collections.abc import Callable
import time
from typing import Any

from rclpy.node import Node
from sensor_msgs.msg import PointCloud2, PointField

from twin_bridge.core.point_cloud import CLOUD_FIELDS, CLOUD_POINT_STEP, PointCloudData
from twin_bridge.ros.conversions import ns_to_time
from twin_bridge.ros.qos import qos_profile
from twin_bridge.twin.periodic_thread import PeriodicThread

__all__ = ['PointCloudPublisher', 'point_cloud_to_msg']


def point_cloud_to_msg(cloud: PointCloudData, stamp_ns: int,
                       frame_id: str | None = None) -> PointCloud2:
    """A cloud in the layout Gazebo's gpu_lidar gives through ros_gz_bridge: fields x, y, z,
    intensity (float32) and ring (uint16), 32-byte points, one row per ring."""
    msg = PointCloud2()
    msg.header.stamp = ns_to_time(stamp_ns)
    msg.header.frame_id = frame_id or cloud.frame_id
    msg.height, msg.width = cloud.height, cloud.width
    msg.fields = [PointField(name=name, offset=offset, datatype=datatype, count=count)
                  for name, offset, datatype, count in CLOUD_FIELDS]
    msg.is_bigendian = False
    msg.point_step = CLOUD_POINT_STEP
    msg.row_step = CLOUD_POINT_STEP * cloud.width
    data = array('B')
    data.frombytes(cloud.packed())
    msg.data = data
    msg.is_dense = cloud.is_dense
    return msg


class PointCloudPublisher:
    """Publishes ``backend.point_cloud()`` at ``rate_hz`` on a thread of its own, stamped like
    the scan (:meth:`ScanOutput.stamp_ns`), with the scan QoS.

    :param stamp: ``wall_ns -> stamp_ns`` of what the twin senses now
    :param frame_id: overrides the lidar's frame (``None``: the lidar's own)
    """

    def __init__(self, node: Node, backend: Any, topic: str, qos: str, depth: int,
                 rate_hz: float, stamp: Callable[[int], int], frame_id: str | None,
                 on_error: Callable[[BaseException], None]) -> None:
        self._backend = backend
        self._stamp = stamp
        self._frame_id = frame_id
        self._publisher = node.create_publisher(PointCloud2, topic, qos_profile(qos, depth))
        self.published = 0
        self._thread = PeriodicThread('twin_points', rate_hz, self._tick, on_error=on_error)

    def _tick(self) -> None:
        cloud = self._backend.point_cloud()
        if cloud is not None:
            self._publisher.publish(point_cloud_to_msg(cloud, self._stamp(time.time_ns()),
                                                       self._frame_id))
            self.published += 1

    def start(self) -> None:
        """Start publishing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing (waits for the thread)."""
        self._thread.stop()
