"""Conversions between ROS messages and the core's plain samples (no copies beyond one each)."""

from __future__ import annotations

from array import array
from collections.abc import Iterable
import math

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
import numpy as np
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.message_samples import odometry_sample, scan_sample
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.twin.stream_monitor import StreamStatus

__all__ = [
    'diagnostics_to_msg',
    'joint_state_from_msg',
    'joint_state_to_msg',
    'ns_to_time',
    'odometry_from_msg',
    'odometry_to_msg',
    'scan_from_msg',
    'scan_to_msg',
    'set_odometry_state',
    'set_twist',
    'time_to_ns',
    'twist_command',
]

_NS = 1_000_000_000


def twist_command(twist: object) -> tuple[float, float]:
    """A ``geometry_msgs/Twist`` as the planar command ``(linear.x, angular.z)``; NaN when any
    component is not finite (a corrupt message is an invalid command, never a partial one)."""
    lin, ang = twist.linear, twist.angular
    if not math.isfinite(lin.y + lin.z + ang.x + ang.y):
        return math.nan, math.nan
    return lin.x, ang.z


def set_twist(twist: object, linear: float, angular: float) -> None:
    """Write the planar command into a ``geometry_msgs/Twist`` in place (other components 0)."""
    twist.linear.x, twist.linear.y, twist.linear.z = float(linear), 0.0, 0.0
    twist.angular.x, twist.angular.y, twist.angular.z = 0.0, 0.0, float(angular)


def time_to_ns(stamp: Time) -> int:
    """``builtin_interfaces/Time`` → integer nanoseconds."""
    return stamp.sec * _NS + stamp.nanosec


def ns_to_time(ns: int) -> Time:
    """Integer nanoseconds → ``builtin_interfaces/Time`` (negative values clamp to 0)."""
    ns = max(int(ns), 0)
    return Time(sec=ns // _NS, nanosec=ns % _NS)


def _floats(values: Iterable[float]) -> np.ndarray:
    """A message's float64 sequence as an array: a view of an ``array('d')`` (what rclpy
    hands out), a copy of anything else."""
    if isinstance(values, array) and values.typecode == 'd':
        return np.frombuffer(values, dtype=np.float64)
    return np.array(values, dtype=np.float64)


def _float64_array(values: np.ndarray) -> array:
    return array('d', np.ascontiguousarray(values, dtype=np.float64).tobytes())


def _set_stamp(header: object, ns: int) -> None:
    """Write ``ns`` into ``header.stamp`` in place (negative values clamp to 0)."""
    stamp = header.stamp
    stamp.sec, stamp.nanosec = divmod(max(int(ns), 0), _NS)


def joint_state_from_msg(msg: JointState) -> JointStateSample:
    """A ``sensor_msgs/JointState`` as a sample (not validated: lengths may disagree). The
    arrays are views of the message's: it must not be modified afterwards."""
    velocity, effort = msg.velocity, msg.effort
    return JointStateSample(tuple(msg.name), _floats(msg.position),
                            _floats(velocity) if len(velocity) else None,
                            _floats(effort) if len(effort) else None,
                            time_to_ns(msg.header.stamp))


def joint_state_to_msg(sample: JointStateSample, frame_id: str = '',
                       msg: JointState | None = None) -> JointState:
    """A joint-state sample as ``sensor_msgs/JointState`` stamped with ``sample.stamp_ns``.

    :param msg: a message to rewrite in place (a publisher's reused one) instead of a new one
    """
    if msg is None:
        msg = JointState()
    _set_stamp(msg.header, sample.stamp_ns)
    msg.header.frame_id = frame_id
    msg.name = list(sample.names)
    msg.position = _float64_array(sample.positions)
    msg.velocity = (_float64_array(sample.velocities) if sample.velocities is not None
                    else array('d'))
    msg.effort = _float64_array(sample.efforts) if sample.efforts is not None else array('d')
    return msg


def odometry_from_msg(msg: Odometry) -> OdometrySample:
    """A ``nav_msgs/Odometry`` as a sample (pose and twist; covariances are dropped)."""
    return odometry_sample(msg)


def odometry_to_msg(sample: OdometrySample, frame_id: str, child_frame_id: str,
                    msg: Odometry | None = None) -> Odometry:
    """An odometry sample as ``nav_msgs/Odometry`` in ``frame_id`` → ``child_frame_id``.

    :param msg: a message to rewrite in place (a publisher's reused one) instead of a new one
    """
    if msg is None:
        msg = Odometry()
    header = msg.header
    _set_stamp(header, sample.stamp_ns)
    if header.frame_id != frame_id:  # a reused message keeps its frames
        header.frame_id = frame_id
    if msg.child_frame_id != child_frame_id:
        msg.child_frame_id = child_frame_id
    set_odometry_state(msg, sample)
    return msg


def set_odometry_state(msg: Odometry, sample: OdometrySample) -> None:
    """Write ``sample``'s pose and twist into ``msg`` in place (header and frames untouched),
    for a publisher that reuses one message."""
    pose = msg.pose.pose
    p, q = pose.position, pose.orientation
    p.x, p.y, p.z = sample.position.tolist()
    q.x, q.y, q.z, q.w = sample.orientation.tolist()
    twist = msg.twist.twist
    lin, ang = twist.linear, twist.angular
    lin.x, lin.y, lin.z = sample.linear_velocity.tolist()
    ang.x, ang.y, ang.z = sample.angular_velocity.tolist()


def scan_to_msg(scan: ScanData, stamp_ns: int, frame_id: str | None = None) -> LaserScan:
    """A scan as ``sensor_msgs/LaserScan`` (``frame_id`` overrides the scan's own)."""
    msg = LaserScan()
    msg.header.stamp = ns_to_time(stamp_ns)
    msg.header.frame_id = frame_id or scan.frame_id
    msg.angle_min = float(scan.angle_min)
    msg.angle_max = float(scan.angle_max)
    msg.angle_increment = float(scan.angle_increment)
    msg.time_increment = float(scan.time_increment)
    msg.scan_time = float(scan.scan_time)
    msg.range_min = float(scan.range_min)
    msg.range_max = float(scan.range_max)
    msg.ranges = array('f', np.ascontiguousarray(scan.ranges, dtype=np.float32).tobytes())
    if len(scan.intensities):
        msg.intensities = array(
            'f', np.ascontiguousarray(scan.intensities, dtype=np.float32).tobytes())
    return msg


def scan_from_msg(msg: LaserScan, frame_id: str | None = None) -> ScanData:
    """A ``sensor_msgs/LaserScan`` as :class:`ScanData` with its stamp (``frame_id``
    overrides the message's)."""
    return scan_sample(msg, frame_id)


def diagnostics_to_msg(statuses: Iterable[StreamStatus], stamp_ns: int, hardware_id: str,
                       prefix: str = 'twin_bridge') -> DiagnosticArray:
    """Stream statuses as one ``DiagnosticArray``; each status is named ``'<prefix>: <stream>'``."""
    msg = DiagnosticArray()
    msg.header.stamp = ns_to_time(stamp_ns)
    for status in statuses:
        msg.status.append(DiagnosticStatus(
            level=bytes([int(status.level)]),
            name=f'{prefix}: {status.name}',
            message=status.message,
            hardware_id=hardware_id,
            values=[KeyValue(key=k, value=v) for k, v in status.values],
        ))
    return msg
