"""Tests for prediction_monitor: predictions made from the mirrored state and scored."""

import math

import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.description.wheel_geometry import wheel_geometry
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.twin.prediction_monitor import MIN_SCORED, PredictionMonitor

S = 1_000_000_000


@pytest.fixture(scope='module')
def backend():
    robot = load_robot_description(default_robot_path())
    b = EmbeddedBackend('empty', robot, lidar_noise=False)
    yield b
    b.close()


def _odom(t: float, speed: float, stamp: int) -> OdometrySample:
    return OdometrySample(np.array([speed * t, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                          linear_velocity=np.array([speed, 0.0, 0.0]), stamp_ns=stamp)


def _drive(monitor, backend, speed_of, seconds: float) -> None:
    """Mirror a straight drive at 50 Hz, predicting at 10 Hz; ``speed_of(t)`` the truth."""
    x = 0.0
    for k in range(int(seconds * 50) + 1):
        t = k / 50
        x += speed_of(t) / 50
        sample = OdometrySample(np.array([x, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                                linear_velocity=np.array([speed_of(t), 0.0, 0.0]),
                                stamp_ns=int(t * S))
        backend.mirror(sample)
        monitor.add_odometry(sample)
        if k % 5 == 0:
            monitor.kinematic(sample.stamp_ns)


def test_steady_motion_is_predicted_well_and_scored(backend):
    monitor = PredictionMonitor(backend, wheel_geometry(backend.robot))
    _drive(monitor, backend, lambda t: 0.5, 4.0)
    status = monitor.status()
    assert status.level == 0 and status.values['scored'] >= MIN_SCORED
    assert status.values['error_1s_p50_m'] < 0.005


def test_a_model_that_keeps_missing_is_a_warning(backend):
    monitor = PredictionMonitor(backend, wheel_geometry(backend.robot), error_tolerance=0.1)
    # The robot reverses every second: a constant-twist prediction misses by ~0.5 m.
    _drive(monitor, backend, lambda t: 0.5 if int(t) % 2 == 0 else -0.5, 6.0)
    status = monitor.status()
    assert status.level == 1 and 'keeps missing' in status.message
    assert status.values['error_1s_p50_m'] > 0.1


def test_ensemble_spread_and_time_to_collision_at_a_wall(tmp_path):
    world = tmp_path / 'wall.sdf'
    world.write_text("""<?xml version="1.0"?>
<sdf version="1.9"><world name="wall"><model name="ground"><static>true</static>
<link name="l"><collision name="c"><geometry><plane><normal>0 0 1</normal>
<size>10 10</size></plane></geometry></collision></link></model>
<model name="wall"><static>true</static>
<pose>0.6 0 0.5 0 0 0</pose><link name="l"><collision name="c"><geometry>
<box><size>0.1 4 1</size></box></geometry></collision></link></model></world></sdf>""")
    robot = load_robot_description(default_robot_path())
    backend = EmbeddedBackend(world, robot, lidar_noise=False)
    monitor = PredictionMonitor(backend, wheel_geometry(robot), judge=backend, members=8)
    assert monitor.has_ensemble
    backend.mirror(_odom(0.0, 0.5, 0))
    prediction = monitor.ensemble(0)
    assert math.isfinite(prediction.time_to_collision)
    # The chassis front (x + 0.18) meets the wall face at x = 0.55 after 0.74 s; the
    # earliest of the perturbed members a little sooner.
    assert 0.6 < prediction.time_to_collision <= 0.75
    assert np.median(prediction.member_contact_times) == pytest.approx(0.74, abs=0.04)
    status = monitor.status()
    assert 'contact predicted' in status.message
    assert status.values['time_to_collision_s'] == prediction.time_to_collision
    monitor.close()
    backend.close()
