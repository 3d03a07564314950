"""ROS-shaped messages (rclpy's, or a bag reader's with the same fields) read into the core's
samples, duck-typed so the live node and offline replay convert them the same way."""

from __future__ import annotations

from typing import Any

import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import OdometrySample

__all__ = ['odometry_sample', 'scan_sample', 'stamp_ns']

_NS = 1_000_000_000


def stamp_ns(header: Any) -> int:
    """``header.stamp`` (``sec``, ``nanosec``) as integer nanoseconds."""
    return int(header.stamp.sec) * _NS + int(header.stamp.nanosec)


def odometry_sample(msg: Any) -> OdometrySample:
    """A ``nav_msgs/Odometry`` as a sample (pose and twist; covariances are dropped)."""
    pose, twist = msg.pose.pose, msg.twist.twist
    p, q = pose.position, pose.orientation
    lin, ang = twist.linear, twist.angular
    values = np.array((p.x, p.y, p.z, q.x, q.y, q.z, q.w, lin.x, lin.y, lin.z,
                       ang.x, ang.y, ang.z))
    return OdometrySample(values[0:3], values[3:7], values[7:10], values[10:13],
                          stamp_ns(msg.header), msg.header.frame_id, msg.child_frame_id)


def scan_sample(msg: Any, frame_id: str | None = None) -> ScanData:
    """A ``sensor_msgs/LaserScan`` as :class:`ScanData` with its stamp (ranges and
    intensities float32; ``frame_id`` overrides the message's)."""
    return ScanData(frame_id or msg.header.frame_id, float(msg.angle_min),
                    float(msg.angle_max), float(msg.angle_increment),
                    float(msg.time_increment), float(msg.scan_time), float(msg.range_min),
                    float(msg.range_max), np.asarray(msg.ranges, dtype=np.float32),
                    np.asarray(msg.intensities, dtype=np.float32), stamp_ns(msg.header))
