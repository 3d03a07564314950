"""The bag a replay writes: every input message as recorded, plus the twin's virtual streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twin_bridge.recording import samples as bs
from twin_bridge.recording.bag_reader import BagMessage, BagReader
from twin_bridge.recording.bag_writer import BagWriter
from twin_bridge.recording.qos_profiles import QosProfile
from twin_bridge.twin.twin_session import INPUT_JOINT_STATES, INPUT_ODOM

__all__ = ['VIRTUAL_TOPICS', 'VirtualBag']

#: The virtual streams a replay adds: topic -> type (the live node's default names).
VIRTUAL_TOPICS = {
    '/virtual/joint_states': bs.JOINT_STATE,
    '/virtual/odom': bs.ODOMETRY,
    '/virtual/scan': bs.LASER_SCAN,
    '/virtual/scan_residual': bs.LASER_SCAN,
    '/virtual/pose_correction': 'geometry_msgs/msg/PoseWithCovarianceStamped',
    '/virtual/predicted_path': 'nav_msgs/msg/Path',
}
_RELIABLE = QosProfile()
_SENSOR = QosProfile(reliability='best_effort', depth=10)


class VirtualBag:
    """A new bag at ``path`` with the input bag's topics (same types and offered QoS) and
    the virtual streams, each stamped as the live node stamps it and logged at the receive
    time of the input that produced it."""

    def __init__(self, path: str | Path, source: BagReader, odom_frame: str = 'odom') -> None:
        self.writer = BagWriter(path)
        self._odom_frame = odom_frame
        self._handles: dict[str, int] = {}
        for topic, msgtype in source.topics.items():
            self._handles[topic] = self.writer.add_topic(topic, msgtype,
                                                         source.offered_qos(topic))
        for topic, msgtype in VIRTUAL_TOPICS.items():
            if topic not in self._handles:
                qos = _SENSOR if msgtype == bs.LASER_SCAN else _RELIABLE
                self._handles[topic] = self.writer.add_topic(topic, msgtype, [qos])

    def copy(self, msg: BagMessage) -> None:
        """Write an input message unchanged."""
        self.writer.write(self._handles[msg.topic], msg.log_time_ns, msg.data)

    def _write(self, topic: str, log_ns: int, data: bytes) -> None:
        self.writer.write(self._handles[topic], log_ns, data)

    def mirrored(self, stream: str, sample: Any, log_ns: int) -> None:
        """The mirrored joint state or odometry an accepted input produced."""
        if stream == 'joint_states':
            self._write('/virtual/joint_states', log_ns, bs.encode_joint_state(sample))
        elif stream == 'odom':
            self._write('/virtual/odom', log_ns, bs.encode_odometry(sample, self._odom_frame))

    def virtual_scan(self, twin: Any, log_ns: int) -> None:
        """The twin's own scan now, stamped with its newest input (as the node does)."""
        scan = twin.backend.scan()
        if scan is not None:
            stamps = [twin.session.last_stamp(s) for s in (INPUT_JOINT_STATES, INPUT_ODOM)]
            stamp_ns = max((s for s in stamps if s is not None), default=log_ns)
            self._write('/virtual/scan', log_ns, bs.encode_scan(scan, stamp_ns))

    def drift(self, report: Any, log_ns: int) -> None:
        """A drift report's residual and pose correction."""
        if report.residual is not None:
            self._write('/virtual/scan_residual', log_ns,
                        bs.encode_scan(report.residual, report.stamp_ns))
        if report.pose_correction is not None:
            self._write('/virtual/pose_correction', log_ns,
                        bs.encode_pose_correction(report.pose_correction, self._odom_frame))

    def path(self, path: Any, log_ns: int) -> None:
        """A predicted path."""
        self._write('/virtual/predicted_path', log_ns, bs.encode_path(path, self._odom_frame))

    def close(self) -> None:
        """Finish the bag."""
        self.writer.close()
