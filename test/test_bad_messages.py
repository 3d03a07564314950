"""Bad and awkward physical messages over real DDS against a running ``twin_bridge`` node.

What real publishers send: ros2_control's joint_state_broadcaster fills NaN for interfaces a
joint lacks, drivers repeat or reset stamps, bags loop, a misconfigured publisher floods at
kHz rates or sends thousands of joints. The node must survive, count rejections on
/diagnostics, keep publishing, and keep the twin's last good state (checked through the
virtual outputs). One bridge process (default robot, shipped ``empty`` world) serves the
tests of :class:`TestOneBridgeProcess`; a test that needs a node that has seen nothing yet
starts its own.
"""

from __future__ import annotations

from contextlib import contextmanager
import math
import time

from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
import numpy as np
import pytest
from ros_harness import RosTestContext, spawn_node, write_params_file
from sensor_msgs.msg import JointState

NODE = 'twin_bridge.ros.bridge_node'
JOINTS = ('left_wheel_joint', 'right_wheel_joint', 'pan_joint', 'tilt_joint')
DISCOVERY_TIMEOUT = 45.0
REPLY_TIMEOUT = 10.0
DIAG_PERIOD = 0.2
NS = 1_000_000_000


def _stamp(msg, stamp_ns: int) -> None:
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(stamp_ns), NS)


def stamp_of(msg) -> int:
    return msg.header.stamp.sec * NS + msg.header.stamp.nanosec


class Bridge:
    """The node under test plus the physical-side publishers and the observers."""

    def __init__(self, proc, ros) -> None:
        self.proc, self.ros = proc, ros
        node = ros.node
        self.joints_pub = node.create_publisher(JointState, 'joint_states', 10)
        self.odom_pub = node.create_publisher(Odometry, 'odom', 10)
        self.joints = ros.collect('virtual/joint_states', JointState)
        self.odom = ros.collect('virtual/odom', Odometry)
        self.diags = ros.collect('/diagnostics', DiagnosticArray)

    def wait_ready(self) -> None:
        for pub in (self.joints_pub, self.odom_pub):
            assert self.ros.wait_for_subscribers(pub, DISCOVERY_TIMEOUT, process=self.proc), (
                'bridge never subscribed:\n' + self.proc.output())
        for topic in ('/virtual/joint_states', '/virtual/odom'):
            assert self.ros.wait_for_publishers(topic, DISCOVERY_TIMEOUT, process=self.proc)
        assert self.ros.spin_until(lambda: len(self.diags) > 0, DISCOVERY_TIMEOUT, self.proc)

    # -- physical side ---------------------------------------------------------------------

    def send_joints(self, names, positions, velocities=(), efforts=(), stamp_ns=None) -> int:
        msg = JointState(name=list(names), position=[float(v) for v in positions],
                         velocity=[float(v) for v in velocities],
                         effort=[float(v) for v in efforts])
        stamp_ns = time.time_ns() if stamp_ns is None else stamp_ns
        _stamp(msg, stamp_ns)
        self.joints_pub.publish(msg)
        return stamp_ns

    def send_odom(self, position=(0.0, 0.0, 0.0), quat=(0.0, 0.0, 0.0, 1.0), twist=(0.0, 0.0),
                  stamp_ns=None) -> int:
        msg = Odometry()
        msg.header.frame_id, msg.child_frame_id = 'odom', 'base_link'
        stamp_ns = time.time_ns() if stamp_ns is None else stamp_ns
        _stamp(msg, stamp_ns)
        pose = msg.pose.pose
        pose.position.x, pose.position.y, pose.position.z = map(float, position)
        (pose.orientation.x, pose.orientation.y, pose.orientation.z,
         pose.orientation.w) = map(float, quat)
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = map(float, twist)
        self.odom_pub.publish(msg)
        return stamp_ns

    # -- observer side ---------------------------------------------------------------------

    def wait_for(self, collector, predicate, what: str, timeout: float = REPLY_TIMEOUT):
        def found():
            return any(predicate(m) for m in collector.messages)
        assert self.ros.spin_until(found, timeout, self.proc), (
            f'timed out waiting for {what}:\n' + self.proc.output()[-3000:])
        return next(m for m in reversed(collector.messages) if predicate(m))

    def joints_out(self, stamp_ns: int, what: str) -> dict[str, float]:
        msg = self.wait_for(self.joints, lambda m: stamp_of(m) == stamp_ns, what)
        return dict(zip(msg.name, msg.position, strict=True))

    def counts(self, stream: str) -> dict[str, str]:
        """Values of the newest diagnostics status of ``stream`` (as sent: text)."""
        for array in reversed(self.diags.messages):
            for status in array.status:
                if status.name == f'twin_bridge: {stream}':
                    return {kv.key: kv.value for kv in status.values}
        return {}

    def fresh_counts(self, stream: str) -> dict[str, str]:
        """Counts from a diagnostics message sent after this call."""
        seen = len(self.diags)
        assert self.ros.spin_until(lambda: len(self.diags) > seen + 1, REPLY_TIMEOUT, self.proc)
        return self.counts(stream)

    def wait_counts(self, stream: str, predicate, what: str) -> dict[str, str]:
        assert self.ros.spin_until(lambda: predicate(self.counts(stream)), REPLY_TIMEOUT,
                                   self.proc), (
            f'diagnostics never showed {what}; last {self.counts(stream)}\n'
            + self.proc.output()[-3000:])
        return self.counts(stream)


def _count(values: dict[str, str], key: str) -> float:
    """A diagnostics value as a number (0 when absent)."""
    return float(values.get(key, 0))


@contextmanager
def running_bridge(tmp_path, observer_name: str):
    """A bridge process, ready, with this test's observer; stopped cleanly at the end."""
    params = {'backend': 'embedded', 'world': 'empty', 'scan_rate': 5.0,
              'stale_timeout': 5.0, 'diagnostics_period': DIAG_PERIOD,
              'max_future_stamp': 0.5}
    params_file = write_params_file(tmp_path / 'params.yaml', '/**', params)
    with RosTestContext(observer_name) as ros, spawn_node(
            NODE, params_file=params_file, log_dir=tmp_path) as proc:
        bridge = Bridge(proc, ros)
        bridge.wait_ready()
        yield bridge
        assert proc.stop() == 0, proc.output()[-3000:]


@pytest.fixture(scope='class')
def bridge(tmp_path_factory):
    """One bridge for a test class; class-scoped, so it is gone before a test starts its own."""
    with running_bridge(tmp_path_factory.mktemp('bad_messages'), 'bad_messages_observer') as b:
        yield b


GOOD = {'left_wheel_joint': 1.0, 'right_wheel_joint': -2.0, 'pan_joint': 0.3, 'tilt_joint': -0.2}


def _set_good_state(bridge: Bridge) -> None:
    stamp = bridge.send_joints(GOOD, GOOD.values())
    assert bridge.joints_out(stamp, 'the good joint state') == pytest.approx(GOOD)


def _check_state_kept(bridge: Bridge, what: str, published: int | None = None) -> None:
    """Mirror one joint only: the others in the output must still be the last good values.

    :param published: if given, the number of joint outputs before the bad inputs: the
        sample sent here comes after them on the same connection, so once it is out, it
        must be the only output since
    """
    stamp = bridge.send_joints(['tilt_joint'], [0.1])
    assert bridge.joints_out(stamp, f'joint state after {what}') == pytest.approx(
        {**GOOD, 'tilt_joint': 0.1}), what
    if published is not None:
        assert [stamp_of(m) for m in bridge.joints.messages[published:]] == [stamp], what


# -- unstamped input (a node of its own: before any stamped sample) ----------------------

def test_unstamped_messages_do_not_poison_latency_statistics(tmp_path):
    """Small drivers (micro-ROS without time sync) publish header.stamp = 0. Whatever the
    twin does with them, the input age it reports must not become 55 years. (A bridge of its
    own: a publisher that never stamps, before any stamped sample.)"""
    with running_bridge(tmp_path, 'unstamped_observer') as bridge:
        for i in range(5):
            bridge.send_joints(JOINTS, (0.0, 0.0, 0.01 * i, 0.0), stamp_ns=0)
            bridge.ros.spin_for(0.02)
        values = bridge.wait_counts('joint_states', lambda v: _count(v, 'received') >= 5,
                                    'the 5 unstamped samples received')
        assert _count(values, 'age_ms.max') < 60_000, values
        assert bridge.proc.running()


# -- the cases, and one bridge process for a class of tests ------------------------------

NAN, INF = math.nan, math.inf
BAD_JOINT_STATES = {
    # case: (reason, JointState fields)
    'nan position': ('non_finite', dict(names=JOINTS, positions=(NAN, 0, 0, 0))),
    '+inf position': ('non_finite', dict(names=JOINTS, positions=(0, INF, 0, 0))),
    '-inf velocity': ('non_finite', dict(names=JOINTS, positions=(0, 0, 0, 0),
                                         velocities=(0, 0, -INF, 0))),
    'fewer positions than names': ('length_mismatch', dict(names=JOINTS, positions=(0, 0, 0))),
    'more positions than names': ('length_mismatch', dict(names=JOINTS[:2],
                                                          positions=(0, 0, 0))),
    'velocity array too short': ('length_mismatch', dict(names=JOINTS, positions=(0, 0, 0, 0),
                                                         velocities=(1, 1))),
    'effort array too long': ('length_mismatch', dict(names=JOINTS[:1], positions=(0,),
                                                      efforts=(1, 2))),
    'empty message': ('empty', dict(names=(), positions=())),
    'unknown joint': ('unknown_joint', dict(names=('gripper_joint',), positions=(0.5,))),
    'known and unknown joint': ('unknown_joint', dict(names=('pan_joint', 'elbow'),
                                                      positions=(0.9, 0.9))),
    'duplicate names': ('duplicate_joint', dict(names=('pan_joint', 'pan_joint'),
                                                positions=(0.9, -0.9))),
    '10k joints': ('unknown_joint', dict(names=JOINTS + tuple(f'j{i}' for i in range(9996)),
                                         positions=np.linspace(0, 1, 10000))),
    '10k positions for 4 names': ('length_mismatch', dict(names=JOINTS,
                                                          positions=np.zeros(10000))),
}

BAD_ODOM = {
    'zero quaternion': ('zero_quaternion', dict(quat=(0, 0, 0, 0))),
    'non-unit quaternion': ('non_unit_quaternion', dict(quat=(0, 0, 1, 1))),
    'nan quaternion': ('non_finite', dict(quat=(NAN, 0, 0, 1))),
    'nan position': ('non_finite', dict(position=(NAN, 0, 0))),
    'inf twist': ('non_finite', dict(twist=(INF, 0))),
}


class TestOneBridgeProcess:
    """Tests sharing one bridge process (class-scoped, so it is stopped before any test
    with a process of its own starts); each sets the good state it checks against."""

    # -- joint states -------------------------------------------------------------------------

    def test_bad_joint_states_are_rejected_counted_and_state_kept(self, bridge):
        _set_good_state(bridge)
        before = bridge.fresh_counts('joint_states')
        published = len(bridge.joints)
        expected: dict[str, int] = {}
        for reason, fields in BAD_JOINT_STATES.values():
            bridge.send_joints(fields['names'], fields['positions'], fields.get('velocities', ()),
                               fields.get('efforts', ()))
            expected[reason] = expected.get(reason, 0) + 1
            bridge.ros.spin_for(0.01)  # keep-last queues: do not let them overflow

        def all_counted(values):
            return all(_count(values, f'rejected.{r}') - _count(before, f'rejected.{r}') >= n
                       for r, n in expected.items())
        after = bridge.wait_counts('joint_states', all_counted, 'every rejection')
        for reason, n in expected.items():
            gained = _count(after, f'rejected.{reason}') - _count(before, f'rejected.{reason}')
            assert gained == pytest.approx(n), reason
        assert _count(after, 'accepted') == pytest.approx(_count(before, 'accepted'))
        assert bridge.proc.running()
        # nothing was published for a rejected sample
        _check_state_kept(bridge, 'rejected joint states', published)

    def test_ros2_control_nan_effort_does_not_block_mirroring(self, bridge):
        """joint_state_broadcaster sizes position/velocity/effort to all joints and fills NaN for
        interfaces a joint does not have: a diff-drive robot without effort state interfaces
        sends ``effort: [nan, nan, ...]`` in every message. The twin ignores effort, so it must
        still mirror those positions (or every message of such a robot is refused)."""
        _set_good_state(bridge)
        target = {'left_wheel_joint': 4.0, 'right_wheel_joint': 5.0, 'pan_joint': 0.5,
                  'tilt_joint': 0.25}
        stamp = bridge.send_joints(target, target.values(), velocities=(0.1, 0.2, 0.0, 0.0),
                                   efforts=(NAN,) * 4)
        assert bridge.joints_out(stamp, 'a state with NaN efforts') == pytest.approx(target)

    def test_ros2_control_nan_velocity_of_position_only_joints(self, bridge):
        """Wheels report position+velocity, the pan-tilt head position only (NaN velocity):
        positions are still mirrored."""
        _set_good_state(bridge)
        target = {'left_wheel_joint': 6.0, 'right_wheel_joint': 7.0, 'pan_joint': -0.5,
                  'tilt_joint': 0.3}
        stamp = bridge.send_joints(target, target.values(), velocities=(0.1, 0.2, NAN, NAN),
                                   efforts=(NAN,) * 4)
        out = bridge.joints_out(stamp, 'a state with NaN head velocities')
        assert out == pytest.approx(target)

    # -- odometry -----------------------------------------------------------------------------

    def test_bad_odometry_is_rejected_counted_and_pose_kept(self, bridge):
        good = dict(position=(1.5, -0.5, 0.0), quat=(0.0, 0.0, math.sin(0.4), math.cos(0.4)))
        stamp = bridge.send_odom(**good)
        bridge.wait_for(bridge.odom, lambda m: stamp_of(m) == stamp, 'good odometry')
        before = bridge.fresh_counts('odom')
        published = len(bridge.odom)
        expected: dict[str, int] = {}
        for reason, fields in BAD_ODOM.values():
            bridge.send_odom(**fields)
            expected[reason] = expected.get(reason, 0) + 1
            bridge.ros.spin_for(0.01)
        bridge.wait_counts('odom', lambda v: all(
            _count(v, f'rejected.{r}') - _count(before, f'rejected.{r}') >= n
            for r, n in expected.items()), 'every odometry rejection')
        # A slightly denormalised quaternion (float32 round trip) is accepted and normalised.
        q = np.array([0.0, 0.0, math.sin(0.4), math.cos(0.4)]) * (1 + 2e-4)
        stamp = bridge.send_odom(position=(1.5, -0.5, 0.0), quat=q)
        out = bridge.wait_for(bridge.odom, lambda m: stamp_of(m) == stamp, 'near-unit quaternion')
        # It came after the bad ones on the same connection: they published nothing.
        assert [stamp_of(m) for m in bridge.odom.messages[published:]] == [stamp]
        o = out.pose.pose.orientation
        assert math.hypot(o.x, o.y, o.z, o.w) == pytest.approx(1.0, abs=1e-9)
        assert (o.z, o.w) == pytest.approx((math.sin(0.4), math.cos(0.4)), abs=1e-9)
        assert out.pose.pose.position.x == pytest.approx(1.5)

    # -- stamps -------------------------------------------------------------------------------

    def test_future_and_backwards_stamps_are_rejected(self, bridge):
        _set_good_state(bridge)
        before = bridge.fresh_counts('joint_states')
        now = time.time_ns()
        bridge.send_joints(['pan_joint'], [1.0], stamp_ns=now + 5 * NS)
        bridge.send_joints(['pan_joint'], [1.1], stamp_ns=now - 60 * NS)
        bridge.wait_counts('joint_states', lambda v: (
            _count(v, 'rejected.future_stamp') > _count(before, 'rejected.future_stamp')
            and _count(v, 'rejected.stamp_backwards') > _count(before, 'rejected.stamp_backwards')),
            'future and backwards stamps')
        _check_state_kept(bridge, 'bad stamps')

    def test_a_restarted_publisher_timeline_is_followed(self, bridge):
        """A physical clock that jumps back and then runs on (robot reboot, NTP step,
        ``ros2 bag play --loop``) must not freeze the twin forever: a single stale sample is
        rejected, but a sustained new timeline has to be picked up again (after a bounded number
        of consistent samples), with the jump reported."""
        _set_good_state(bridge)
        start = time.time_ns() - 30 * NS  # the new timeline runs 30 s behind
        first = len(bridge.joints)
        sent: dict[int, float] = {}
        t0 = time.monotonic()
        mirrored = None
        i = 0
        while time.monotonic() - t0 < 3.0 and mirrored is None:
            i += 1
            stamp = bridge.send_joints(['pan_joint'], [0.001 * i],
                                       stamp_ns=start + int((time.monotonic() - t0) * NS))
            sent[stamp] = 0.001 * i
            bridge.ros.spin_for(0.02)  # 50 Hz
            mirrored = next((m for m in bridge.joints.messages[first:] if stamp_of(m) in sent),
                            None)
        values = bridge.counts('joint_states')
        assert mirrored is not None, (
            f'3 s of a consistent new timeline 30 s back were all rejected ({i} samples); '
            f'diagnostics {values}')
        out = dict(zip(mirrored.name, mirrored.position, strict=True))
        assert out['pan_joint'] == pytest.approx(sent[stamp_of(mirrored)])

    # -- flood --------------------------------------------------------------------------------

    def test_burst_at_5khz_survives_and_ends_on_the_last_sample(self, bridge):
        _set_good_state(bridge)
        before = bridge.fresh_counts('joint_states')
        period = 1.0 / 5000
        count = 5000
        t0 = time.perf_counter()
        last_stamp = 0
        for i in range(count):
            last_stamp = bridge.send_joints(['pan_joint'], [i / count * 2.0])
            while time.perf_counter() - t0 < (i + 1) * period:
                pass
        elapsed = time.perf_counter() - t0
        assert elapsed < 2.0, f'could only publish at {count / elapsed:.0f} Hz'
        out = bridge.joints_out(last_stamp, 'the last sample of the burst')
        assert out['pan_joint'] == pytest.approx((count - 1) / count * 2.0)
        assert out['tilt_joint'] == pytest.approx(GOOD['tilt_joint'])
        after = bridge.fresh_counts('joint_states')
        received = _count(after, 'received') - _count(before, 'received')
        assert 0 < received <= count
        assert _count(after, 'rejected') == pytest.approx(_count(before, 'rejected'))
        assert bridge.proc.running()
        # And the other stream was not starved.
        stamp = bridge.send_odom(position=(0.2, 0.0, 0.0))
        bridge.wait_for(bridge.odom, lambda m: stamp_of(m) == stamp, 'odometry after the burst')

    # -- QoS of real drivers ------------------------------------------------------------------

    def test_best_effort_publishers_are_mirrored(self, bridge):
        """Many drivers (micro-ROS, sensor-data style bridges) publish best effort; a reliable
        subscription would never match them, silently."""
        from rclpy.qos import qos_profile_sensor_data

        _set_good_state(bridge)
        joints_pub = bridge.ros.node.create_publisher(JointState, 'joint_states',
                                                      qos_profile_sensor_data)
        odom_pub = bridge.ros.node.create_publisher(Odometry, 'odom', qos_profile_sensor_data)
        try:
            for pub in (joints_pub, odom_pub):
                assert bridge.ros.wait_for_subscribers(pub, DISCOVERY_TIMEOUT, process=bridge.proc)
            msg = JointState(name=['pan_joint'], position=[0.77])
            stamp = time.time_ns()
            _stamp(msg, stamp)
            odom = Odometry()
            odom.header.frame_id, odom.child_frame_id = 'odom', 'base_link'
            _stamp(odom, stamp)
            odom.pose.pose.position.x, odom.pose.pose.orientation.w = 0.9, 1.0

            def mirrored():
                return (any(stamp_of(m) == stamp for m in bridge.joints.messages)
                        and any(stamp_of(m) == stamp for m in bridge.odom.messages))
            deadline = time.monotonic() + REPLY_TIMEOUT
            while not mirrored() and time.monotonic() < deadline:  # best effort: may need a resend
                joints_pub.publish(msg)
                odom_pub.publish(odom)
                bridge.ros.spin_for(0.1)
            assert mirrored(), bridge.proc.output()[-2000:]
            out = bridge.joints_out(stamp, 'best-effort joint state')
            assert out['pan_joint'] == pytest.approx(0.77)
        finally:
            bridge.ros.node.destroy_publisher(joints_pub)
            bridge.ros.node.destroy_publisher(odom_pub)
