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
    mon = monitor(twin)
    try:
        first, _, _ = drive(twin, mon, start=(-2.5, -1.5, 1.5), seconds=2.5, fault='world',
                            fault_at=1.0, rng=np.random.default_rng(5),
                            on_fault=lambda: twin.move_body('box_0::link', 0.0, 0.3))
    finally:
        twin.physical.sync(twin.caster.data.qpos)
    assert errors(mon) == {'world'} and first['world'] < 1.0
    est = mon.verdicts()['world'].estimates
    # box_0 (about 0.5 m across) moved from (-4.5, 0.5) to (-4.5, 0.8)
    assert math.hypot(est['changed_x'] + 4.5, est['changed_y'] - 0.65) < 0.6


@pytest.mark.parametrize('fault, key, truth, tol', [('range_bias', 'range_bias', 0.03, 0.005),
                                                    ('range_scale', 'range_scale', 0.99, 0.002)])
def test_range_bias_and_scale(twin, fault, key, truth, tol):
    mon = monitor(twin)
    first, _, _ = drive(twin, mon, start=START, seconds=2.5, fault=fault, fault_at=1.0,
                        rng=np.random.default_rng(6), range_bias=0.03, range_scale=0.99)
    assert errors(mon) == {'lidar'} and first['lidar'] < 2.0
    assert mon.verdicts()['lidar'].estimates[key] == pytest.approx(truth, abs=tol)
