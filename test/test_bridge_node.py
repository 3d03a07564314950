"""The twin_bridge node over real DDS: a node process, a test process publishing physical state.

A self-contained scenario with analytic ground truth: a 8 m x 6 m room (inner wall faces at
x = ±4, y = ±3) with two pillars, and a small test robot whose lidar sits at a known offset.
"""

import math
import os
import signal
import subprocess
import sys
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from nav_msgs.msg import Odometry
import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data
from ros_harness import RosTestContext, spawn_node, write_params_file
from sensor_msgs.msg import JointState, LaserScan

from twin_bridge.core.transforms import quat_from_rpy

NODE = 'twin_bridge.ros.bridge_node'
SCAN_RATE = 10.0
STALE_TIMEOUT = 0.4
DIAG_PERIOD = 0.2
DISCOVERY_TIMEOUT = 45.0
REPLY_TIMEOUT = 15.0

ROOM_X, ROOM_Y = 4.0, 3.0
PILLARS = ((2.0, 1.5, 0.3), (-1.5, 2.0, 0.25))     # (x, y, radius)
LIDAR_OFFSET = (0.12, -0.04, 0.3, 0.2)            # x, y, z, yaw of lidar_link in base_link
LIDAR_SAMPLES = 360
LIDAR_MIN, LIDAR_MAX = -math.pi, math.pi - 2 * math.pi / 360
RANGE_MIN, RANGE_MAX = 0.1, 6.0

ROBOT_URDF = f"""<?xml version="1.0"?>
<robot name="test_bot">
  <link name="base_link">
    <inertial><mass value="5"/><inertia ixx="0.05" iyy="0.05" izz="0.05" ixy="0" ixz="0"
      iyz="0"/></inertial>
    <collision><origin xyz="0 0 0.1"/><geometry><box size="0.3 0.2 0.1"/></geometry></collision>
  </link>
  <link name="pan_link">
    <inertial><mass value="0.2"/><inertia ixx="0.001" iyy="0.001" izz="0.001" ixy="0"
      ixz="0" iyz="0"/></inertial>
  </link>
  <link name="tilt_link">
    <inertial><mass value="0.1"/><inertia ixx="0.001" iyy="0.001" izz="0.001" ixy="0"
      ixz="0" iyz="0"/></inertial>
    <collision><geometry><box size="0.05 0.05 0.05"/></geometry></collision>
  </link>
  <link name="lidar_link">
    <inertial><mass value="0.1"/><inertia ixx="0.001" iyy="0.001" izz="0.001" ixy="0"
      ixz="0" iyz="0"/></inertial>
    <collision><geometry><cylinder radius="0.04" length="0.04"/></geometry></collision>
  </link>
  <joint name="pan_joint" type="revolute">
    <parent link="base_link"/><child link="pan_link"/><origin xyz="-0.05 0 0.2"/>
    <axis xyz="0 0 1"/><limit lower="-2.5" upper="2.5" effort="5" velocity="2"/>
  </joint>
  <joint name="tilt_joint" type="revolute">
    <parent link="pan_link"/><child link="tilt_link"/><origin xyz="0 0 0.05"/>
    <axis xyz="0 1 0"/><limit lower="-0.7" upper="0.7" effort="5" velocity="2"/>
  </joint>
  <joint name="lidar_joint" type="fixed">
    <parent link="base_link"/><child link="lidar_link"/>
    <origin xyz="{LIDAR_OFFSET[0]} {LIDAR_OFFSET[1]} {LIDAR_OFFSET[2]}"
      rpy="0 0 {LIDAR_OFFSET[3]}"/>
  </joint>
  <gazebo reference="lidar_link">
    <sensor type="gpu_lidar" name="lidar">
      <update_rate>20</update_rate>
      <lidar>
        <scan><horizontal><samples>{LIDAR_SAMPLES}</samples><resolution>1</resolution>
          <min_angle>{LIDAR_MIN!r}</min_angle><max_angle>{LIDAR_MAX!r}</max_angle>
        </horizontal></scan>
        <range><min>{RANGE_MIN}</min><max>{RANGE_MAX}</max></range>
      </lidar>
    </sensor>
  </gazebo>
</robot>
"""


def _box(name, x, y, sx, sy):
    return (f'<model name="{name}"><static>true</static><pose>{x} {y} 1 0 0 0</pose>'
            f'<link name="link"><collision name="c"><geometry><box><size>{sx} {sy} 2</size>'
            '</box></geometry></collision></link></model>')


def _pillar(name, x, y, r):
    return (f'<model name="{name}"><static>true</static><pose>{x} {y} 1 0 0 0</pose>'
            f'<link name="link"><collision name="c"><geometry><cylinder><radius>{r}</radius>'
            '<length>2</length></cylinder></geometry></collision></link></model>')


def write_world(directory):
    """The test room as an SDF file in ``directory``."""
    t = 0.2
    models = [
        _box('east', ROOM_X + t / 2, 0, t, 2 * ROOM_Y + 2 * t),
        _box('west', -ROOM_X - t / 2, 0, t, 2 * ROOM_Y + 2 * t),
        _box('north', 0, ROOM_Y + t / 2, 2 * ROOM_X, t),
        _box('south', 0, -ROOM_Y - t / 2, 2 * ROOM_X, t),
        *(_pillar(f'pillar{i}', *p) for i, p in enumerate(PILLARS)),
    ]
    path = directory / 'test_room.sdf'
    path.write_text('<?xml version="1.0"?>\n<sdf version="1.9"><world name="test_room">'
                    + ''.join(models) + '</world></sdf>\n', encoding='utf-8')
    return path


def analytic_ranges(x, y, yaw):
    """Expected ranges of the test robot's lidar with the base at (x, y, yaw), REP-117."""
    lx, ly, _, lyaw = LIDAR_OFFSET
    ox = x + math.cos(yaw) * lx - math.sin(yaw) * ly
    oy = y + math.sin(yaw) * lx + math.cos(yaw) * ly
    angles = yaw + lyaw + LIDAR_MIN + (LIDAR_MAX - LIDAR_MIN) / (LIDAR_SAMPLES - 1) * np.arange(
        LIDAR_SAMPLES)
    dx, dy = np.cos(angles), np.sin(angles)
    with np.errstate(divide='ignore'):
        tx = np.where(dx > 0, (ROOM_X - ox) / dx, np.where(dx < 0, (-ROOM_X - ox) / dx, np.inf))
        ty = np.where(dy > 0, (ROOM_Y - oy) / dy, np.where(dy < 0, (-ROOM_Y - oy) / dy, np.inf))
    best = np.minimum(tx, ty)
    for cx, cy, r in PILLARS:
        # |o + t d - c|^2 = r^2 with |d| = 1: t^2 + 2 b t + c0 = 0
        fx, fy = ox - cx, oy - cy
        b = fx * dx + fy * dy
        c0 = fx * fx + fy * fy - r * r
        disc = b * b - c0
        hit = disc >= 0
        t = -b - np.sqrt(np.where(hit, disc, 0.0))
        best = np.where(hit & (t > 0) & (t < best), t, best)
    best[best > RANGE_MAX] = np.inf
    best[best < RANGE_MIN] = -np.inf
    return best


# -- scenario --------------------------------------------------------------------------------

class Scenario:
    """The node under test, an observer node, physical-side publishers and collectors."""

    def __init__(self, proc, ros):
        self.proc = proc
        self.ros = ros
        node = ros.node
        self.joints_pub = node.create_publisher(JointState, 'joint_states', 10)
        self.odom_pub = node.create_publisher(Odometry, 'odom', 10)
        self.joints = ros.collect('virtual/joint_states', JointState)
        self.odom = ros.collect('virtual/odom', Odometry)
        self.scans = ros.collect('virtual/scan', LaserScan, qos_profile_sensor_data)
        self.diags = ros.collect('/diagnostics', DiagnosticArray)

    def wait_ready(self):
        ros, proc = self.ros, self.proc
        for pub in (self.joints_pub, self.odom_pub):
            assert ros.wait_for_subscribers(pub, DISCOVERY_TIMEOUT, process=proc), (
                'bridge never subscribed:\n' + proc.output())
        for topic in ('/virtual/joint_states', '/virtual/odom', '/virtual/scan'):
            assert ros.wait_for_publishers(topic, DISCOVERY_TIMEOUT, process=proc), topic
        assert ros.spin_until(lambda: len(self.scans) > 0 and len(self.diags) > 0,
                              DISCOVERY_TIMEOUT, proc), 'no scan/diagnostics:\n' + proc.output()

    # physical side
    def send_joints(self, names, positions, stamp_ns=None, velocities=()):
        msg = JointState(name=list(names), position=[float(p) for p in positions],
                         velocity=[float(v) for v in velocities])
        stamp_ns = time.time_ns() if stamp_ns is None else stamp_ns
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        self.joints_pub.publish(msg)
        return stamp_ns

    def send_odom(self, x, y, yaw, stamp_ns=None, quat=None, twist=(0.0, 0.0)):
        msg = Odometry()
        msg.header.frame_id, msg.child_frame_id = 'odom', 'base_link'
        stamp_ns = time.time_ns() if stamp_ns is None else stamp_ns
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        p = msg.pose.pose
        p.position.x, p.position.y = float(x), float(y)
        q = quat_from_rpy(0, 0, yaw) if quat is None else quat
        p.orientation.x, p.orientation.y, p.orientation.z, p.orientation.w = map(float, q)
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = map(float, twist)
        self.odom_pub.publish(msg)
        return stamp_ns

    # observer side
    def wait_for(self, collector, predicate, what):
        def found():
            return any(predicate(m) for m in collector.messages)
        assert self.ros.spin_until(found, REPLY_TIMEOUT, self.proc), (
            f'timed out waiting for {what}:\n' + self.proc.output()[-3000:])
        return next(m for m in reversed(collector.messages) if predicate(m))

    def status(self, stream, predicate, what, keep_sending=None):
        """The newest diagnostics status of ``stream`` once it satisfies ``predicate``.

        :param keep_sending: called every ~50 ms while waiting (keeps an input fresh)
        """
        name = f'twin_bridge: {stream}'
        last_send = [0.0]

        def latest():
            for array in reversed(self.diags.messages):
                for st in array.status:
                    if st.name == name:
                        return st
            return None

        def done():
            if keep_sending is not None and time.monotonic() - last_send[0] > 0.05:
                keep_sending()
                last_send[0] = time.monotonic()
            return (s := latest()) is not None and predicate(s)

        assert self.ros.spin_until(done, REPLY_TIMEOUT, self.proc), (
            f'diagnostics never showed {what}; last: {latest()}\n' + self.proc.output()[-3000:])
        return latest()


def stamp_ns(msg):
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def values(status):
    return {kv.key: kv.value for kv in status.values}


def number(status, key, default=math.nan):
    """A diagnostics value as a number (``default`` when the status lacks ``key``)."""
    value = values(status).get(key)
    return default if value is None else float(value)


def increase(after, before, key):
    """How much the count ``key`` grew from status ``before`` to status ``after``."""
    return number(after, key, 0.0) - number(before, key, 0.0)


def start_bridge(tmp_path, ros_args=(), **overrides):
    params = {
        'backend': 'embedded',
        'world': str(write_world(tmp_path)),
        'robot_description': ROBOT_URDF,
        'model_name': 'test_bot',
        'scan_rate': SCAN_RATE,
        'stale_timeout': STALE_TIMEOUT,
        'diagnostics_period': DIAG_PERIOD,
        'max_future_stamp': 0.5,
        **overrides,
    }
    params_file = write_params_file(tmp_path / 'params.yaml', '/**', params)
    return spawn_node(NODE, params_file=params_file, ros_args=ros_args, log_dir=tmp_path)


@pytest.fixture(scope='class')
def scenario(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('bridge')
    with RosTestContext('bridge_test_observer') as ros, start_bridge(tmp_path) as proc:
        sc = Scenario(proc, ros)
        sc.wait_ready()
        yield sc


# -- one bridge process for a class of tests ------------------------------------------------

BAD_JOINTS = {
    'non_finite': lambda sc, t: sc.send_joints(['pan_joint'], [math.nan], t),
    'length_mismatch': lambda sc, t: sc.send_joints(['pan_joint', 'tilt_joint'], [0.1], t),
    'unknown_joint': lambda sc, t: sc.send_joints(['elbow_joint'], [0.1], t),
    'duplicate_joint': lambda sc, t: sc.send_joints(['pan_joint', 'pan_joint'], [0.1, 0.2], t),
    'empty': lambda sc, t: sc.send_joints([], [], t),
    'future_stamp': lambda sc, t: sc.send_joints(['pan_joint'], [0.1], t + 5_000_000_000),
    'stamp_backwards': lambda sc, t: sc.send_joints(['pan_joint'], [0.1], t - 60_000_000_000),
}
BAD_ODOM = {
    'non_finite': lambda sc, t: sc.send_odom(math.inf, 0, 0, t),
    'zero_quaternion': lambda sc, t: sc.send_odom(0, 0, 0, t, quat=(0, 0, 0, 0)),
    'non_unit_quaternion': lambda sc, t: sc.send_odom(0, 0, 0, t, quat=(0, 0, 0.5, 0.5)),
    'future_stamp': lambda sc, t: sc.send_odom(0, 0, 0, t + 5_000_000_000),
    'stamp_backwards': lambda sc, t: sc.send_odom(0, 0, 0, t - 60_000_000_000),
}


class TestOneBridgeProcess:
    """Tests sharing one bridge process (class-scoped, so it is stopped before any test with a
    process of its own starts); each sets up the state it checks and none stops the node."""

    def test_mirrors_joint_states_and_odometry_with_input_stamps(self, scenario):
        sc = scenario
        js_stamp = sc.send_joints(['pan_joint', 'tilt_joint'], [0.3, -0.2], velocities=[0.1, 0.0])
        od_stamp = sc.send_odom(0.5, -0.3, 0.4, twist=(0.25, -0.1))
        out_js = sc.wait_for(sc.joints, lambda m: stamp_ns(m) == js_stamp, 'virtual/joint_states')
        out_od = sc.wait_for(sc.odom, lambda m: stamp_ns(m) == od_stamp, 'virtual/odom')
        got = dict(zip(out_js.name, out_js.position, strict=True))
        assert got == pytest.approx({'pan_joint': 0.3, 'tilt_joint': -0.2}, abs=1e-12)
        velocities = dict(zip(out_js.name, out_js.velocity, strict=True))
        assert velocities['pan_joint'] == pytest.approx(0.1)
        pose = out_od.pose.pose
        assert (pose.position.x, pose.position.y, pose.position.z) == pytest.approx((0.5, -0.3, 0))
        q = quat_from_rpy(0, 0, 0.4)
        assert (pose.orientation.x, pose.orientation.y, pose.orientation.z,
                pose.orientation.w) == pytest.approx(tuple(q), abs=1e-9)
        assert out_od.twist.twist.linear.x == pytest.approx(0.25)
        assert out_od.twist.twist.angular.z == pytest.approx(-0.1)
        assert (out_od.header.frame_id, out_od.child_frame_id) == ('odom', 'base_link')

    @pytest.mark.parametrize('x, y, yaw', [(0.5, -0.3, 0.4), (-2.0, 1.0, 2.6), (2.8, -1.9, -1.2)])
    def test_scan_matches_analytic_ranges(self, scenario, x, y, yaw):
        sc = scenario
        pose_stamp = sc.send_odom(x, y, yaw)
        scan = sc.wait_for(sc.scans, lambda m: stamp_ns(m) >= pose_stamp, 'a scan of the new pose')
        expected = analytic_ranges(x, y, yaw)
        got = np.asarray(scan.ranges, dtype=float)
        assert got.shape == expected.shape
        np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
        finite = np.isfinite(expected)
        assert finite.sum() > LIDAR_SAMPLES * 0.8
        assert np.max(np.abs(got[finite] - expected[finite])) < 1e-3
        assert scan.header.frame_id == 'lidar_link'
        assert scan.angle_min == pytest.approx(LIDAR_MIN)
        assert scan.angle_max == pytest.approx(LIDAR_MAX)
        assert scan.angle_increment == pytest.approx(2 * math.pi / LIDAR_SAMPLES)
        assert (scan.range_min, scan.range_max) == pytest.approx((RANGE_MIN, RANGE_MAX))
        assert scan.scan_time == pytest.approx(1 / 20.0)
        assert scan.time_increment == 0.0

    def test_scans_keep_arriving_at_the_configured_rate(self, scenario):
        sc = scenario
        sc.ros.spin_for(0.3)
        sc.scans.clear()
        sc.ros.spin_for(2.0)  # ~20 scans
        times = np.array(sc.scans.receive_times)
        assert len(times) >= 2
        rate = (len(times) - 1) / (times[-1] - times[0])
        assert 0.6 * SCAN_RATE < rate < 1.4 * SCAN_RATE, rate

    def test_every_bad_input_is_rejected_counted_and_the_node_keeps_serving(self, scenario):
        sc = scenario
        # A good state first: it is what must be kept, and the backwards stamps are older than it.
        good = sc.send_joints(['pan_joint', 'tilt_joint'], [0.3, -0.2])
        sc.wait_for(sc.joints, lambda m: stamp_ns(m) == good, 'the good joint state')
        good = sc.send_odom(0.5, -0.3, 0.4)
        sc.wait_for(sc.odom, lambda m: stamp_ns(m) == good, 'the good odometry')
        before_js = sc.status('joint_states', lambda s: True, 'joint_states counts')
        before_od = sc.status('odom', lambda s: True, 'odom counts')
        published_js, published_od = len(sc.joints), len(sc.odom)
        for send in BAD_JOINTS.values():
            send(sc, time.time_ns())
        for send in BAD_ODOM.values():
            send(sc, time.time_ns())
        # non-unit quaternion with NaN twist: the twist is checked too
        sc.send_odom(0, 0, 0, time.time_ns(), twist=(math.nan, 0.0))

        st = sc.status('joint_states', lambda s: all(
            increase(s, before_js, f'rejected.{r}') >= 1 for r in BAD_JOINTS), 'joint rejections')
        assert increase(st, before_js, 'rejected') == pytest.approx(len(BAD_JOINTS))
        st = sc.status('odom', lambda s: all(
            increase(s, before_od, f'rejected.{r}') >= 1 for r in BAD_ODOM)
            and increase(s, before_od, 'rejected.non_finite') >= 2, 'odom rejections')
        assert increase(st, before_od, 'rejected') == pytest.approx(len(BAD_ODOM) + 1)
        assert sc.proc.running()
        assert 'rejected joint_states sample' in sc.proc.output()
        # Still serving, and the last good state was kept until now. These samples come after
        # the bad ones on the same connections: once they are out, nothing else went out.
        stamp = sc.send_joints(['tilt_joint'], [0.45])
        od_stamp = sc.send_odom(-0.5, 0.3, 0.0)
        out = sc.wait_for(sc.joints, lambda m: stamp_ns(m) == stamp, 'joint state after rejects')
        got = dict(zip(out.name, out.position, strict=True))
        assert got == pytest.approx({'pan_joint': 0.3, 'tilt_joint': 0.45})
        sc.wait_for(sc.odom, lambda m: stamp_ns(m) == od_stamp, 'odometry after rejects')
        assert [stamp_ns(m) for m in sc.joints.messages[published_js:]] == [stamp]
        assert [stamp_ns(m) for m in sc.odom.messages[published_od:]] == [od_stamp]

    def test_stale_input_is_reported_and_recovers(self, scenario):
        sc = scenario
        sc.status('odom', lambda s: s.level == DiagnosticStatus.OK, 'odom OK',
                  keep_sending=lambda: sc.send_odom(0.0, 0.0, 0.0))
        st = sc.status('odom', lambda s: s.level == DiagnosticStatus.WARN, 'odom stale (WARN)')
        assert values(st)['stale'] == 'true' and 'stale' in st.message
        st = sc.status('odom', lambda s: s.level == DiagnosticStatus.ERROR, 'odom stale (ERROR)')
        assert st.hardware_id == 'test_bot'
        st = sc.status('odom', lambda s: s.level == DiagnosticStatus.OK, 'odom recovered',
                       keep_sending=lambda: sc.send_odom(0.1, 0.0, 0.0))
        assert number(st, 'stale_events') >= 1
        assert 'odom: receiving again' in sc.proc.output()

    def test_latency_ceiling(self, scenario):
        sc = scenario
        sc.joints.clear()
        sent = {}
        for i in range(150):
            stamp = sc.send_joints(['pan_joint'], [0.001 * i])
            sent[stamp] = time.time()
            sc.ros.spin_for(0.01)
        sc.ros.spin_until(lambda: sum(stamp_ns(m) in sent for m in sc.joints.messages) >= len(sent),
                          REPLY_TIMEOUT, sc.proc)
        lat = np.array([t - sent[stamp_ns(m)] for m, t in zip(sc.joints.messages,
                                                              sc.joints.receive_times, strict=True)
                        if stamp_ns(m) in sent])
        assert len(lat) >= 140
        print(f'end-to-end joint_states latency (observer) ms: p50={np.median(lat) * 1e3:.2f} '
              f'p99={np.percentile(lat, 99) * 1e3:.2f} max={lat.max() * 1e3:.2f}')
        assert np.percentile(lat, 99) < 0.05, np.percentile(lat, 99)
        st = sc.status('virtual/joint_states', lambda s: True, 'output stats')
        assert number(st, 'latency_ms.p99') < 50.0

    def test_diagnostics_has_one_status_per_stream(self, scenario):
        scenario.status('virtual/scan', lambda s: number(s, 'published') > 10, 'over 10 scans')
        last = scenario.diags.last
        assert [s.name for s in last.status] == [
            'twin_bridge: joint_states', 'twin_bridge: odom', 'twin_bridge: scan',
            'twin_bridge: virtual/joint_states', 'twin_bridge: virtual/odom',
            'twin_bridge: virtual/scan', 'twin drift: pose', 'twin drift: world',
            'twin drift: lidar', 'twin drift: wheels', 'twin drift: check', 'twin prediction',
            'twin safety']
        assert {s.hardware_id for s in last.status} == {'test_bot'}
        for inp in last.status[:2]:   # counters shown from the start, 0 in this scenario
            assert (number(inp, 'unstamped'), number(inp, 'timeline_reset')) == (0, 0)
        assert 'ignored.unknown_joint' not in values(last.status[0])   # unknown_joints: reject
        # No physical scan in this scenario: the optional input is OK, no drift is raised.
        assert last.status[2].level == bytes([0])
        assert all(s.level == bytes([0]) for s in last.status[6:])
        assert 'error_1s_p50_m' in values(last.status[-2])  # scored once reality comes
        assert last.status[-1].message == 'no command yet'    # the command gate
        scan = last.status[5]
        assert number(scan, 'published') > 10
        assert number(scan, 'rate_hz') == pytest.approx(SCAN_RATE, rel=0.4)


# -- tests with a bridge process of their own -------------------------------------------------

def test_sigint_exits_cleanly_with_summary(tmp_path):
    with RosTestContext('sigint_observer') as ros, start_bridge(tmp_path) as proc:
        sc = Scenario(proc, ros)
        sc.wait_ready()
        stamp = sc.send_joints(['pan_joint'], [0.1])
        sc.wait_for(sc.joints, lambda m: stamp_ns(m) == stamp, 'a mirrored joint state')
        code = proc.stop(signal.SIGINT, timeout=20.0)
    out = proc.output()
    assert code == 0, out
    assert 'summary:' in out and 'joint_states: received=' in out
    assert 'Traceback' not in out


def test_namespace_rate_cap_latest_wins_and_sigterm(tmp_path):
    rate_cap = 5.0
    with RosTestContext('namespace_observer') as ros, start_bridge(
            tmp_path, ros_args=['-r', '__ns:=/robot1'], joint_states_rate=rate_cap) as proc:
        # A best-effort physical publisher (the scenario's are reliable): input_qos matches both.
        pub = ros.node.create_publisher(JointState, '/robot1/joint_states',
                                        qos_profile_sensor_data)
        out = ros.collect('/robot1/virtual/joint_states', JointState)
        assert ros.wait_for_subscribers(pub, DISCOVERY_TIMEOUT, process=proc), proc.output()
        assert ros.wait_for_publishers('/robot1/virtual/joint_states', DISCOVERY_TIMEOUT,
                                       process=proc), proc.output()
        assert ros.node.count_publishers('/virtual/joint_states') == 0
        duration, sent = 2.0, 0
        start = time.monotonic()
        while time.monotonic() - start < duration:       # ~50 Hz input
            sent += 1
            msg = JointState(name=['pan_joint'], position=[0.01 * sent])
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(time.time_ns(), 10**9)
            pub.publish(msg)
            ros.spin_for(0.02)
        ros.spin_until(lambda: out.last is not None
                       and out.last.position[0] == pytest.approx(0.01 * sent), 3.0, proc)
        assert sent > 40
        # capped: about rate_cap per second, never one output per input
        assert 0.4 * rate_cap * duration <= len(out) <= 1.5 * rate_cap * duration + 2, len(out)
        # latest wins: the last output is the last input
        assert out.last.position[0] == pytest.approx(0.01 * sent)
        code = proc.stop(signal.SIGTERM, timeout=20.0)
    assert code == 0, proc.output()
    assert 'summary:' in proc.output() and 'Traceback' not in proc.output()


def test_unknown_joints_ignored_and_base_frame_relabels(tmp_path):
    """unknown_joints:=ignore mirrors the known joints of a message that also names joints
    the twin lacks (counted, named once in the log); a non-empty base_frame is the label of
    /virtual/odom whatever the input's child frame."""
    with RosTestContext('ignore_observer') as ros, start_bridge(
            tmp_path, unknown_joints='ignore', base_frame='chassis') as proc:
        sc = Scenario(proc, ros)
        sc.wait_ready()
        stamp = sc.send_joints(['elbow_joint', 'pan_joint', 'wrist_joint'], [1.0, 0.4, 2.0])
        out = sc.wait_for(sc.joints, lambda m: stamp_ns(m) == stamp, 'the known joints')
        assert dict(zip(out.name, out.position, strict=True)) == pytest.approx(
            {'pan_joint': 0.4, 'tilt_joint': 0.0})
        sc.send_joints(['pan_joint', 'elbow_joint'], [0.5, 1.0])
        st = sc.status('joint_states', lambda s: number(s, 'ignored.unknown_joint', 0) == 2,
                       'ignored.unknown_joint counted')
        assert (number(st, 'rejected'), number(st, 'accepted')) == (0, 2)
        log = proc.output()
        assert log.count('ignoring joints the twin does not have') == 1, log
        assert "['elbow_joint', 'wrist_joint']" in log
        od_stamp = sc.send_odom(0.5, -0.3, 0.4)
        out_od = sc.wait_for(sc.odom, lambda m: stamp_ns(m) == od_stamp, 'virtual/odom')
        assert out_od.child_frame_id == 'chassis'
        assert out_od.pose.pose.position.x == pytest.approx(0.5)


@pytest.mark.parametrize('params, words', [
    ({'backend': 'unreal'}, "backend is 'unreal'"),
    ({'world': 'no_such_world'}, 'no_such_world'),
    ({'scan_qos': 'fast'}, "scan_qos is 'fast'"),
    ({'unknown_joints': 'drop'}, "unknown_joints is 'drop'"),
    # An output onto the robot's own input would make the twin feed itself.
    ({'output_odom_topic': 'odom'}, 'output_odom_topic resolves to /odom'),
    ({'output_scan_topic': '/joint_states'}, 'input_joint_states_topic'),
    ({'output_joint_states_topic': 'virtual/odom'}, 'output_odom_topic'),
])
def test_bad_parameter_is_a_clear_fatal_error(tmp_path, params, words):
    proc = start_bridge(tmp_path, **params)
    code = proc.wait(60.0)
    out = proc.output()
    if code is None:
        proc.kill()
    assert code not in (None, 0), out
    assert 'cannot start' in out and words in out, out
    assert 'Traceback' not in out


def test_help_lists_parameters_without_starting_ros():
    result = subprocess.run([sys.executable, '-m', NODE, '--help'], capture_output=True,
                            text=True, timeout=60, env=os.environ)
    assert result.returncode == 0, result.stderr
    for name in ('backend', 'world', 'scan_rate', 'stale_timeout', 'state_qos',
                 'unknown_joints', 'base_frame'):
        assert f'  {name} ' in result.stdout
