"""Tests for drift.monitor: each fault injected through the embedded backend is detected,
estimated and named; nominal input raises nothing."""

import math

from drift_fixtures import Twin, drive
import numpy as np
import pytest

from twin_bridge.twin.drift.monitor import DriftMonitor, Level


@pytest.fixture(scope='module')
def twin():
    return Twin()


def monitor(twin):
    return DriftMonitor(twin.caster, twin.robot, wheel_radius=0.06, wheel_separation=0.32)


START = (-3.0, -1.0, 0.5)


def errors(mon):
    return {c for c, v in mon.verdicts().items() if v.level == Level.ERROR}


@pytest.mark.parametrize('seed', [0, 1])
def test_nominal_raises_nothing(twin, seed):
    mon = monitor(twin)
    first, _, _ = drive(twin, mon, start=START, seconds=4.0, rng=np.random.default_rng(seed))
    assert first == {}
    assert all(v.level == Level.OK for v in mon.verdicts().values())


def test_pose_offset(twin):
    mon = monitor(twin)
    first, true, odom = drive(twin, mon, start=START, seconds=2.0, fault='pose', fault_at=1.0,
                              rng=np.random.default_rng(2))
    assert errors(mon) == {'pose'} and first['pose'] < 0.5
    est = mon.verdicts()['pose'].estimates
    truth = true - odom
    assert math.hypot(est['dx'] - truth[0], est['dy'] - truth[1]) < 0.01
    assert abs(est['dyaw_deg'] - math.degrees(truth[2])) < 0.3


def test_lidar_yaw_offset(twin):
    mon = monitor(twin)
    first, _, _ = drive(twin, mon, start=START, seconds=3.0, fault='lidar', fault_at=1.0,
                        rng=np.random.default_rng(3))
    assert errors(mon) == {'lidar'} and first['lidar'] < 2.0
    assert mon.verdicts()['lidar'].estimates['yaw_offset_deg'] == pytest.approx(2.0, abs=0.2)


def test_wheel_slip(twin):
    mon = monitor(twin)
    first, _, _ = drive(twin, mon, start=START, seconds=2.5, fault='wheels', fault_at=1.0,
                        rng=np.random.default_rng(4))
    assert errors(mon) == {'wheels'} and first['wheels'] < 1.0
    assert mon.verdicts()['wheels'].estimates['slip'] == pytest.approx(0.1, abs=0.02)


def test_moved_obstacle(twin):
    mon = DriftMonitor.from_backend(twin.backend)
    try:
        first, _, _ = drive(twin, mon, start=(-2.5, -1.5, 1.5), seconds=2.5, fault='world',
                            fault_at=1.0, rng=np.random.default_rng(5),
                            on_fault=lambda: twin.move_body('box_0::link', 0.0, 0.3))
    finally:
        twin.physical.sync(twin.caster.data.qpos)
    assert errors(mon) == {'world'} and first['world'] < 1.0
    est = mon.verdicts()['world'].estimates
    # box_0 (0.4 m across, yaw 0.3) moved from (-4.5, 0.5) to (-4.5, 0.8): the change is
    # on the union of both footprints, where it appeared on the new one
    assert math.hypot(est['changed_x'] + 4.5, est['changed_y'] - 0.65) < 0.45
    assert math.hypot(est['appeared_x'] + 4.5, est['appeared_y'] - 0.8) < 0.3
    assert any(math.hypot(k.centre[0] + 4.5, k.centre[1] - 0.65) < 0.45
               for k in mon.world_changes)


@pytest.mark.parametrize('fault, key, truth, tol', [('range_bias', 'range_bias', 0.03, 0.005),
                                                    ('range_scale', 'range_scale', 0.99, 0.002)])
def test_range_bias_and_scale(twin, fault, key, truth, tol):
    mon = monitor(twin)
    first, _, _ = drive(twin, mon, start=START, seconds=2.5, fault=fault, fault_at=1.0,
                        rng=np.random.default_rng(6), range_bias=0.03, range_scale=0.99)
    assert errors(mon) == {'lidar'} and first['lidar'] < 2.0
    assert mon.verdicts()['lidar'].estimates[key] == pytest.approx(truth, abs=tol)


def test_from_backend_reads_the_wheel_geometry(twin):
    mon = DriftMonitor.from_backend(twin.backend)
    assert mon.wheels is not None and mon.wheels.geometry.wheel_radius == pytest.approx(0.06)
    first, _, _ = drive(twin, mon, start=START, seconds=2.5, fault='wheels', fault_at=1.0,
                        rng=np.random.default_rng(4))
    assert errors(mon) == {'wheels'} and first['wheels'] < 1.0


def test_pose_correction_and_residuals_after_a_pose_offset(twin):
    mon = DriftMonitor.from_backend(twin.backend)
    assert mon.pose_correction is None and mon.residual() is None
    _, true, odom = drive(twin, mon, start=START, seconds=1.5, fault='pose', fault_at=1.0,
                          rng=np.random.default_rng(2))
    corr = mon.pose_correction
    assert np.allclose(corr.pose[:2], true[:2], atol=0.01)
    np.testing.assert_allclose(corr.odometry, odom)
    assert np.allclose(corr.delta[:2], (true - odom)[:2], atol=0.01)
    cov = corr.covariance_6x6().reshape(6, 6)
    assert np.all(np.diag(cov)[[0, 1, 5]] > 0) and np.all(np.diag(cov)[2:5] == 0)
    assert np.sqrt(cov[0, 0]) < 0.01
    assert corr.quaternion() @ corr.quaternion() == pytest.approx(1.0)
    raw, corrected = mon.residual(), mon.residual(corrected=True)
    assert raw.shape == (len(twin.angles),) and np.count_nonzero(np.isfinite(raw)) > 500
    assert np.nanpercentile(np.abs(raw), 75) > 0.05  # the twin's view is off
    assert np.nanpercentile(np.abs(corrected), 75) < 0.02  # the matched one agrees


def test_nominal_residual_is_the_noise(twin):
    mon = monitor(twin)
    drive(twin, mon, start=START, seconds=0.5, rng=np.random.default_rng(1))
    res = mon.residual()
    assert np.count_nonzero(np.isfinite(res)) > 500
    assert abs(np.nanmedian(res)) < 0.003 and np.nanpercentile(np.abs(res), 99) < 0.05
    assert mon.world_changes == []


def test_a_persistent_pose_offset_is_matched_from_the_last_correction(twin):
    mon = monitor(twin)
    casts = []
    caster = mon.matcher.caster

    class Counting:
        def cast(self, origin, yaw, angles):
            casts.append(1)
            return caster.cast(origin, yaw, angles)

    mon.matcher.caster = Counting()
    drive(twin, mon, start=START, seconds=1.5, fault='pose', fault_at=0.5, scan_rate=10.0,
          rng=np.random.default_rng(2))
    assert errors(mon) == {'pose'}
    # 16 scans; the onset scan needs a few casts, the others start at the corrected pose
    assert len(casts) <= 16 + 6
