"""What the twin concludes, as ROS messages: drift verdicts, pose corrections, world changes,
per-beam residuals and predicted paths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Path
from visualization_msgs.msg import Marker, MarkerArray

from twin_bridge.ros.conversions import ns_to_time
from twin_bridge.twin.drift.pose_correction import PoseCorrection
from twin_bridge.twin.prediction import PredictedPath

__all__ = [
    'DRIFT_STATUS_PREFIX',
    'drift_status_to_msg',
    'path_to_msg',
    'pose_correction_to_msg',
    'status_to_msg',
    'world_changes_to_msg',
]

#: Drift statuses on /diagnostics are named '<prefix><cause>' ('twin drift: pose', ...).
DRIFT_STATUS_PREFIX = 'twin drift: '
_LEVEL_WORDS = {0: 'ok', 1: 'suspected', 2: 'detected'}


def status_to_msg(name: str, level: int, message: str, values: Mapping[str, float | str],
                  hardware_id: str) -> DiagnosticStatus:
    """One ``DiagnosticStatus``; float values are written with 6 significant digits."""
    return DiagnosticStatus(
        level=bytes([int(level)]), name=name, message=message, hardware_id=hardware_id,
        values=[KeyValue(key=k, value=f'{v:.6g}' if isinstance(v, float) else str(v))
                for k, v in values.items()])


def drift_status_to_msg(cause: str, level: int, estimates: Mapping[str, float],
                        hardware_id: str) -> DiagnosticStatus:
    """A drift verdict as the ``twin drift: <cause>`` status, its estimates as values."""
    word = _LEVEL_WORDS.get(int(level), 'unknown')
    message = f'{cause} drift {word}' if level else 'ok'
    if level and estimates:
        message += ': ' + ', '.join(f'{k}={v:.3g}' for k, v in list(estimates.items())[:4])
    return status_to_msg(DRIFT_STATUS_PREFIX + cause, level, message, estimates, hardware_id)


def pose_correction_to_msg(correction: PoseCorrection, z: float,
                           frame_id: str = 'odom') -> PoseWithCovarianceStamped:
    """A scan-matched base pose as the ``PoseWithCovarianceStamped`` AMCL publishes (x, y and
    yaw filled; z, roll and pitch are not estimated and carry 0, as in ``amcl_pose``)."""
    msg = PoseWithCovarianceStamped()
    msg.header.stamp = ns_to_time(correction.stamp_ns)
    msg.header.frame_id = frame_id
    p = msg.pose.pose
    p.position.x, p.position.y, p.position.z = (float(correction.pose[0]),
                                                float(correction.pose[1]), float(z))
    o = p.orientation
    o.x, o.y, o.z, o.w = map(float, correction.quaternion())
    msg.pose.covariance = correction.covariance_6x6().tolist()
    return msg


def world_changes_to_msg(changes: Iterable[tuple[float, float, float]], stamp_ns: int,
                         frame_id: str = 'odom', z: float = 0.0) -> MarkerArray:
    """Changed places as markers: a DELETEALL, then per change a translucent cylinder
    (centre, diameter = 2 x extent) and a text label, namespace ``world_changes``."""
    stamp = ns_to_time(stamp_ns)
    clear = Marker(action=Marker.DELETEALL, ns='world_changes')
    clear.header.frame_id = frame_id
    markers = [clear]
    for i, (x, y, extent) in enumerate(changes):
        size = max(2.0 * float(extent), 0.05)
        disc = Marker(ns='world_changes', id=2 * i, type=Marker.CYLINDER, action=Marker.ADD)
        label = Marker(ns='world_changes', id=2 * i + 1, type=Marker.TEXT_VIEW_FACING,
                       action=Marker.ADD, text=f'world changed ({x:.2f}, {y:.2f})')
        for marker in (disc, label):
            marker.header.stamp = stamp
            marker.header.frame_id = frame_id
            marker.pose.position.x, marker.pose.position.y = float(x), float(y)
            marker.pose.orientation.w = 1.0
        disc.pose.position.z = z + 0.25
        disc.scale.x = disc.scale.y = size
        disc.scale.z = 0.5
        disc.color.r, disc.color.g, disc.color.b, disc.color.a = 1.0, 0.3, 0.1, 0.5
        label.pose.position.z = z + 0.8
        label.scale.z = 0.2
        label.color.r = label.color.g = label.color.b = label.color.a = 1.0
        markers += [disc, label]
    return MarkerArray(markers=markers)


def path_to_msg(path: PredictedPath, frame_id: str = 'odom') -> Path:
    """A predicted path as ``nav_msgs/Path``: one pose per step, stamped at its time."""
    msg = Path()
    msg.header.stamp = ns_to_time(path.stamp_ns)
    msg.header.frame_id = frame_id
    positions, orientations = path.positions(), path.orientations()
    for t, position, q in zip(path.times, positions, orientations, strict=True):
        pose = PoseStamped()
        pose.header.stamp = ns_to_time(path.stamp_ns + int(round(t * 1e9)))
        pose.header.frame_id = frame_id
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = map(float,
                                                                               position)
        o = pose.pose.orientation
        o.x, o.y, o.z, o.w = map(float, q)
        msg.poses.append(pose)
    return msg
