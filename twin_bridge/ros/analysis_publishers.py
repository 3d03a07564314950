"""The twin node's analysis outputs: drift reports and predicted paths, on their own threads.

The drift check and the prediction run off the executor thread (on
:class:`~twin_bridge.twin.periodic_thread.PeriodicThread`), so neither delays the mirroring
of an input; this module holds their publishers and the conversion of what they find.
"""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseWithCovarianceStamped
from nav_msgs.msg import Path
from rclpy.node import Node
from sensor_msgs.msg import LaserScan
from visualization_msgs.msg import MarkerArray

from twin_bridge.ros.analysis_conversions import (
    drift_status_to_msg,
    path_to_msg,
    pose_correction_to_msg,
    status_to_msg,
    world_changes_to_msg,
)
from twin_bridge.ros.conversions import scan_to_msg
from twin_bridge.ros.qos import qos_profile
from twin_bridge.twin.digital_twin import DigitalTwin
from twin_bridge.twin.node_config import TwinNodeConfig
from twin_bridge.twin.periodic_thread import PeriodicThread

__all__ = ['DRIFT_POLL_HZ', 'AnalysisPublishers']

#: How often the drift thread looks for physical scans to compare (Hz).
DRIFT_POLL_HZ = 50.0


class AnalysisPublishers:
    """Publishers and threads of the drift check and the prediction of one twin node.

    :param node: the twin node (publishers are created on it)
    :param config: its parameters
    :param twin: the twin whose drift and prediction are published
    :param on_error: called with an exception a thread's work raised
    """

    def __init__(self, node: Node, config: TwinNodeConfig, twin: DigitalTwin,
                 on_error) -> None:
        self._node, self._config, self._twin = node, config, twin
        self._threads: list[PeriodicThread] = []
        self._world_shown = False
        if twin.drift_monitor is not None:
            reliable = qos_profile('reliable', config.qos_depth)
            self._residual_pub = node.create_publisher(
                LaserScan, config.output_scan_residual_topic,
                qos_profile('sensor_data', config.qos_depth))
            self._pose_pub = node.create_publisher(
                PoseWithCovarianceStamped, config.output_pose_correction_topic, reliable)
            self._world_pub = node.create_publisher(
                MarkerArray, config.output_world_changes_topic, reliable)
            self._threads.append(PeriodicThread('twin_drift', DRIFT_POLL_HZ, self._check_drift,
                                                on_error=on_error))
        if config.prediction_rate > 0:
            self._path_pub = node.create_publisher(
                Path, config.output_predicted_path_topic, qos_profile('reliable', 1))
            self._threads.append(PeriodicThread('twin_prediction', config.prediction_rate,
                                                self._predict, on_error=on_error))
        if config.ensemble_rate > 0 and twin.prediction.has_ensemble:
            self._threads.append(PeriodicThread('twin_ensemble', config.ensemble_rate,
                                                twin.predict_ensemble, on_error=on_error))

    def start(self) -> None:
        """Start the drift and prediction threads."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the threads (each finishes its current work)."""
        for thread in self._threads:
            thread.stop()

    def _check_drift(self) -> None:  # on the drift thread
        report = self._twin.process_drift()
        if report is None:
            return
        odom = self._config.odom_frame
        if report.residual is not None:
            self._residual_pub.publish(scan_to_msg(report.residual, report.stamp_ns))
        if report.pose_correction is not None:
            state = self._twin.backend.odometry()
            z = float(state.position[2]) if state is not None else 0.0
            self._pose_pub.publish(pose_correction_to_msg(report.pose_correction, z, odom))
        if report.world_changes or self._world_shown:
            # Markers while the world differs; one clearing message once it agrees again.
            self._world_pub.publish(world_changes_to_msg(report.world_changes,
                                                         report.stamp_ns, odom))
            self._world_shown = bool(report.world_changes)

    def _predict(self) -> None:  # on the prediction thread
        path = self._twin.predict(self._config.prediction_horizon)
        if path is not None:
            self._path_pub.publish(path_to_msg(path, self._config.odom_frame))

    def statuses(self, hardware_id: str) -> list[DiagnosticStatus]:
        """``twin drift: <cause>`` statuses, the drift check's own counts, and ``twin
        prediction`` (1 s-ahead errors, ensemble coverage, time to collision)."""
        twin = self._twin
        out = []
        if twin.drift_monitor is not None:
            out = [drift_status_to_msg(cause, int(v.level), v.estimates, hardware_id)
                   for cause, v in twin.drift().items()]
            counts = dict(twin.drift_counts)
            out.append(status_to_msg('twin drift: check', 0,
                                     f'{counts["checked"]} scans compared', counts,
                                     hardware_id))
        if self._config.prediction_rate > 0 or self._config.ensemble_rate > 0:
            status = twin.prediction.status()
            out.append(status_to_msg('twin prediction', status.level, status.message,
                                     status.values, hardware_id))
        return out
