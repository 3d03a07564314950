"""The ``twin_fleet`` node: many robots in one twin, per-robot topics under ``/<ns>/``."""

from __future__ import annotations

from functools import partial
import gc
import sys
import threading
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import ParameterDescriptor
import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.errors import TwinBridgeError
from twin_bridge.fleet.fleet_config import FLEET_PARAMETERS, FleetNodeConfig, fleet_help_text
from twin_bridge.fleet.fleet_twin import FleetTwin
from twin_bridge.ros.conversions import (
    diagnostics_to_msg,
    joint_state_from_msg,
    joint_state_to_msg,
    ns_to_time,
    odometry_from_msg,
    odometry_to_msg,
    scan_to_msg,
)
from twin_bridge.ros.qos import qos_profile
from twin_bridge.ros.shutdown import shut_down_by_signal
from twin_bridge.twin.node_config import wants_help
from twin_bridge.twin.periodic_thread import PeriodicThread
from twin_bridge.twin.session_types import InputOutcome

NODE_NAME = 'twin_fleet'
WARN_THROTTLE_S = 2.0


class _RobotIO:
    """One served robot's publishers and reused messages."""

    def __init__(self, node: Node, ns: str, prefix: str, cfg: FleetNodeConfig) -> None:
        state_qos = qos_profile(cfg.state_qos, cfg.qos_depth)
        self.joints = node.create_publisher(JointState, f'/{ns}/virtual/joint_states',
                                            state_qos)
        self.odom = node.create_publisher(Odometry, f'/{ns}/virtual/odom', state_qos)
        self.scan = node.create_publisher(LaserScan, f'/{ns}/virtual/scan',
                                          qos_profile(cfg.scan_qos, cfg.qos_depth))
        self.prefix = prefix
        self.joints_msg, self.odom_msg = JointState(), Odometry()
        self.logger = node.get_logger().get_child(ns.replace('/', '.'))


class FleetTwinNode(Node):
    """Wires per-robot topics to a :class:`~twin_bridge.fleet.fleet_twin.FleetTwin`."""

    def __init__(self, **kwargs: Any) -> None:
        """:param kwargs: passed on to :class:`rclpy.node.Node` (e.g. ``context``)"""
        super().__init__(NODE_NAME, **kwargs)
        self._scan_thread: PeriodicThread | None = None
        self._health_lock = threading.Lock()  # session health, shared with the scan thread
        values = {}
        for name, (default, description) in FLEET_PARAMETERS.items():
            descriptor = ParameterDescriptor(description=description, read_only=True,
                                             dynamic_typing=True)
            values[name] = self.declare_parameter(name, default, descriptor).value
        cfg = self.config = FleetNodeConfig.from_values(values)
        fleet = cfg.fleet()
        self.twin = FleetTwin(fleet, shard=cfg.shard, scan_rate=cfg.scan_rate,
                              now=time.monotonic(),
                              seed=None if cfg.lidar_seed < 0 else cfg.lidar_seed)
        input_qos = qos_profile(cfg.input_qos, cfg.qos_depth)
        self._io: dict[str, _RobotIO] = {}
        for ns in self.twin.local:
            io = self._io[ns] = _RobotIO(self, ns, fleet.robot(ns).frame_prefix, cfg)
            self.create_subscription(JointState, f'/{ns}/joint_states',
                                     partial(self._on_joint_state, ns, io), input_qos)
            self.create_subscription(Odometry, f'/{ns}/odom',
                                     partial(self._on_odometry, ns, io), input_qos)
        # The other shards' robots: their twins' outputs move them here (best effort
        # matches their reliable publishers too).
        obstacle_qos = qos_profile('sensor_data', cfg.qos_depth)
        for ns in self.twin.remote:
            self.create_subscription(Odometry, f'/{ns}/virtual/odom',
                                     partial(self._on_remote, ns, True), obstacle_qos)
            self.create_subscription(JointState, f'/{ns}/virtual/joint_states',
                                     partial(self._on_remote, ns, False), obstacle_qos)
        self._diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        if self.twin.scan_rate > 0:
            self._scan_thread = PeriodicThread('fleet_scan', self.twin.scan_rate,
                                               self._publish_scans, on_error=self._scan_failed)
        self.create_timer(cfg.diagnostics_period, self._publish_diagnostics)
        self.create_timer(min(0.1, cfg.diagnostics_period), self._check_health)
        self.get_logger().info(
            f'fleet twin of {len(fleet.robots)} robot(s) in world "{fleet.world}", shard '
            f'{cfg.shard}: serving {", ".join(self.twin.local)}'
            + (f'; obstacles {", ".join(self.twin.remote)}' if self.twin.remote else '')
            + f'; scans at {self.twin.scan_rate:g} Hz')

    @staticmethod
    def _wall_ns() -> int:
        return time.time_ns()  # physical stamps are wall-clock time

    # -- inputs ------------------------------------------------------------------------------
    def _on_joint_state(self, ns: str, io: _RobotIO, msg: JointState) -> None:
        outcome = self.twin.on_joint_state(ns, joint_state_from_msg(msg), time.monotonic(),
                                           self._wall_ns())
        if outcome.output is not None:
            io.joints.publish(joint_state_to_msg(outcome.output, msg=io.joints_msg))
            self.twin.sessions[ns].joint_states_out.published(time.monotonic())
        self._report(io, outcome)

    def _on_odometry(self, ns: str, io: _RobotIO, msg: Odometry) -> None:
        outcome = self.twin.on_odometry(ns, odometry_from_msg(msg), time.monotonic(),
                                        self._wall_ns())
        sample = outcome.output
        if sample is not None:
            io.odom.publish(odometry_to_msg(sample, io.prefix + sample.frame_id,
                                            io.prefix + sample.child_frame_id, io.odom_msg))
            self.twin.sessions[ns].odom_out.published(time.monotonic())
        self._report(io, outcome)

    def _on_remote(self, ns: str, is_odometry: bool, msg: Any) -> None:
        now, wall = time.monotonic(), self._wall_ns()
        if is_odometry:
            outcome = self.twin.on_remote_odometry(ns, odometry_from_msg(msg), now, wall)
        else:
            outcome = self.twin.on_remote_joint_state(ns, joint_state_from_msg(msg), now, wall)
        if not outcome.accepted:
            self.get_logger().warning(f'obstacle {ns}: {outcome.describe()}',
                                      throttle_duration_sec=WARN_THROTTLE_S)

    def _report(self, io: _RobotIO, outcome: InputOutcome) -> None:
        if outcome.accepted and not outcome.notes and not outcome.recovered:
            return
        if outcome.recovered:
            io.logger.info(f'{outcome.stream}: receiving again')
        if outcome.notes:
            io.logger.warning('; '.join(outcome.notes), throttle_duration_sec=WARN_THROTTLE_S)
        if not outcome.accepted:
            io.logger.warning(outcome.describe(), throttle_duration_sec=WARN_THROTTLE_S)

    # -- outputs -----------------------------------------------------------------------------
    def _publish_scans(self) -> None:  # on the scan thread
        for ns, scan, stamp_ns in self.twin.scan(self._wall_ns()):
            io = self._io[ns]
            io.scan.publish(scan_to_msg(scan, stamp_ns, io.prefix + scan.frame_id))
            with self._health_lock:
                self.twin.sessions[ns].scan_out.published(time.monotonic())

    def _scan_failed(self, exc: BaseException) -> None:  # on the scan thread
        if self.context.ok():
            self.get_logger().error(f'scan failed: {type(exc).__name__}: {exc}',
                                    throttle_duration_sec=5.0)

    # -- health ------------------------------------------------------------------------------
    def _check_health(self) -> None:
        with self._health_lock:
            events = self.twin.poll(time.monotonic())
        for event in events:
            self.get_logger().warning(event)

    def _publish_diagnostics(self) -> None:
        now = time.monotonic()
        with self._health_lock:
            by_robot = self.twin.statuses(now)
            obstacles = self.twin.obstacle_statuses(now)
        stamp = self.get_clock().now().nanoseconds
        msg = DiagnosticArray()
        msg.header.stamp = ns_to_time(stamp)
        for ns, statuses in by_robot.items():
            msg.status.extend(diagnostics_to_msg(statuses, stamp, ns, f'{ns}/twin_fleet').status)
        for ns, statuses in obstacles.items():
            msg.status.extend(diagnostics_to_msg(statuses, stamp, ns,
                                                 f'{ns}/twin_fleet obstacle').status)
        self._diag_pub.publish(msg)

    def start(self) -> None:
        """Start the scan thread (once the node is in an executor)."""
        if self._scan_thread is not None:
            self._scan_thread.start()

    def close(self) -> list[str]:
        """Stop scanning; return the per-robot, per-stream summary for the shutdown log."""
        if self._scan_thread is not None:
            self._scan_thread.stop()
        with self._health_lock:
            return self.twin.summary_lines(time.monotonic()) if hasattr(self, 'twin') else []


def make_executor() -> Executor:
    """rclpy's events executor where it exists: it does not rebuild a wait set of every
    subscription, publisher event and timer per message, which with tens of robots cost
    more than the twin's own work (measured: 5 robots, 48 % of a core -> 21 %); else the
    single-threaded one."""
    try:
        from rclpy.experimental import EventsExecutor
    except ImportError:
        return SingleThreadedExecutor()
    return EventsExecutor()


def main(args: list[str] | None = None) -> int:
    """Run the fleet twin until SIGINT/SIGTERM. :return: 0 on a clean stop, 1 if it cannot
    start."""
    argv = sys.argv[1:] if args is None else list(args)
    if wants_help(argv):
        print(fleet_help_text())
        return 0
    rclpy.init(args=[sys.argv[0], *argv], signal_handler_options=SignalHandlerOptions.ALL)
    executor = make_executor()
    node = None
    code = 0
    try:
        node = FleetTwinNode()
        executor.add_node(node)
        # The models, descriptions and modules built so far live as long as the process:
        # out of the collector's reach, a full collection no longer walks them (measured:
        # 23 ms per full collection with 20 robots, a stall every few seconds).
        gc.freeze()
        node.start()
        while rclpy.ok():  # the events executor's spin() ran no callback here: spin_once
            executor.spin_once(timeout_sec=0.2)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (TwinBridgeError, ParameterException) as exc:
        rclpy.logging.get_logger(NODE_NAME).fatal(f'cannot start: {exc}')
        code = 1
    except Exception:
        if not shut_down_by_signal():
            raise
    finally:
        if node is not None:
            summary = node.close()
            node.destroy_node()
            if summary:
                rclpy.logging.get_logger(NODE_NAME).info('summary:\n  ' + '\n  '.join(summary))
        executor.shutdown()
        rclpy.try_shutdown()
    return code


if __name__ == '__main__':
    sys.exit(main())
