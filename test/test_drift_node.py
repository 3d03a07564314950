"""The drift check over real DDS: a physical robot of the test's own, each fault injected in it.

The test process plays the physical robot (not ``physical_sim``): the default robot drives a
figure-eight in the warehouse; odometry and joint states go out at 50 Hz and its own lidar
scan (cast from the true pose by :class:`FaultyScanner`, 1 cm noise) at 10 Hz, every message
stamped with the wall clock at the time it was sampled. Each test switches one fault on at
``FAULT_AT`` s and checks that a bridge process of its own names the cause on
``/diagnostics`` with an estimate near the truth; a fresh bridge per test keeps a verdict
from leaking into the next test.
"""

from __future__ import annotations

from contextlib import contextmanager
import math
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseWithCovarianceStamped
from nav_msgs.msg import Odometry
import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data
from ros_harness import RosTestContext, spawn_node, write_params_file
from sensor_msgs.msg import JointState, LaserScan
from test_bridge_node import increase, number, stamp_ns, values
from visualization_msgs.msg import Marker, MarkerArray

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.ros.conversions import ns_to_time, scan_to_msg, set_odometry_state
from twin_bridge.stand_in.fault_scan import FaultyScanner
from twin_bridge.stand_in.faults import FaultInjector, parse_faults, transform_pose
from twin_bridge.stand_in.motion_profiles import make_motion
from twin_bridge.stand_in.pacing import PeriodicSchedule

NODE = 'twin_bridge.ros.bridge_node'
WORLD = 'warehouse'
#: Where the figure-eight starts (x, y, yaw): the open hall west of the partition, with
#: box_0 (at (-4.5, 0.5), 0.4 m across) about 2.5 m away.
START = (-2.5, -1.5, 0.0)
SPEED, PERIOD = 0.3, 20.0
STATE_RATE, SCAN_RATE = 50.0, 10.0
FAULT_AT = 1.5        # s of motion time: about 15 nominal scans come first
DIAG_PERIOD = 0.25
DISCOVERY_TIMEOUT = 45.0
DETECT_TIMEOUT = 10.0
MOVED = ('box_0', 0.0, 0.3)   # obstacle, dx, dy


class PhysicalRobot:
    """The default robot's true motion and what it publishes with ``faults`` on.

    :param faults: fault specs as ``physical_sim`` takes them (see ``stand_in.faults``)
    :param seed: seed of the lidar noise
    """

    def __init__(self, faults: tuple[str, ...] = (), seed: int = 1) -> None:
        robot = load_robot_description(default_robot_path())
        joints = [(j.name, j.lower, j.upper) for j in map(robot.joint, robot.movable_joint_names)]
        self.motion = make_motion('figure_eight', joints, robot.wheel_joint_names, speed=SPEED,
                                  period=PERIOD)
        self.faults = FaultInjector(parse_faults(faults, seed), self.motion.joint_names,
                                    robot.wheel_joint_names)
        self.scanner = FaultyScanner(WORLD, robot, self.faults, seed=seed)

    def true_odometry(self, t: float) -> OdometrySample:
        """The true base pose and twist at motion time ``t`` (the figure-eight from START)."""
        return transform_pose(self.motion.odometry(t), np.zeros(2), *START)

    def odometry(self, t: float) -> OdometrySample:
        return self.faults.odometry(self.true_odometry(t), t)

    def joint_state(self, t: float):
        return self.faults.joint_state(self.motion.joint_state(t), t)

    def scan(self, t: float) -> ScanData | None:
        return self.scanner.scan(t, self.true_odometry(t), self.motion.joint_state(t))

    def close(self) -> None:
        self.scanner.close()


def planar(sample: OdometrySample) -> np.ndarray:
    return np.array([sample.position[0], sample.position[1], yaw_from_quat(sample.orientation)])


class Publisher:
    """Publishes a :class:`PhysicalRobot` from a pacing thread: odometry and joint states at
    STATE_RATE, scans at SCAN_RATE, each stamped with the wall time its state was taken at.

    :param scan_filter: turns each scan message into what is published (bad-input tests)
    """

    def __init__(self, node, robot: PhysicalRobot, scan_filter=None) -> None:
        self.robot = robot
        self.odom_pub = node.create_publisher(Odometry, 'odom', 10)
        self.joints_pub = node.create_publisher(JointState, 'joint_states', 10)
        self.scan_pub = node.create_publisher(LaserScan, 'scan', qos_profile_sensor_data)
        self.scan_filter = scan_filter
        self.start_ns: int | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='physical_robot', daemon=True)

    @property
    def publishers(self):
        return self.odom_pub, self.joints_pub, self.scan_pub

    def wall_ns(self, t: float) -> int:
        """The stamp of motion time ``t``."""
        return self.start_ns + int(round(t * 1e9))

    def motion_time(self, stamp: int) -> float:
        """The motion time of a stamp (ns)."""
        return (stamp - self.start_ns) * 1e-9

    def start(self) -> None:
        self.start_ns = time.time_ns()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        schedule = PeriodicSchedule(time.monotonic())
        schedule.add('odom', STATE_RATE)
        schedule.add('scan', SCAN_RATE)
        try:
            while not self._stop.is_set():
                name, due = schedule.next_due()
                delay = due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                stamp = time.time_ns()
                t = self.motion_time(stamp)
                if name == 'odom':
                    self._publish_state(t, stamp)
                else:
                    self._publish_scan(t, stamp)
                schedule.done(name, time.monotonic())
        except BaseException as exc:  # reported by stop()
            self.error = exc

    def _publish_state(self, t: float, stamp: int) -> None:
        msg = Odometry()
        msg.header.frame_id, msg.child_frame_id = 'odom', 'base_link'
        set_odometry_state(msg, self.robot.odometry(t))
        msg.header.stamp = ns_to_time(stamp)
        self.odom_pub.publish(msg)
        joints = self.robot.joint_state(t)
        js = JointState(name=list(joints.names), position=joints.positions.tolist(),
                        velocity=joints.velocities.tolist())
        js.header.stamp = ns_to_time(stamp)
        self.joints_pub.publish(js)

    def _publish_scan(self, t: float, stamp: int) -> None:
        scan = self.robot.scan(t)
        msg = scan_to_msg(scan, stamp)
        if self.scan_filter is not None:
            msg = self.scan_filter(msg)
        self.scan_pub.publish(msg)


class Run:
    """A bridge process, the physical robot publishing to it and what the bridge reports."""

    def __init__(self, ros: RosTestContext, proc, publisher: Publisher) -> None:
        self.ros, self.proc, self.pub = ros, proc, publisher
        self.diags = ros.collect('/diagnostics', DiagnosticArray)
        self.corrections = ros.collect('virtual/pose_correction', PoseWithCovarianceStamped)
        self.changes = ros.collect('virtual/world_changes', MarkerArray)
        self.residuals = ros.collect('virtual/scan_residual', LaserScan, qos_profile_sensor_data)
        self.virtual_odom = ros.collect('virtual/odom', Odometry)

    def start(self) -> None:
        """Wait until the bridge listens to every input, then start publishing."""
        ros, proc = self.ros, self.proc
        for pub in self.pub.publishers:
            assert ros.wait_for_subscribers(pub, DISCOVERY_TIMEOUT, process=proc), (
                f'bridge never subscribed to {pub.topic_name}:\n' + proc.output()[-3000:])
        assert ros.wait_for_publishers('/diagnostics', DISCOVERY_TIMEOUT, process=proc)
        self.pub.start()

    def onset_wall(self) -> float:
        """Wall time (s) of the fault's onset."""
        return self.pub.wall_ns(FAULT_AT) * 1e-9

    def statuses(self, name: str) -> list[tuple[float, DiagnosticStatus]]:
        """Every status ``name`` received so far with its receive time."""
        return [(t, s) for array, t in zip(self.diags.messages, self.diags.receive_times,
                                           strict=True)
                for s in array.status if s.name == name]

    def latest(self, name: str) -> DiagnosticStatus | None:
        found = self.statuses(name)
        return found[-1][1] if found else None

    def wait_status(self, name: str, predicate, what: str,
                    timeout: float = DETECT_TIMEOUT) -> DiagnosticStatus:
        """The newest status ``name`` once it satisfies ``predicate``."""
        def done():
            return (s := self.latest(name)) is not None and predicate(s)
        assert self.ros.spin_until(done, timeout, self.proc), (
            f'diagnostics never showed {what}; last: {self.latest(name)}\n'
            + self.proc.output()[-3000:])
        return self.latest(name)

    def first_level(self, name: str, level: int) -> float | None:
        """Seconds from the onset to the first status ``name`` at ``level`` or above."""
        for t, s in self.statuses(name):
            if s.level[0] >= level:
                return t - self.onset_wall()
        return None

    def nothing_before_onset(self) -> None:
        """Before the fault, scans were compared and no cause was raised."""
        before = [s for t, s in self.statuses('twin drift: check') if t < self.onset_wall()]
        assert before and number(before[-1], 'checked') >= 1, before
        for cause in CAUSES:
            raised = [s for t, s in self.statuses(f'twin drift: {cause}')
                      if t < self.onset_wall() and s.level[0] > 0]
            assert not raised, raised


CAUSES = ('pose', 'world', 'lidar', 'wheels')
OK, WARN, ERROR = 0, 1, 2


def level(status: DiagnosticStatus) -> int:
    return status.level[0]


@contextmanager
def bridge_run(tmp_path, faults: tuple[str, ...] = (), scan_filter=None):
    """A fresh bridge and a physical robot with ``faults`` on from FAULT_AT; yields a
    started :class:`Run`; the bridge must still run at the end and stop cleanly."""
    params = {'backend': 'embedded', 'world': WORLD, 'diagnostics_period': DIAG_PERIOD,
              'model_name': 'drift_bot'}
    proc = spawn_node(NODE, params_file=write_params_file(tmp_path / 'params.yaml', '/**',
                                                          params), log_dir=tmp_path)
    robot = None
    try:
        # Built while the bridge starts.
        robot = PhysicalRobot(tuple(f'{f},at={FAULT_AT}' for f in faults))
        with RosTestContext('drift_test_robot') as ros:
            publisher = Publisher(ros.node, robot, scan_filter)
            r = Run(ros, proc, publisher)
            r.start()
            try:
                yield r
            finally:
                publisher.stop()
            assert proc.running(), proc.output()[-3000:]
            code = proc.stop(timeout=20.0)
            assert code == 0, proc.output()[-3000:]
            out = proc.output()
            assert 'Traceback' not in out and ' failed: ' not in out, out[-3000:]  # threads
    finally:
        if proc.running():
            proc.kill()
        if robot is not None:
            robot.close()


def causes_raised(r: Run) -> dict[str, int]:
    return {c: level(r.latest(f'twin drift: {c}')) for c in CAUSES}


def report(what: str, r: Run, cause: str) -> None:
    warn, error = r.first_level(f'twin drift: {cause}', WARN), r.first_level(
        f'twin drift: {cause}', ERROR)
    print(f'{what}: {cause} WARN after {warn:.2f} s, ERROR after {error:.2f} s '
          f'(diagnostics every {DIAG_PERIOD} s); {values(r.latest(f"twin drift: {cause}"))}; '
          f'{values(r.latest("twin drift: check"))}')


# -- nominal -----------------------------------------------------------------------------------

def test_nominal_input_raises_nothing(tmp_path):
    with bridge_run(tmp_path) as r:
        st = r.wait_status('twin drift: check', lambda s: number(s, 'checked') >= 30,
                           '30 scans compared')
        assert number(st, 'dropped') <= 2 and number(st, 'overflow') == 0, values(st)
        for cause in CAUSES:
            seen = r.statuses(f'twin drift: {cause}')
            assert len(seen) >= 10
            assert all(level(s) == OK for _, s in seen), [values(s) for _, s in seen if level(s)]
        assert len(r.corrections) == 0 and len(r.changes) == 0
        scan = r.latest('twin_bridge: scan')
        assert level(scan) == OK and number(scan, 'accepted') >= 30
        assert number(scan, 'rejected') == 0, values(scan)
        # The per-beam residual is the lidar's 1 cm noise.
        assert len(r.residuals) >= 10
        residual = np.asarray(r.residuals.last.ranges, dtype=float)
        assert np.count_nonzero(np.isfinite(residual)) > 500
        assert np.nanmedian(np.abs(residual)) < 0.02


# -- one fault each ----------------------------------------------------------------------------

def test_odometry_offset_is_named_pose_and_corrected(tmp_path):
    with bridge_run(tmp_path, ('pose_offset:dx=0.05,dyaw_deg=2',)) as r:
        st = r.wait_status('twin drift: pose', lambda s: level(s) == ERROR, 'pose ERROR')
        r.nothing_before_onset()
        report('odometry offset 5 cm / 2 deg', r, 'pose')
        raised = causes_raised(r)
        assert raised['world'] == OK and raised['wheels'] == OK and raised['lidar'] < ERROR, raised
        # The estimate is the correction taking the reported pose to the true one (it
        # changes by < 1 cm/s as the robot turns away from where the offset began, so the
        # time of the status is close enough to that of its scan).
        t = r.pub.motion_time(stamp_ns(r.diags.last))
        true, reported = planar(r.pub.robot.true_odometry(t)), planar(r.pub.robot.odometry(t))
        assert number(st, 'dx') == pytest.approx(true[0] - reported[0], abs=0.015)
        assert number(st, 'dy') == pytest.approx(true[1] - reported[1], abs=0.015)
        assert number(st, 'dyaw_deg') == pytest.approx(-2.0, abs=0.3)
        # virtual/pose_correction: the scan-matched pose, the true one at the scan's stamp.
        assert r.ros.spin_until(lambda: len(r.corrections) > 0, DETECT_TIMEOUT, r.proc)
        msg = r.corrections.last
        assert msg.header.frame_id == 'odom'
        true = planar(r.pub.robot.true_odometry(r.pub.motion_time(stamp_ns(msg))))
        p, q = msg.pose.pose.position, msg.pose.pose.orientation
        error_xy = math.hypot(p.x - true[0], p.y - true[1])
        error_yaw = math.degrees(math.remainder(
            yaw_from_quat(np.array([q.x, q.y, q.z, q.w])) - true[2], 2 * math.pi))
        print(f'pose_correction vs truth: {error_xy * 100:.2f} cm, {error_yaw:.3f} deg')
        assert error_xy < 0.01 and abs(error_yaw) < 0.3
        covariance = np.asarray(msg.pose.covariance).reshape(6, 6)
        assert np.all(np.diag(covariance)[[0, 1, 5]] > 0)
        first = r.pub.motion_time(stamp_ns(r.corrections.messages[0])) - FAULT_AT
        print(f'first pose_correction: scan stamped {first:.2f} s after the onset')


def test_moved_obstacle_is_named_world_and_located(tmp_path):
    fault = f'obstacle_moved:name={MOVED[0]},dx={MOVED[1]},dy={MOVED[2]}'
    with bridge_run(tmp_path, (fault,)) as r:
        st = r.wait_status('twin drift: world', lambda s: level(s) == ERROR, 'world ERROR')
        r.nothing_before_onset()
        report('box_0 moved 0.3 m', r, 'world')
        raised = causes_raised(r)
        assert raised['pose'] == OK and raised['lidar'] == OK and raised['wheels'] == OK, raised
        # The change lies on the union of the old and the moved footprint (0.4 m box).
        old = obstacle_position(MOVED[0])
        new = old + np.array(MOVED[1:])
        centre = (old + new) / 2
        where = np.array([number(st, 'changed_x'), number(st, 'changed_y')])
        assert np.linalg.norm(where - centre) < 0.45, (where, old, new)
        # Where it appeared: the face of the moved box the lidar sees.
        appeared = np.array([number(st, 'appeared_x'), number(st, 'appeared_y')])
        assert np.linalg.norm(appeared - new) < 0.3, (appeared, new)
        # virtual/world_changes: a marker there.
        def marked():
            return any(m.type == Marker.CYLINDER and m.action == Marker.ADD and np.linalg.norm(
                np.array([m.pose.position.x, m.pose.position.y]) - centre) < 0.45
                for msg in r.changes.messages for m in msg.markers)
        assert r.ros.spin_until(marked, DETECT_TIMEOUT, r.proc), [
            [(m.type, m.pose.position.x, m.pose.position.y) for m in msg.markers]
            for msg in r.changes.messages[-3:]]
        assert r.changes.last.markers[0].action == Marker.DELETEALL
        assert r.changes.last.markers[1].header.frame_id == 'odom'


def obstacle_position(name: str) -> np.ndarray:
    """Where a free world body starts, from the compiled world."""
    backend = EmbeddedBackend(WORLD, load_robot_description(default_robot_path()))
    try:
        m = backend.model
        body = m.body(f'{name}::link')
        adr = int(m.jnt_qposadr[int(body.jntadr[0])])
        return np.array(m.qpos0[adr:adr + 2], dtype=float)
    finally:
        backend.close()


def test_lidar_yaw_is_named_lidar_and_estimated(tmp_path):
    with bridge_run(tmp_path, ('lidar_yaw:deg=2',)) as r:
        st = r.wait_status('twin drift: lidar', lambda s: level(s) == ERROR, 'lidar ERROR')
        r.nothing_before_onset()
        report('lidar yaw 2 deg', r, 'lidar')
        raised = causes_raised(r)
        assert raised['pose'] < ERROR and raised['world'] == OK and raised['wheels'] == OK, raised
        assert number(st, 'yaw_offset_deg') == pytest.approx(2.0, abs=0.2)


def test_wheel_slip_is_named_wheels_and_estimated(tmp_path):
    with bridge_run(tmp_path, ('wheel_slip:factor=1.1',)) as r:
        st = r.wait_status('twin drift: wheels', lambda s: level(s) == ERROR, 'wheels ERROR')
        r.nothing_before_onset()
        report('wheel slip 10 %', r, 'wheels')
        raised = causes_raised(r)
        assert raised['pose'] == OK and raised['world'] == OK and raised['lidar'] == OK, raised
        # The estimate converges over a window: wait for it rather than take the first alarm.
        st = r.wait_status('twin drift: wheels', lambda s: level(s) == ERROR and abs(
            number(s, 'slip') - 0.1) < 0.02, 'slip within 0.02 of 0.1', timeout=5.0)
        assert number(st, 'slip') == pytest.approx(0.1, abs=0.02)
        print(f'slip within 0.02 of 0.1 after {r.statuses(st.name)[-1][0] - r.onset_wall():.2f} s')


# -- bad physical scans ------------------------------------------------------------------------

def _bad_scans():
    """Three scans of every four bad, in turn: 40 ranges short, NaN angle_min, zero
    angle_increment; the fourth good."""
    count = [0]

    def bad(msg: LaserScan) -> LaserScan:
        count[0] += 1
        kind = count[0] % 4
        if kind == 1:
            msg.ranges = msg.ranges[:-40]
        elif kind == 2:
            msg.angle_min = math.nan
        elif kind == 3:
            msg.angle_increment = 0.0
        return msg
    return bad


BAD_SCAN_REASONS = ('length_mismatch', 'non_finite', 'bad_angles')


def test_bad_physical_scans_are_rejected_counted_and_the_node_keeps_serving(tmp_path):
    with bridge_run(tmp_path, scan_filter=_bad_scans()) as r:
        before = r.wait_status('twin_bridge: scan', lambda s: True, 'scan counts')
        st = r.wait_status('twin_bridge: scan', lambda s: all(
            increase(s, before, f'rejected.{reason}') >= 3 for reason in BAD_SCAN_REASONS),
            'each bad scan rejected 3 times')
        assert number(st, 'rejected') == sum(number(st, f'rejected.{x}') for x in BAD_SCAN_REASONS)
        assert number(st, 'accepted') >= 1
        assert 'rejected scan sample' in r.proc.output()
        # The good scans in between are still compared, and nothing is raised.
        check = r.wait_status('twin drift: check', lambda s: number(s, 'checked') >= 5,
                              '5 good scans compared')
        assert number(check, 'checked') <= number(r.latest('twin_bridge: scan'), 'accepted')
        assert all(level(r.latest(f'twin drift: {c}')) == OK for c in CAUSES)
        # Still mirroring.
        n = len(r.virtual_odom)
        assert r.ros.spin_until(lambda: len(r.virtual_odom) > n + 10, 5.0, r.proc)
        odom = r.virtual_odom.last
        t = r.pub.motion_time(stamp_ns(odom))
        assert odom.pose.pose.position.x == pytest.approx(
            r.pub.robot.true_odometry(t).position[0], abs=1e-6)

