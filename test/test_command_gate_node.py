"""The command gate over real DDS: commands in on cmd_vel, gated commands out.

Two bridge processes in the test world (a wall across x = 1, a shelf at x = 10; see
``test_twin_gate``), each in a namespace of its own: ``/plain`` takes ``Twist`` and forwards
nothing (the default); ``/fwd`` takes ``TwistStamped`` and forwards (``forward_commands``).
The test places the robot by publishing odometry and waits until the twin mirrored it
(its stamp on ``virtual/odom``) before each command, so every verdict is on a known pose.
Each test sets up the state it needs (pose, e-stop released), so any order works.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import math
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
import numpy as np
import pytest
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from ros_harness import RosTestContext, spawn_node
from std_msgs.msg import Bool
from test_bridge_node import stamp_ns, values
from test_twin_gate import FREE, HALF_LENGTH, SHELF_FACE, SHELF_X, WALL_FACE, write_gate_world

from twin_bridge.core.state import OdometrySample
from twin_bridge.ros.conversions import ns_to_time, set_odometry_state

NODE = 'twin_bridge.ros.bridge_node'
DISCOVERY_TIMEOUT = 45.0
REPLY_TIMEOUT = 10.0
SOURCE_TIMEOUT = 0.5
LATCHED = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                     reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


class Robot:
    """The test's side of one bridge: a physical robot's odometry, commands, e-stop, and
    what the bridge answers."""

    def __init__(self, ros: RosTestContext, proc, ns: str, stamped: bool) -> None:
        self.ros, self.proc, self.ns, self.stamped = ros, proc, ns, stamped
        node = ros.node
        self.msg_type = TwistStamped if stamped else Twist
        self.odom_pub = node.create_publisher(Odometry, f'{ns}/odom', 10)
        self.cmd_pub = node.create_publisher(self.msg_type, f'{ns}/cmd_vel', 10)
        self.e_stop_pub = node.create_publisher(Bool, f'{ns}/e_stop', LATCHED)
        self.mirrored = ros.collect(f'{ns}/virtual/odom', Odometry)
        self.safe = ros.collect(f'{ns}/virtual/cmd_vel_safe', self.msg_type)
        self.forwarded = ros.collect(f'{ns}/cmd_vel_out', self.msg_type)
        self.diagnostics = ros.collect('/diagnostics', DiagnosticArray)
        self._stamp = time.time_ns()

    def wait_ready(self) -> None:
        for pub in (self.odom_pub, self.cmd_pub):
            assert self.ros.wait_for_subscribers(pub, DISCOVERY_TIMEOUT, process=self.proc), (
                self.proc.output())
        assert self.ros.wait_for_publishers(f'{self.ns}/virtual/cmd_vel_safe',
                                            DISCOVERY_TIMEOUT, process=self.proc)
        self.release()

    def place(self, x: float, y: float, yaw: float = 0.0) -> None:
        """Publish odometry at ``(x, y, yaw)`` until the twin mirrored it (a best-effort
        subscription may miss a message, the first after discovery in particular)."""
        msg = Odometry()
        msg.header.frame_id, msg.child_frame_id = 'odom', 'base_link'
        set_odometry_state(msg, OdometrySample(
            np.array([x, y, 0.0]), np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)])))
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            self._stamp = stamp = max(time.time_ns(), self._stamp + 1)
            msg.header.stamp = ns_to_time(stamp)
            self.odom_pub.publish(msg)
            if self.ros.spin_until(lambda s=stamp: any(stamp_ns(m) == s
                                                 for m in self.mirrored.messages[-5:]),
                                   0.5, self.proc):
                return
        raise AssertionError(f'odometry not mirrored\n{self.proc.output()}')

    def command(self, linear: float, angular: float, stamp: int = 123_456_789):
        """Send one command; :return: the gated command (and the safety status values after
        it) as ``(msg, values)``"""
        before = len(self.safe)
        judged = self.judged()
        msg = self.msg_type()
        twist = msg.twist if self.stamped else msg
        if self.stamped:
            msg.header.stamp, msg.header.frame_id = ns_to_time(stamp), 'base_link'
        twist.linear.x, twist.angular.z = linear, angular
        self.cmd_pub.publish(msg)
        assert self.ros.spin_until(lambda: len(self.safe) > before and self.judged() > judged,
                                   REPLY_TIMEOUT, self.proc), 'no gated command'
        return self.safe.last, self.safety()

    def safety(self) -> dict[str, str]:
        """The values of the newest ``twin safety`` status of this bridge."""
        for array in reversed(self.diagnostics.messages):
            for status in array.status:
                if status.name == 'twin safety' and status.hardware_id == self.ns[1:]:
                    return {'message': status.message, 'level': status.level[0],
                            **values(status)}
        return {}

    def judged(self) -> int:
        status = self.safety()
        return sum(int(status.get(k, 0)) for k in ('pass', 'slow', 'stop'))

    def e_stop(self, engaged: bool) -> None:
        self.e_stop_pub.publish(Bool(data=engaged))

    def release(self) -> None:
        """Release the e-stop and wait until a free command passes again."""
        self.e_stop(False)
        self.place(*FREE)

        def passes() -> bool:
            self.place(*FREE)
            return self.command(0.1, 0.0)[1].get('reason') != 'e_stop'
        deadline = time.monotonic() + REPLY_TIMEOUT
        while not passes():
            assert time.monotonic() < deadline, 'e-stop not released'


@contextmanager
def _bridge(tmp_path, ns: str, **params) -> Iterator:
    world = write_gate_world(tmp_path)
    base = {'world': str(world), 'model_name': ns[1:], 'drift_check': False,
            'input_scan_topic': '', 'prediction_rate': 0.0, 'ensemble_rate': 0.0,
            'diagnostics_period': 0.1, 'source_timeout': SOURCE_TIMEOUT, 'scan_rate': 1.0}
    with spawn_node(NODE, params={**base, **params}, ros_args=['-r', f'__ns:={ns}'],
                    log_dir=tmp_path) as proc:
        yield proc


@pytest.fixture(scope='module')
def ros() -> Iterator[RosTestContext]:
    with RosTestContext('command_gate_test') as context:
        yield context


@pytest.fixture(scope='module')
def plain(ros, tmp_path_factory) -> Iterator[Robot]:
    with _bridge(tmp_path_factory.mktemp('plain'), '/plain') as proc:
        robot = Robot(ros, proc, '/plain', stamped=False)
        robot.wait_ready()
        yield robot
        assert proc.stop() == 0, proc.output()


@pytest.fixture(scope='module')
def fwd(ros, tmp_path_factory) -> Iterator[Robot]:
    with _bridge(tmp_path_factory.mktemp('fwd'), '/fwd', cmd_vel_stamped=True,
                 forward_commands=True) as proc:
        robot = Robot(ros, proc, '/fwd', stamped=True)
        robot.wait_ready()
        yield robot
        assert proc.stop() == 0, proc.output()
        assert 'forward_commands is TRUE' in proc.output()   # said loudly at start-up


def test_command_toward_the_wall_is_slowed_with_the_reason(plain):
    plain.place(WALL_FACE - HALF_LENGTH - 0.5, 0.0)
    msg, status = plain.command(0.5, 0.0)
    assert status['verdict'] == 'slow' and status['reason'] == 'obstacle'
    assert 0.0 < msg.linear.x < 0.5 and float(status['time_to_collision']) == pytest.approx(
        0.8, abs=0.01)
    plain.place(WALL_FACE - HALF_LENGTH - 0.12, 0.0)
    msg, status = plain.command(0.5, 0.0)
    assert (status['verdict'], status['reason'], msg.linear.x) == ('stop', 'obstacle', 0.0)
    assert status['level'] == 1


def test_free_path_command_passes_unchanged(plain):
    plain.place(*FREE)
    msg, status = plain.command(0.4, -0.3)
    assert (status['verdict'], status['reason']) == ('pass', 'free')
    assert (msg.linear.x, msg.angular.z) == (0.4, -0.3)


def test_pure_rotation_beside_the_shelf_is_caught(plain):
    plain.place(SHELF_X, SHELF_FACE - 0.26)
    msg, status = plain.command(0.0, 1.5)
    assert status['verdict'] in ('slow', 'stop') and status['reason'] == 'obstacle'
    assert 'shelf' in status['obstacle'] and abs(msg.angular.z) < 1.5


def test_e_stop_latches_until_released(plain):
    plain.place(*FREE)
    try:
        plain.e_stop(True)
        assert plain.ros.spin_until(lambda: plain.safety().get('e_stop') == 'True',
                                    REPLY_TIMEOUT, plain.proc)
        for _ in range(3):                          # latched: every command stops
            plain.place(*FREE)
            msg, status = plain.command(0.3, 0.0)
            assert (status['reason'], msg.linear.x) == ('e_stop', 0.0)
    finally:
        plain.release()
    msg, status = plain.command(0.3, 0.0)
    assert status['verdict'] == 'pass' and msg.linear.x == 0.3


def test_latched_e_stop_published_before_connecting_is_seen(plain, ros):
    latched = ros.node.create_publisher(Bool, '/plain/e_stop', LATCHED)
    try:
        latched.publish(Bool(data=True))             # before discovery: transient local
        assert ros.spin_until(lambda: plain.safety().get('e_stop') == 'True', REPLY_TIMEOUT,
                              plain.proc)
    finally:
        latched.publish(Bool(data=False))
        plain.release()
        ros.node.destroy_publisher(latched)


def test_stale_odometry_stops(plain):
    plain.place(*FREE)
    time.sleep(SOURCE_TIMEOUT + 0.3)                 # no odometry for longer than the timeout
    msg, status = plain.command(0.3, 0.0)
    assert (status['verdict'], status['reason'], msg.linear.x) == ('stop', 'stale_odometry',
                                                                   0.0)
    assert status['level'] == 2


def test_forward_topic_is_silent_by_default(plain):
    plain.place(*FREE)
    plain.command(0.2, 0.0)
    plain.ros.spin_until(lambda: False, 0.3)
    assert len(plain.forwarded) == 0
    assert plain.ros.node.count_publishers('/plain/cmd_vel_out') == 0


def test_stamped_input_gives_stamped_output_and_is_forwarded(fwd):
    fwd.place(*FREE)
    msg, status = fwd.command(0.25, 0.5, stamp=987_654_321)
    assert isinstance(msg, TwistStamped) and stamp_ns(msg) == 987_654_321
    assert msg.header.frame_id == 'base_link' and status['verdict'] == 'pass'
    assert (msg.twist.linear.x, msg.twist.angular.z) == (0.25, 0.5)
    assert fwd.ros.spin_until(lambda: fwd.forwarded.last is not None and stamp_ns(
        fwd.forwarded.last) == 987_654_321, REPLY_TIMEOUT, fwd.proc)
    assert fwd.forwarded.last.twist.linear.x == 0.25
    fwd.place(WALL_FACE - HALF_LENGTH - 0.5, 0.0)
    msg, status = fwd.command(0.5, 0.0, stamp=55)
    assert status['verdict'] == 'slow'
    assert fwd.ros.spin_until(lambda: stamp_ns(fwd.forwarded.last) == 55, REPLY_TIMEOUT,
                              fwd.proc)
    assert fwd.forwarded.last.twist.linear.x == msg.twist.linear.x < 0.5   # the gated one


def test_invalid_command_is_counted_and_never_forwarded(fwd):
    fwd.place(*FREE)
    before = int(fwd.safety().get('reason.invalid_command', 0))
    for bad, stamp in ((math.nan, 77), (1e12, 78)):
        fwd.place(*FREE)
        msg, status = fwd.command(bad, 0.0, stamp=stamp)
        assert status['reason'] == 'invalid_command'
        assert (msg.twist.linear.x, msg.twist.angular.z) == (0.0, 0.0)    # a stop instead
        assert fwd.ros.spin_until(lambda s=stamp: stamp_ns(fwd.forwarded.last) == s,
                                  REPLY_TIMEOUT, fwd.proc)
        assert fwd.forwarded.last.twist.linear.x == 0.0
    assert int(fwd.safety()['reason.invalid_command']) == before + 2
    assert all(math.isfinite(m.twist.linear.x) and abs(m.twist.linear.x) <= 1.0
               for m in fwd.forwarded.messages)
