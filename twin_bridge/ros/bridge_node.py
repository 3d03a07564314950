"""The ``twin_bridge`` node: physical joint_states/odom in, virtual joint_states/odom/scan out."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import ParameterDescriptor
import rclpy
from rclpy.exceptions import NameValidationException, ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import JointState, LaserScan
from visualization_msgs.msg import MarkerArray

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_description import (
    RobotDescription,
    default_robot_path,
    load_robot_description,
)
from twin_bridge.errors import BackendError, TwinBridgeError
from twin_bridge.ros.analysis_publishers import AnalysisPublishers
from twin_bridge.ros.command_gate_io import gate_io
from twin_bridge.ros.conversions import (
    diagnostics_to_msg,
    joint_state_from_msg,
    joint_state_to_msg,
    odometry_from_msg,
    odometry_to_msg,
    scan_from_msg,
    scan_to_msg,
)
from twin_bridge.ros.qos import qos_profile
from twin_bridge.ros.shutdown import shut_down_by_signal
from twin_bridge.twin.digital_twin import DigitalTwin, TwinConfig
from twin_bridge.twin.node_config import PARAMETERS, TwinNodeConfig, help_text, wants_help
from twin_bridge.twin.periodic_thread import PeriodicThread
from twin_bridge.twin.twin_session import INPUT_JOINT_STATES, INPUT_ODOM, INPUT_SCAN, InputOutcome

NODE_NAME = 'twin_bridge'
WARN_THROTTLE_S = 2.0
#: The twin's world as markers (relative: it follows the node's namespace).
WORLD_TOPIC = 'virtual/world'


def load_robot(config: TwinNodeConfig) -> RobotDescription:
    """The robot from ``robot_description`` (XML), else the xacro/URDF file (default robot)."""
    if config.robot_description.strip():
        return load_robot_description(config.robot_description, lidar_sensor=config.lidar_sensor)
    path = config.robot_description_file or default_robot_path()
    return load_robot_description(path, config.xacro_args or None,
                                  lidar_sensor=config.lidar_sensor)


def make_backend(node: Node, config: TwinNodeConfig, robot: RobotDescription) -> SimulatorBackend:
    """The simulator named by ``config.backend``; Gazebo's is imported only when chosen."""
    if config.backend == 'gazebo':
        try:
            from twin_bridge.ros.gazebo_backend import GazeboBackend
        except ImportError as exc:
            raise BackendError(f'the gazebo backend needs a ROS 2 Jazzy install with ros_gz '
                               f'(apt install ros-jazzy-ros-gz): {exc}') from exc
        return GazeboBackend(node, robot, world=config.world, model_name=config.model_name,
                             gz_world_name=config.gz_world_name,
                             gz_topic_prefix=config.gz_topic_prefix)
    from twin_bridge.embedded.embedded_backend import EmbeddedBackend
    return EmbeddedBackend(config.world, robot)


class TwinBridgeNode(Node):
    """Wires topics and timers to a :class:`TwinSession`; all logic lives in the core."""

    def __init__(self, **kwargs: Any) -> None:
        """:param kwargs: passed on to :class:`rclpy.node.Node` (e.g. ``context``)"""
        super().__init__(NODE_NAME, **kwargs)
        self.backend: SimulatorBackend | None = None
        self._scan_thread: PeriodicThread | None = None
        self._view: Any = None  # a LiveView with viewer:=true
        self._health_lock = threading.Lock()  # session health, shared with the scan thread
        cfg = self.config = TwinNodeConfig.from_values(self._declare_parameters())
        cfg.check_topics(self.resolve_topic_name)  # no output may feed an input
        self.robot = load_robot(cfg)
        self.backend = make_backend(self, cfg, self.robot)
        scan_rate = cfg.scan_rate_for(self.backend.lidar)
        self.twin = DigitalTwin(
            cfg.world, self.robot, backend=self.backend, now=time.monotonic(),
            config=TwinConfig(session=cfg.session_config(scan_rate), drift=cfg.drift_check,
                              false_alarm_rate=cfg.drift_false_alarm_rate,
                              scan_noise_stddev=cfg.scan_noise_stddev,
                              prediction_horizon=cfg.prediction_horizon,
                              ensemble_members=cfg.ensemble_members,
                              gate=cfg.gate_config()))
        self.session = self.twin.session
        # One logger per input stream: rclpy throttles per logger and call site.
        self._input_loggers = {stream: self.get_logger().get_child(stream)
                               for stream in (INPUT_JOINT_STATES, INPUT_ODOM, INPUT_SCAN)}

        state_qos = qos_profile(cfg.state_qos, cfg.qos_depth)
        self._joints_pub = self.create_publisher(JointState, cfg.output_joint_states_topic,
                                                 state_qos)
        self._odom_pub = self.create_publisher(Odometry, cfg.output_odom_topic, state_qos)
        # One message per output, rewritten for each publication (publish() serialises it).
        self._joints_msg, self._odom_msg = JointState(), Odometry()
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._scan_pub = None
        if scan_rate > 0:
            self._scan_pub = self.create_publisher(LaserScan, cfg.output_scan_topic,
                                                   qos_profile(cfg.scan_qos, cfg.qos_depth))
            # Scans are cast and published on a thread of their own, never in the way of
            # an input; the health lock keeps the scan monitor consistent for diagnostics.
            self._scan_thread = PeriodicThread('twin_scan', scan_rate, self._publish_scan,
                                               on_error=self._thread_failed)
        else:
            self.get_logger().warning(f'robot "{self.robot.name}" has no lidar: no scan output')
        self._points = None  # a 3D lidar's every ring on virtual/points (embedded backend)
        lidar = self.backend.lidar
        if (scan_rate > 0 and lidar.vertical_samples > 1 and hasattr(self.backend, 'point_cloud')
                and self.session.scan_out is not None):
            from twin_bridge.ros.point_cloud_io import PointCloudPublisher
            self._points = PointCloudPublisher(
                self, self.backend, cfg.output_points_topic, cfg.scan_qos, cfg.qos_depth,
                scan_rate, self.session.scan_out.stamp_ns, cfg.lidar_frame or None,
                self._thread_failed)
        # Keep-last queues of qos_depth: a slow twin drops old inputs, never queues them all.
        input_qos = qos_profile(cfg.input_qos, cfg.qos_depth)
        self.create_subscription(JointState, cfg.input_joint_states_topic,
                                 self._on_joint_state, input_qos)
        self.create_subscription(Odometry, cfg.input_odom_topic, self._on_odometry, input_qos)
        if cfg.input_scan_topic and self.twin.wants_scans:  # the drift check, the gate
            self.create_subscription(LaserScan, cfg.input_scan_topic, self._on_scan,
                                     qos_profile('sensor_data', cfg.qos_depth))
        self._analysis = AnalysisPublishers(self, cfg, self.twin, self._thread_failed)
        self._gate = gate_io(self, cfg, self.twin)  # cmd_vel -> virtual/cmd_vel_safe
        self._world_pub = self._publish_world()  # virtual/world, latched: RViz, Foxglove, bags
        if cfg.viewer:  # the live view for Foxglove, on a thread of its own
            from twin_bridge.twin.live_view import LiveView  # foxglove only when asked for
            self._view = LiveView(self.twin, port=cfg.viewer_port)
            self.get_logger().info(
                f'live view for Foxglove on ws://localhost:{self._view.port}')
        if cfg.joint_states_rate > 0:
            self.create_timer(1.0 / cfg.joint_states_rate,
                              lambda: self._publish_joint_states(
                                  self.session.joint_states_out.take()))
        if cfg.odom_rate > 0:
            self.create_timer(1.0 / cfg.odom_rate,
                              lambda: self._publish_odometry(self.session.odom_out.take()))
        self.create_timer(cfg.diagnostics_period, self._publish_diagnostics)
        self._recording = None  # record: the same recorder as twin_record, on its own thread
        if cfg.record:
            from twin_bridge.ros.recorder_node import NodeRecording, twin_topics
            self._recording = NodeRecording(self.context, cfg.record, twin_topics(self, cfg))
        self.create_timer(min(cfg.stale_timeout / 4, cfg.diagnostics_period), self._check_health)
        self.get_logger().info(
            f'twin of "{self.robot.name}" in world "{cfg.world}" ({cfg.backend} backend); '
            f'{self.resolve_topic_name(cfg.input_joint_states_topic)} + '
            f'{self.resolve_topic_name(cfg.input_odom_topic)} -> '
            f'{self.resolve_topic_name(cfg.output_joint_states_topic)}, '
            f'{self.resolve_topic_name(cfg.output_odom_topic)}'
            + (f', {self.resolve_topic_name(cfg.output_scan_topic)} at {scan_rate:g} Hz'
               if self._scan_pub is not None else ''))

    def _publish_world(self) -> Any:
        """Publish the twin's world (collision geometry of its embedded model) once on
        ``virtual/world`` as a latched ``MarkerArray``; ``None`` without an embedded model."""
        from twin_bridge.ros.world_markers import world_markers_to_msg
        from twin_bridge.twin.twin_scene import scene_geometry
        geometry = scene_geometry(self.twin)
        if geometry is None:
            return None
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        publisher = self.create_publisher(MarkerArray, WORLD_TOPIC, latched)
        publisher.publish(world_markers_to_msg(geometry, self.config.odom_frame,
                                               self._wall_ns()))
        return publisher

    def _declare_parameters(self) -> dict[str, object]:
        values = {}
        for name, (default, description) in PARAMETERS.items():
            # Dynamic typing: "-p scan_rate:=20" (an int) is accepted and checked by the core.
            descriptor = ParameterDescriptor(description=description, read_only=True,
                                             dynamic_typing=True)
            values[name] = self.declare_parameter(name, default, descriptor).value
        return values

    @staticmethod
    def _wall_ns() -> int:
        # Physical samples are stamped with wall-clock time (even when this node runs with
        # use_sim_time for Gazebo), so stamps are checked against - and default to - the wall.
        return time.time_ns()

    # -- inputs ------------------------------------------------------------------------------
    def _on_joint_state(self, msg: JointState) -> None:
        outcome = self.session.on_joint_state(joint_state_from_msg(msg), time.monotonic(),
                                              self._wall_ns())
        self._publish_joint_states(outcome.output)
        self._report(outcome)

    def _on_odometry(self, msg: Odometry) -> None:
        sample = odometry_from_msg(msg)
        outcome = self.session.on_odometry(sample, time.monotonic(), self._wall_ns())
        self._publish_odometry(outcome.output)
        self._report(outcome)
        if self._view is not None and outcome.accepted:
            self._view.show_physical_odometry(sample)

    def _on_scan(self, msg: LaserScan) -> None:
        scan = scan_from_msg(msg)
        outcome = self.twin.on_scan(scan, time.monotonic(), self._wall_ns())
        self._report(outcome)
        if self._view is not None and outcome.accepted:
            self._view.show_physical_scan(scan)

    def _report(self, outcome: InputOutcome) -> None:
        if outcome.accepted and not outcome.notes and not outcome.recovered:
            return
        logger = self._input_loggers[outcome.stream]
        if outcome.recovered:
            logger.info(f'{outcome.stream}: receiving again')
        if outcome.notes:  # each occasion once, but input-made names can make many
            logger.warning('; '.join(outcome.notes), throttle_duration_sec=WARN_THROTTLE_S)
        if not outcome.accepted:
            logger.warning(outcome.describe(), throttle_duration_sec=WARN_THROTTLE_S)

    # -- outputs -----------------------------------------------------------------------------
    def _publish_joint_states(self, sample: JointStateSample | None) -> None:
        if sample is not None:
            self._joints_pub.publish(joint_state_to_msg(sample, msg=self._joints_msg))
            self.session.joint_states_out.published(time.monotonic())

    def _publish_odometry(self, sample: OdometrySample | None) -> None:
        if sample is not None:
            # The session names the frame whose pose this is; base_frame only relabels it.
            self._odom_pub.publish(odometry_to_msg(
                sample, self.config.odom_frame, self.config.base_frame or sample.child_frame_id,
                self._odom_msg))
            self.session.odom_out.published(time.monotonic())

    def _publish_scan(self) -> None:  # on the scan thread
        result = self.session.scan_out.take(self._wall_ns())
        if result is not None:
            scan, stamp_ns = result
            self._scan_pub.publish(scan_to_msg(scan, stamp_ns, self.config.lidar_frame or None))
            if self._view is not None:
                self._view.show_virtual_scan(scan, stamp_ns)
            with self._health_lock:
                self.session.scan_out.published(time.monotonic())

    def _thread_failed(self, exc: BaseException) -> None:  # on a worker thread
        if not self.context.ok():
            return  # shutting down: the publishers are gone, nothing to report
        self.get_logger().error(f'{threading.current_thread().name} failed: '
                                f'{type(exc).__name__}: {exc}', throttle_duration_sec=5.0)

    # -- health ------------------------------------------------------------------------------
    def _check_health(self) -> None:
        with self._health_lock:
            events = self.session.poll(time.monotonic())
        for event in events:
            self.get_logger().warning(event)

    def _publish_diagnostics(self) -> None:
        with self._health_lock:
            statuses = self.session.statuses(time.monotonic())
        msg = diagnostics_to_msg(statuses, self.get_clock().now().nanoseconds,
                                 self.config.model_name)
        msg.status.extend(self._analysis.statuses(self.config.model_name))
        if self._gate is not None:
            msg.status.extend(self._gate.statuses(self.config.model_name))
        if self._recording is not None:
            from twin_bridge.ros.recorder_node import recording_status
            msg.status.append(recording_status(self._recording, self.config.model_name))
        self._diag_pub.publish(msg)

    def start(self) -> None:
        """Start the scan, drift and prediction threads (once the node is in an executor)."""
        if self._scan_thread is not None:
            self._scan_thread.start()
        if self._points is not None:
            self._points.start()
        self._analysis.start()
        if self._view is not None:
            self._view.start()

    def close(self) -> list[str]:
        """Stop scanning, release the simulator; return the per-stream summary for the
        shutdown log."""
        if getattr(self, '_gate', None) is not None:
            self._gate.close()   # its own thread: no command judged while the twin closes
            self._gate = None
        if self._scan_thread is not None:
            self._scan_thread.stop()
        if getattr(self, '_points', None) is not None:
            self._points.stop()
        if hasattr(self, '_analysis'):
            self._analysis.stop()
        if getattr(self, '_view', None) is not None:
            self._view.close()
        recorded = []
        if getattr(self, '_recording', None) is not None:
            stats = self._recording.close()  # the bag is complete and closed
            recorded = [f'recording: {stats.written} messages into {stats.path}, '
                        f'{stats.dropped_total} dropped' + (f', {stats.error}' * bool(stats.error))]
            self._recording = None
        with self._health_lock:
            lines = (self.session.summary_lines(time.monotonic()) if hasattr(self, 'session')
                     else []) + recorded
        if hasattr(self, 'twin'):
            self.twin.close()  # the backend and the judge model
        elif self.backend is not None:
            self.backend.close()
        self.backend = None
        return lines


def main(args: list[str] | None = None) -> int:
    """Run the node until SIGINT/SIGTERM. :return: 0 on a clean stop, 1 if it cannot start."""
    argv = sys.argv[1:] if args is None else list(args)
    if wants_help(argv):
        print(help_text())
        return 0
    # rclpy's own handlers turn SIGINT and SIGTERM (launch, systemd, docker stop) into a
    # context shutdown that wakes the executor: both end in the same clean path below.
    rclpy.init(args=[sys.argv[0], *argv], signal_handler_options=SignalHandlerOptions.ALL)
    # Created before the node so a signal during start-up finds it and spin() just returns.
    executor = SingleThreadedExecutor()
    node = None
    code = 0
    try:
        node = TwinBridgeNode()
        executor.add_node(node)
        node.start()
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (TwinBridgeError, ParameterException, NameValidationException) as exc:
        rclpy.logging.get_logger(NODE_NAME).fatal(f'cannot start: {exc}')
        code = 1
    except Exception:
        if not shut_down_by_signal():
            raise  # a bug: let the traceback show
        # A signal shut the context down while the node was being built, or it landed
        # inside rclpy's C++ take and surfaced as a pybind11 RuntimeError: a clean stop.
    finally:
        if node is not None:
            summary = node.close()
            node.destroy_node()  # first: after a signal, /rosout can no longer be published
            if summary:
                rclpy.logging.get_logger(NODE_NAME).info('summary:\n  ' + '\n  '.join(summary))
        executor.shutdown()
        rclpy.try_shutdown()
    return code


if __name__ == '__main__':
    sys.exit(main())
