"""Bag messages (rosbags' CDR classes) <-> the core's samples, exactly as the node converts.

Decoding gives what ``twin_bridge.ros.conversions`` gives for the same message, bit for
bit (float64 poses and joints, float32 ranges), so a replay feeds the twin what the live
node fed it. Encoding builds the virtual streams a replay adds to a bag.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin_bridge.core import message_samples
from twin_bridge.core.lidar import ScanData
from twin_bridge.core.message_samples import odometry_sample, scan_sample
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.recording.message_types import typestore
from twin_bridge.twin.drift.pose_correction import PoseCorrection
from twin_bridge.twin.prediction import PredictedPath

__all__ = ['JOINT_STATE', 'LASER_SCAN', 'ODOMETRY', 'TWIST', 'TWIST_STAMPED', 'decode',
           'encode_joint_state', 'encode_odometry', 'encode_path', 'encode_pose_correction',
           'encode_scan', 'joint_state_sample', 'odometry_sample', 'scan_sample',
           'twist_of']

JOINT_STATE = 'sensor_msgs/msg/JointState'
ODOMETRY = 'nav_msgs/msg/Odometry'
LASER_SCAN = 'sensor_msgs/msg/LaserScan'
TWIST = 'geometry_msgs/msg/Twist'
TWIST_STAMPED = 'geometry_msgs/msg/TwistStamped'
_NS = 1_000_000_000


def decode(data: bytes | memoryview, msgtype: str) -> Any:
    """A CDR message as rosbags' message object."""
    return typestore().deserialize_cdr(data, msgtype)


def joint_state_sample(msg: Any) -> JointStateSample:
    """A decoded ``sensor_msgs/JointState`` as a sample (as ``joint_state_from_msg``)."""
    velocity, effort = msg.velocity, msg.effort
    return JointStateSample(tuple(msg.name), np.asarray(msg.position, dtype=np.float64),
                            np.asarray(velocity, dtype=np.float64) if len(velocity) else None,
                            np.asarray(effort, dtype=np.float64) if len(effort) else None,
                            message_samples.stamp_ns(msg.header))


def twist_of(msg: Any, msgtype: str) -> tuple[float, float]:
    """``(linear x, angular z)`` of a ``Twist`` or ``TwistStamped`` command."""
    twist = msg.twist if msgtype == TWIST_STAMPED else msg
    return float(twist.linear.x), float(twist.angular.z)


# -- encoding ------------------------------------------------------------------------------
def _types() -> Any:
    return typestore().types


def _header(stamp_ns: int, frame_id: str) -> Any:
    t = _types()
    sec, nsec = divmod(max(int(stamp_ns), 0), _NS)
    return t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](sec=sec,
                                                                          nanosec=nsec),
                                    frame_id=frame_id)


def _serialize(msg: Any, msgtype: str) -> bytes:
    return bytes(typestore().serialize_cdr(msg, msgtype))


def _f64(values: np.ndarray | None) -> np.ndarray:
    return np.zeros(0) if values is None else np.ascontiguousarray(values, dtype=np.float64)


def encode_joint_state(sample: JointStateSample) -> bytes:
    """A joint-state sample as CDR ``sensor_msgs/JointState``."""
    msg = _types()[JOINT_STATE](header=_header(sample.stamp_ns, ''), name=list(sample.names),
                                position=_f64(sample.positions),
                                velocity=_f64(sample.velocities),
                                effort=_f64(sample.efforts))
    return _serialize(msg, JOINT_STATE)


def _pose(x: float, y: float, z: float, q: np.ndarray) -> Any:
    t = _types()
    return t['geometry_msgs/msg/Pose'](
        position=t['geometry_msgs/msg/Point'](x=float(x), y=float(y), z=float(z)),
        orientation=t['geometry_msgs/msg/Quaternion'](x=float(q[0]), y=float(q[1]),
                                                      z=float(q[2]), w=float(q[3])))


def encode_odometry(sample: OdometrySample, frame_id: str = 'odom') -> bytes:
    """An odometry sample as CDR ``nav_msgs/Odometry`` (``frame_id`` -> its child frame)."""
    t = _types()
    vec = t['geometry_msgs/msg/Vector3']
    lin, ang = sample.linear_velocity, sample.angular_velocity
    msg = t[ODOMETRY](
        header=_header(sample.stamp_ns, frame_id), child_frame_id=sample.child_frame_id,
        pose=t['geometry_msgs/msg/PoseWithCovariance'](
            pose=_pose(*sample.position, sample.orientation), covariance=np.zeros(36)),
        twist=t['geometry_msgs/msg/TwistWithCovariance'](
            twist=t[TWIST](linear=vec(x=float(lin[0]), y=float(lin[1]), z=float(lin[2])),
                           angular=vec(x=float(ang[0]), y=float(ang[1]), z=float(ang[2]))),
            covariance=np.zeros(36)))
    return _serialize(msg, ODOMETRY)


def encode_scan(scan: ScanData, stamp_ns: int) -> bytes:
    """A scan (or a residual in a scan's layout) as CDR ``sensor_msgs/LaserScan``."""
    msg = _types()[LASER_SCAN](
        header=_header(stamp_ns, scan.frame_id), angle_min=float(scan.angle_min),
        angle_max=float(scan.angle_max), angle_increment=float(scan.angle_increment),
        time_increment=float(scan.time_increment), scan_time=float(scan.scan_time),
        range_min=float(scan.range_min), range_max=float(scan.range_max),
        ranges=np.ascontiguousarray(scan.ranges, dtype=np.float32),
        intensities=np.ascontiguousarray(scan.intensities, dtype=np.float32))
    return _serialize(msg, LASER_SCAN)


def _yaw_quat(yaw: float) -> np.ndarray:
    return np.array((0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)))


def encode_pose_correction(correction: PoseCorrection, frame_id: str = 'odom') -> bytes:
    """A pose correction as CDR ``geometry_msgs/PoseWithCovarianceStamped`` (x, y, yaw
    covariance in the 6x6 layout)."""
    t = _types()
    x, y, yaw = (float(v) for v in correction.pose)
    cov = np.zeros((6, 6))
    idx = np.array((0, 1, 5))
    cov[np.ix_(idx, idx)] = correction.covariance
    msg = t['geometry_msgs/msg/PoseWithCovarianceStamped'](
        header=_header(correction.stamp_ns, frame_id),
        pose=t['geometry_msgs/msg/PoseWithCovariance'](pose=_pose(x, y, 0.0, _yaw_quat(yaw)),
                                                       covariance=cov.ravel()))
    return _serialize(msg, 'geometry_msgs/msg/PoseWithCovarianceStamped')


def encode_path(path: PredictedPath, frame_id: str = 'odom') -> bytes:
    """A predicted path as CDR ``nav_msgs/Path`` (one pose per step, stamped at its time)."""
    t = _types()
    poses = [t['geometry_msgs/msg/PoseStamped'](
        header=_header(path.stamp_ns + int(dt * 1e9), frame_id),
        pose=_pose(x, y, path.z, _yaw_quat(yaw)))
        for dt, x, y, yaw in zip(path.times, path.x, path.y, path.yaw, strict=True)]
    msg = t['nav_msgs/msg/Path'](header=_header(path.stamp_ns, frame_id), poses=poses)
    return _serialize(msg, 'nav_msgs/msg/Path')
