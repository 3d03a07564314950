"""Tests for the command gate: pass on a free path, slow that keeps the margin, stops (stale
inputs, e-stop, invalid commands, no safe scale), scan-only obstacles, counts."""

from dataclasses import replace
import math

import mujoco
import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.errors import ConfigError
from twin_bridge.twin.safety import Command, CommandGate, GateConfig, RobotState, ScanObstacles
from twin_bridge.twin.safety.gate import REASONS, VERDICTS

HALF_LENGTH, CORNER = 0.18, math.hypot(0.18, 0.13)   # the chassis box (urdf)
WALL_FACE = 1.0
LEVEL = np.array([0.0, 0.0, 0.0, 1.0])
CONFIG = GateConfig(stop_horizon=1.5, safety_margin=0.1, max_linear=1.0, max_angular=2.0,
                    max_linear_decel=1.0, reaction_time=0.1, source_timeout=0.5,
                    scan_source=False)


def _world() -> mujoco.MjSpec:
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(name='floor', type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1])
    spec.worldbody.add_geom(name='wall', type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.05, 2, 0.5],
                            pos=[WALL_FACE + 0.05, 0, 0.5])
    spec.worldbody.add_geom(name='shelf', type=mujoco.mjtGeom.mjGEOM_BOX,
                            size=[1.0, 0.25, 0.4], pos=[10.0, 0.5, 0.4])
    return spec


@pytest.fixture(scope='module')
def backend():
    return EmbeddedBackend(_world(), load_robot_description(default_robot_path()),
                           lidar_noise=False)


def _at(x: float, y: float = 0.0, yaw: float = 0.0, received: float = 0.0) -> RobotState:
    return RobotState(np.array([x, y, 0.0]),
                      np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
                      received=received)


def _gate(backend, **changes) -> CommandGate:
    return CommandGate.from_backend(backend, replace(CONFIG, **changes))


FREE = _at(-3.0, -3.0)


def test_free_path_passes_unchanged(backend):
    gate = _gate(backend)
    for command, expected in (((0.5, 0.2), (0.5, 0.2)), (Command(-0.3, -1.0), (-0.3, -1.0)),
                              ((0.0, 2.0), (0.0, 2.0))):
        verdict = gate.judge(command, 0.1, FREE)
        assert verdict.verdict == 'pass' and verdict.reason == 'free'
        assert verdict.command_out == pytest.approx(expected)
        assert verdict.scale == 1.0 and verdict.time_to_collision == math.inf
    assert gate.judge((0.0, 0.0), 0.1, FREE).reason == 'idle'


def test_slow_scales_towards_the_wall_as_hand_calculated(backend):
    gate = _gate(backend)
    gap = 0.5   # chassis front to wall
    verdict = gate.judge((0.5, 0.0), 0.0, _at(WALL_FACE - HALF_LENGTH - gap))
    u = (gap - CONFIG.safety_margin) / 0.5            # 0.8 s to the margin
    assert verdict.verdict == 'slow' and verdict.reason == 'obstacle'
    assert verdict.obstacle == 'wall'
    assert verdict.time_to_collision == pytest.approx(u, abs=1e-6)
    assert verdict.scale == pytest.approx(u / CONFIG.stop_horizon, abs=1e-6)
    assert verdict.command_out[0] == pytest.approx(0.5 * u / CONFIG.stop_horizon, abs=1e-6)


def test_slow_can_always_brake_before_the_margin(backend):
    # A short horizon and weak brakes: the braking bound decides.
    gate = _gate(backend, stop_horizon=0.5, max_linear_decel=0.2)
    for gap in (0.6, 0.4, 0.2, 0.15):
        verdict = gate.judge((1.0, 0.0), 0.0, _at(WALL_FACE - HALF_LENGTH - gap))
        v = verdict.command_out[0]
        stopping = CONFIG.reaction_time * v + v * v / (2 * 0.2)
        assert verdict.verdict in ('slow', 'stop')
        assert stopping <= gap - CONFIG.safety_margin + 1e-6


def test_closed_loop_approach_keeps_the_margin(backend):
    gate = _gate(backend)
    x, period = -1.0, 0.1
    for _ in range(200):
        verdict = gate.judge((0.8, 0.0), 0.0, _at(x))
        x += verdict.command_out[0] * period
    front_gap = WALL_FACE - (x + HALF_LENGTH)
    # Stops once the scale would fall below min_scale: u < min_scale * stop_horizon.
    last_leg = CONFIG.min_scale * CONFIG.stop_horizon * 0.8
    assert CONFIG.safety_margin <= front_gap <= CONFIG.safety_margin + last_leg + 1e-6
    assert gate.last.verdict == 'stop' and gate.last.reason == 'obstacle'


def test_pure_rotation_beside_a_shelf_is_caught_and_far_from_it_passes(backend):
    gate = _gate(backend, safety_margin=0.02)
    near = gate.judge((0.0, 1.5), 0.0, _at(10.0, 0.25 - 0.2))
    assert near.verdict in ('slow', 'stop') and near.obstacle == 'shelf'
    far = gate.judge((0.0, 1.5), 0.0, _at(10.0, 0.25 - CORNER - 0.05))
    assert far.verdict == 'pass'


def test_reversing_into_the_wall_is_slowed(backend):
    gate = _gate(backend)
    verdict = gate.judge((-0.5, 0.0), 0.0, _at(WALL_FACE + 0.1 + HALF_LENGTH + 0.4, yaw=0.0))
    assert verdict.verdict == 'slow' and verdict.command_out[0] < 0


def test_speed_limit(backend):
    verdict = _gate(backend).judge((2.0, 1.0), 0.0, FREE)
    assert verdict.verdict == 'slow' and verdict.reason == 'speed_limit'
    assert verdict.command_out == pytest.approx((1.0, 0.5)) and verdict.scale == 0.5


def test_stale_odometry_stops(backend):
    gate = _gate(backend)
    assert gate.judge((0.5, 0.0), 1.0, _at(-3.0, -3.0, received=0.0)).reason == 'stale_odometry'
    assert gate.judge((0.5, 0.0), 1.0, _at(-3.0, -3.0, received=None)).verdict == 'stop'
    # From the backend: stale until on_odometry, fresh within source_timeout of it.
    backend.mirror(OdometrySample(np.array([-3.0, -3.0, 0.0]), LEVEL))
    assert gate.judge((0.5, 0.0), 5.0).reason == 'stale_odometry'
    gate.on_odometry(5.0)
    assert gate.judge((0.5, 0.0), 5.2).verdict == 'pass'
    assert gate.judge((0.5, 0.0), 5.6).reason == 'stale_odometry'


def test_scan_source_staleness_and_scan_only_obstacles(backend):
    gate = CommandGate.from_backend(backend, replace(CONFIG, scan_source=True))
    backend.mirror(OdometrySample(np.array([-3.0, 0.0, 0.0]), LEVEL))
    gate.on_odometry(0.0)
    assert gate.judge((0.5, 0.0), 0.1).reason == 'stale_scan'
    scan = backend.scan()
    points = gate.on_scan(scan, 0.1)
    assert len(points) == 0                      # the world explains every beam
    assert gate.judge((0.5, 0.0), 0.2).verdict == 'pass'
    # Something the world lacks, 0.9 m ahead of the lidar (x = -3 + 0.1 + 0.9).
    ranges = scan.ranges.copy()
    angles = scan.angle_min + np.arange(len(ranges)) * scan.angle_increment
    ahead = np.abs(angles) < 0.1
    ranges[ahead] = 0.9 / np.cos(angles[ahead])
    points = gate.on_scan(replace(scan, ranges=ranges.astype(np.float32)), 0.3)
    assert len(points) == np.count_nonzero(ahead)
    np.testing.assert_allclose(points[:, 0], -2.0, atol=1e-5)
    verdict = gate.judge((0.5, 0.0), 0.4)
    assert verdict.reason == 'scan_obstacle' and verdict.obstacle == 'scan point'
    u = (-2.0 - (-3.0 + HALF_LENGTH) - CONFIG.safety_margin) / 0.5
    assert verdict.time_to_collision == pytest.approx(u, abs=1e-6)
    assert gate.judge((0.5, 0.0), 1.0).reason == 'stale_odometry'
    gate.on_odometry(1.0)
    assert gate.judge((0.5, 0.0), 1.0).reason == 'stale_scan'


def test_gate_without_a_scan_source_ignores_scans(backend):
    gate = _gate(backend)
    assert gate.obstacles is None
    assert len(gate.on_scan(backend.scan(), 0.0)) == 0
    assert gate.judge((0.5, 0.0), 100.0, _at(-3.0, -3.0, received=100.0)).verdict == 'pass'


def test_e_stop_latch(backend):
    gate = _gate(backend)
    gate.engage_e_stop()
    for command in ((0.5, 0.0), (0.0, 0.0), (math.nan, 0.0)):
        verdict = gate.judge(command, 0.0, FREE)
        assert (verdict.verdict, verdict.reason, verdict.command_out) == (
            'stop', 'e_stop', (0.0, 0.0))
    assert gate.e_stopped
    gate.release_e_stop()
    assert gate.judge((0.5, 0.0), 0.0, FREE).verdict == 'pass'


def test_invalid_commands_are_rejected_and_counted(backend):
    gate = _gate(backend)
    bad = [(math.nan, 0.0), (0.0, math.inf), (1e9, 0.0), (0.0, -25.0), ('x', 'y'), (1.0,)]
    for command in bad:
        verdict = gate.judge(command, 0.0, FREE)  # type: ignore[arg-type]
        assert (verdict.verdict, verdict.reason) == ('stop', 'invalid_command')
        assert verdict.command_out == (0.0, 0.0) and math.isnan(verdict.time_to_collision)
    assert gate.reason_counts['invalid_command'] == len(bad)


def test_counts_per_verdict_and_reason_are_bounded(backend):
    gate = _gate(backend)
    gate.judge((0.5, 0.0), 0.0, FREE)
    gate.judge((0.5, 0.0), 0.0, _at(WALL_FACE - HALF_LENGTH - 0.5))
    gate.judge((0.5, 0.0), 9.0, _at(0.0, received=0.0))
    for i in range(50):
        gate.judge((float(i), math.nan), 0.0, FREE)
    assert gate.verdict_counts == {'pass': 1, 'slow': 1, 'stop': 51}
    assert set(gate.verdict_counts) == set(VERDICTS) and set(gate.reason_counts) == set(REASONS)
    assert gate.reason_counts['stale_odometry'] == 1 and gate.reason_counts['obstacle'] == 1


def test_bad_configuration_is_refused(backend):
    with pytest.raises(ConfigError):
        GateConfig(stop_horizon=0.0)
    with pytest.raises(ConfigError):
        GateConfig(safety_margin=math.nan)
    with pytest.raises(ConfigError):
        GateConfig(min_scale=1.0)
    with pytest.raises(ConfigError):
        CommandGate(CommandGate.from_backend(backend, CONFIG).sweep, GateConfig())
    with pytest.raises(ConfigError):
        ScanObstacles.from_backend(backend, tolerance=-1.0)
