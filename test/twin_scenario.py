"""The end-to-end twin scenario shared by the launch tests and the real-process pytest.

A test process plays the physical robot: it publishes ``joint_states`` and ``odom`` with
wall-clock stamps, subscribes to ``virtual/*`` first (Gazebo renders no sensor nobody
listens to), lets the twin settle, then measures for a while. Latency of an output message
is its receive wall time minus its header stamp (the stamp of the physical sample it
reflects, see README "Header stamps").
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
import time
from typing import Any

from nav_msgs.msg import Odometry
import numpy as np
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import JointState, LaserScan

__all__ = ['JOINT_TARGETS', 'POSE_TARGET', 'PhysicalRobotStandIn', 'ScenarioResult',
           'check_scenario',
           'run_scenario']

JOINT_TARGETS = {'left_wheel_joint': 1.0, 'right_wheel_joint': -1.0, 'pan_joint': 0.5,
                 'tilt_joint': -0.3}
POSE_TARGET = (0.8, -0.4, 0.6)  # x, y, yaw


@dataclass
class _Stream:
    received: list[tuple[float, Any]] = field(default_factory=list)

    def __call__(self, msg: Any) -> None:
        self.received.append((time.time(), msg))

    def latencies(self) -> np.ndarray:
        return np.array([t - (m.header.stamp.sec + m.header.stamp.nanosec * 1e-9)
                         for t, m in self.received])


@dataclass
class ScenarioResult:
    """What the observer saw during the measuring window."""

    duration: float
    joint_states: list[tuple[float, JointState]]
    odometry: list[tuple[float, Odometry]]
    scans: list[tuple[float, LaserScan]]
    latencies: dict[str, np.ndarray]

    @property
    def scan_rate(self) -> float:
        """Scans per second over the measuring window."""
        return len(self.scans) / self.duration

    def p95(self, stream: str) -> float:
        """95th percentile latency (s) of ``stream`` (inf if nothing arrived)."""
        values = self.latencies[stream]
        return float(np.percentile(values, 95)) if len(values) else math.inf


def _stamp_of(msg: Any) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def _stamp_now(msg: Any) -> None:
    now = time.time_ns()
    msg.header.stamp.sec, msg.header.stamp.nanosec = now // 1_000_000_000, now % 1_000_000_000


def run_scenario(node: Any, executor: Any, *, rate_hz: float = 50.0, settle: float = 1.5,
                 duration: float = 3.0, startup_timeout: float = 30.0) -> ScenarioResult:
    """Publish the physical robot's constant targets and record the twin's outputs.

    :param node: an rclpy node (in ``executor``) in the twin's namespace
    :raise AssertionError: if the twin does not connect within ``startup_timeout``
    """
    reliable = QoSProfile(depth=10)
    joint_pub = node.create_publisher(JointState, 'joint_states', reliable)
    odom_pub = node.create_publisher(Odometry, 'odom', reliable)
    streams = {'joint_states': _Stream(), 'odom': _Stream(), 'scan': _Stream()}
    subscriptions = [
        node.create_subscription(JointState, 'virtual/joint_states', streams['joint_states'],
                                 reliable),
        node.create_subscription(Odometry, 'virtual/odom', streams['odom'], reliable),
        node.create_subscription(LaserScan, 'virtual/scan', streams['scan'],
                                 qos_profile_sensor_data),
    ]

    joint_msg = JointState()
    joint_msg.name = list(JOINT_TARGETS)
    joint_msg.position = [float(v) for v in JOINT_TARGETS.values()]
    odom_msg = Odometry()
    odom_msg.header.frame_id, odom_msg.child_frame_id = 'odom', 'base_link'
    x, y, yaw = POSE_TARGET
    odom_msg.pose.pose.position.x, odom_msg.pose.pose.position.y = x, y
    odom_msg.pose.pose.orientation.z = math.sin(yaw / 2)
    odom_msg.pose.pose.orientation.w = math.cos(yaw / 2)

    def publish_for(seconds: float) -> None:
        period = 1.0 / rate_hz
        next_at = time.monotonic()
        end = next_at + seconds
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_at:
                _stamp_now(joint_msg)
                joint_pub.publish(joint_msg)
                _stamp_now(odom_msg)
                odom_pub.publish(odom_msg)
                next_at += period
            executor.spin_once(timeout_sec=max(0.0, min(next_at - time.monotonic(), 0.005)))

    try:
        # Subscribe before measuring; wait until the twin listens and publishes back.
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline and not (
                joint_pub.get_subscription_count() and odom_pub.get_subscription_count()
                and all(s.get_publisher_count() for s in subscriptions[:2])):
            executor.spin_once(timeout_sec=0.05)
        assert joint_pub.get_subscription_count() and odom_pub.get_subscription_count(), \
            f'the twin did not subscribe to joint_states/odom within {startup_timeout} s'
        publish_for(settle)
        for stream in streams.values():
            stream.received.clear()
        publish_for(duration)
        # Collect what is in flight: until the outputs of the last samples are in (<= 0.2 s).
        last = {'joint_states': _stamp_of(joint_msg), 'odom': _stamp_of(odom_msg)}
        drain_end = time.monotonic() + 0.2
        while time.monotonic() < drain_end and not all(
                any(_stamp_of(m) == stamp for _, m in streams[name].received[-5:])
                for name, stamp in last.items()):
            executor.spin_once(timeout_sec=0.02)
    finally:
        for subscription in subscriptions:
            node.destroy_subscription(subscription)
        node.destroy_publisher(joint_pub)
        node.destroy_publisher(odom_pub)
    return ScenarioResult(duration, streams['joint_states'].received, streams['odom'].received,
                          streams['scan'].received,
                          {name: s.latencies() for name, s in streams.items()})


def check_scenario(case: Any, result: ScenarioResult, *, latency_p95: float,
                   joint_tolerance: float, pose_tolerance: float, min_scan_rate: float) -> None:
    """Assert (on a ``unittest.TestCase``) mirrored values, latency and scan rate.

    :param latency_p95: ceiling (s) on the 95th percentile end-to-end latency of the
        joint-state and odometry outputs
    :param min_scan_rate: lowest acceptable /virtual/scan rate (Hz)
    """
    case.assertGreater(len(result.joint_states), 0, 'no /virtual/joint_states received')
    case.assertGreater(len(result.odometry), 0, 'no /virtual/odom received')
    last_joints = result.joint_states[-1][1]
    mirrored = dict(zip(last_joints.name, last_joints.position, strict=False))
    for joint, target in JOINT_TARGETS.items():
        case.assertIn(joint, mirrored)
        case.assertAlmostEqual(mirrored[joint], target, delta=joint_tolerance, msg=joint)
    pose = result.odometry[-1][1].pose.pose
    x, y, yaw = POSE_TARGET
    case.assertAlmostEqual(pose.position.x, x, delta=pose_tolerance)
    case.assertAlmostEqual(pose.position.y, y, delta=pose_tolerance)
    heading = 2 * math.atan2(pose.orientation.z, pose.orientation.w)
    case.assertAlmostEqual(math.remainder(heading - yaw, 2 * math.pi), 0.0,
                           delta=pose_tolerance)
    for stream in ('joint_states', 'odom'):
        case.assertLess(result.p95(stream), latency_p95,
                        f'{stream} end-to-end latency p95 {result.p95(stream) * 1e3:.1f} ms')
        case.assertGreater(float(np.min(result.latencies[stream])), -0.005,
                           f'{stream}: stamp later than receive time (wrong stamp rule?)')
    case.assertGreaterEqual(result.scan_rate, min_scan_rate,
                            f'/virtual/scan at {result.scan_rate:.1f} Hz')


class PhysicalRobotStandIn:
    """Mixin for the launch tests' active ``unittest.TestCase``: one rclpy node (the physical
    robot stand-in) and its executor for the whole class, as ``cls.node`` / ``cls.executor``."""

    @classmethod
    def setUpClass(cls) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        rclpy.init()
        cls.node = rclpy.create_node('physical_robot_stand_in')
        cls.executor = SingleThreadedExecutor()
        cls.executor.add_node(cls.node)

    @classmethod
    def tearDownClass(cls) -> None:
        import rclpy
        cls.executor.shutdown()
        cls.node.destroy_node()
        rclpy.try_shutdown()
