"""Tests for digital_twin: the twin as a Python object, fed by the stand-in robot's faults."""

from dataclasses import replace
import math

import numpy as np
import pytest

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.stand_in.fault_scan import FaultyScanner
from twin_bridge.stand_in.faults import FaultInjector, parse_faults
from twin_bridge.stand_in.motion_profiles import make_motion
from twin_bridge.twin.digital_twin import DigitalTwin
from twin_bridge.twin.drift.monitor import Level

T0 = 1_700_000_000_000_000_000
WORLD = 'warehouse'


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def run(twin: DigitalTwin, robot, faults=(), seconds: float = 3.0, seed: int = 1):
    """Drive the stand-in's figure-eight through ``twin``: odometry and joints at 50 Hz,
    scans at 10 Hz, each stamped with its time; ``faults`` as physical_sim takes them.
    :return: per scan: its time, the drift verdicts after it, and the true and the
        reported (odometry) base pose ``(x, y, yaw)`` at its stamp"""
    joints = [(j.name, j.lower, j.upper) for j in map(robot.joint, robot.movable_joint_names)]
    motion = make_motion('figure_eight', joints, robot.wheel_joint_names)
    injector = FaultInjector(parse_faults(faults, seed), motion.joint_names,
                             robot.wheel_joint_names)
    scanner = FaultyScanner(WORLD, robot, injector, seed=seed)
    history = []
    try:
        for k in range(int(seconds * 50) + 1):
            t = k / 50
            stamp = T0 + int(round(t * 1e9))
            true_odom, true_joints = motion.odometry(t), motion.joint_state(t)
            odom = replace(injector.odometry(true_odom, t), stamp_ns=stamp)
            js = replace(injector.joint_state(true_joints, t), stamp_ns=stamp)
            scan = None
            if k % 5 == 0:
                scan = replace(scanner.scan(t, true_odom, true_joints), stamp_ns=stamp)
            for outcome in twin.update(joints=js, odometry=odom, scan=scan, now=t,
                                       wall_ns=stamp):
                assert outcome.accepted, outcome.describe()
            if scan is not None:
                history.append((t, twin.drift(), _planar(true_odom), _planar(odom)))
    finally:
        scanner.close()
    return history


def _planar(odom: OdometrySample) -> np.ndarray:
    return np.array([odom.position[0], odom.position[1], yaw_from_quat(odom.orientation)])


def test_nominal_input_raises_no_drift_and_the_twin_follows(robot):
    twin = DigitalTwin(WORLD, robot)
    history = run(twin, robot)
    assert twin.drift_counts['checked'] >= 25
    for t, verdicts, _, _ in history:
        assert all(v.level == Level.OK for v in verdicts.values()), (t, verdicts)
    state = twin.virtual_state()
    assert state.odometry is not None and state.joints is not None
    report = twin.latest_report()
    residual = report.residual.ranges
    assert np.nanmedian(np.abs(residual)) < 0.03  # 1 cm lidar noise
    twin.close()


def test_an_odometry_offset_is_named_pose_and_estimated(robot):
    twin = DigitalTwin(WORLD, robot)
    history = run(twin, robot, ['pose_offset:dx=0.05,dyaw_deg=2,at=1'])
    raised = [h for h in history if h[1]['pose'].level == Level.ERROR]
    assert raised and raised[0][0] <= 1.5, [(h[0], h[1]['pose'].level) for h in history]
    assert all(h[1][c].level == Level.OK for h in raised for c in ('world', 'wheels'))
    _, verdicts, true, reported = raised[-1]
    est = verdicts['pose'].estimates
    # The correction takes the odometry pose to the true one.
    assert est['dx'] == pytest.approx(true[0] - reported[0], abs=0.01)
    assert est['dy'] == pytest.approx(true[1] - reported[1], abs=0.01)
    assert est['dyaw_deg'] == pytest.approx(-2.0, abs=0.3)
    report = twin.latest_report()
    assert report.pose_correction is not None
    cov = report.pose_correction.covariance
    assert cov.shape == (3, 3) and np.all(np.linalg.eigvalsh(cov) > 0)
    assert report.pose_correction.stamp_ns == report.stamp_ns
    twin.close()


def test_wheel_slip_is_named_wheels(robot):
    twin = DigitalTwin(WORLD, robot)
    history = run(twin, robot, ['wheel_slip:factor=1.1,at=0.5'])
    wheels = [h[1]['wheels'] for h in history if h[1]['wheels'].level == Level.ERROR]
    assert wheels, 'slip not detected'
    assert wheels[-1].estimates['slip'] == pytest.approx(0.1, abs=0.02)
    assert all(h[1]['pose'].level == Level.OK for h in history)
    twin.close()


def test_prediction_follows_the_current_twist(robot):
    twin = DigitalTwin(WORLD, robot)
    assert twin.predict() is None  # nothing mirrored yet
    run(twin, robot, seconds=1.0)
    path = twin.predict(1.0)
    odom = twin.virtual_state().odometry
    assert path.times[-1] == pytest.approx(1.0)
    assert path.x[0] == pytest.approx(odom.position[0])
    assert path.yaw[0] == pytest.approx(yaw_from_quat(odom.orientation))
    travelled = math.hypot(path.x[-1] - path.x[0], path.y[-1] - path.y[0])
    speed = float(np.linalg.norm(odom.linear_velocity[:2]))
    assert travelled == pytest.approx(speed * 1.0, rel=0.1)
    twin.close()


def test_a_scan_waits_for_the_odometry_after_its_stamp_and_bad_scans_are_counted(robot):
    twin = DigitalTwin(WORLD, robot)
    odom = OdometrySample(np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0]), stamp_ns=T0)
    twin.on_odometry(odom, 0.0, T0)
    scan = twin.backend.scan()
    early = twin.on_scan(replace(scan, stamp_ns=T0 + 10_000_000), 0.01, T0 + 10_000_000)
    assert early.accepted
    assert twin.process_drift() is None  # no odometry after the scan's stamp yet
    twin.on_odometry(replace(odom, stamp_ns=T0 + 20_000_000), 0.02, T0 + 20_000_000)
    assert twin.process_drift() is not None and twin.drift_counts['checked'] == 1
    bad = twin.on_scan(replace(scan, angle_increment=0.0, stamp_ns=T0 + 30_000_000), 0.03,
                       T0 + 30_000_000)
    assert not bad.accepted and bad.verdict.reason.value == 'bad_angles'
    counts = {s.name: s for s in twin.statuses(0.04)}['scan'].counts
    assert counts['rejected.bad_angles'] == 1 and counts['accepted'] == 1
    twin.close()


def test_a_robot_without_lidar_has_no_drift_check_but_mirrors():
    twin = DigitalTwin(WORLD, default_robot_path(), xacro_args={'lidar': 'false'})
    assert twin.drift_monitor is None
    assert twin.gate is not None and not twin.wants_scans  # the gate judges, scan-free
    assert all(v.level == Level.OK for v in twin.drift().values())
    odom = OdometrySample(np.array([1.0, 2.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                          stamp_ns=T0)
    assert twin.update(odometry=odom, now=0.0, wall_ns=T0)[0].accepted
    assert twin.virtual_state().odometry.position[1] == 2.0
    twin.close()


class _RenderingBackend(SimulatorBackend):
    """A backend that is not the embedded one (as Gazebo's): it mirrors and renders, but the
    twin must judge with an embedded model of its own."""

    def __init__(self, inner):
        self.inner, self.scans_asked = inner, 0

    joint_names = property(lambda self: self.inner.joint_names)
    lidar = property(lambda self: self.inner.lidar)
    robot = property(lambda self: self.inner.robot)

    def mirror(self, odometry=None, joints=None):
        self.inner.mirror(odometry, joints)

    def scan(self):
        self.scans_asked += 1
        return self.inner.scan()

    def odometry(self):
        return self.inner.odometry()

    def joint_state(self):
        return self.inner.joint_state()

    def step(self, duration, wheel_velocities=None):
        raise NotImplementedError('a rendering backend owns its clock')


def test_with_another_backend_the_embedded_model_judges_alongside(robot):
    from twin_bridge.embedded.embedded_backend import EmbeddedBackend
    rendering = _RenderingBackend(EmbeddedBackend(WORLD, robot))
    twin = DigitalTwin(WORLD, robot, backend=rendering)
    assert isinstance(twin.judge, EmbeddedBackend) and twin.judge is not rendering.inner
    history = run(twin, robot, ['pose_offset:dx=0.05,dyaw_deg=2,at=1'])
    assert any(h[1]['pose'].level == Level.ERROR for h in history)
    assert twin.drift_counts['checked'] >= 25 and rendering.scans_asked == 0
    twin.close()
