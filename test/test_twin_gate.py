"""Tests for the gate in the twin: DigitalTwin.judge_command on the accepted inputs (pose,
joints, physical scans and their obstacles, staleness), the e-stop latch and its duplicate
messages, the status levels. The world (also used over DDS): a wall and a shelf."""

from dataclasses import replace
import math
from pathlib import Path

import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.errors import ConfigError
from twin_bridge.twin.digital_twin import DigitalTwin, TwinConfig
from twin_bridge.twin.safety.gate import GateConfig

HALF_LENGTH, CORNER = 0.18, math.hypot(0.18, 0.13)   # the default robot's chassis box
WALL_FACE = 1.0                                       # x of the wall's west face
SHELF_FACE = 3.25                                     # y of the shelf's south face
SHELF_X = 10.0
FREE = (-3.0, -3.0)
LEVEL = np.array([0.0, 0.0, 0.0, 1.0])


def _box(name: str, x: float, y: float, sx: float, sy: float, sz: float) -> str:
    return (f'<model name="{name}"><static>true</static><pose>{x} {y} {sz / 2} 0 0 0</pose>'
            f'<link name="link"><collision name="c"><geometry><box><size>{sx} {sy} {sz}</size>'
            '</box></geometry></collision></link></model>')


def write_gate_world(directory: Path) -> Path:
    """A floor, a wall across x = WALL_FACE and a shelf beside y = SHELF_FACE at SHELF_X."""
    models = [_box('wall', WALL_FACE + 0.05, 0.0, 0.1, 4.0, 1.0),
              _box('shelf', SHELF_X, SHELF_FACE + 0.25, 2.0, 0.5, 0.8)]
    path = Path(directory) / 'gate_world.sdf'
    path.write_text('<?xml version="1.0"?>\n<sdf version="1.9"><world name="gate_world">'
                    '<model name="ground"><static>true</static><link name="link"><collision '
                    'name="c"><geometry><plane><normal>0 0 1</normal><size>40 40</size>'
                    '</plane></geometry></collision></link></model>'
                    + ''.join(models) + '</world></sdf>\n', encoding='utf-8')
    return path


@pytest.fixture(scope='module')
def world(tmp_path_factory) -> Path:
    return write_gate_world(tmp_path_factory.mktemp('gate_world'))


def _twin(world: Path, **gate) -> DigitalTwin:
    cfg = GateConfig(**{'scan_source': False, **gate})
    return DigitalTwin(world, config=TwinConfig(drift=False, gate=cfg, ensemble_members=1),
                       now=0.0)


def _odom(x: float, y: float, yaw: float = 0.0, k: int = 1) -> OdometrySample:
    return OdometrySample(np.array([x, y, 0.0]),
                          np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
                          stamp_ns=k * 1_000_000)


def test_command_toward_the_wall_is_slowed_and_a_free_one_passes(world):
    twin = _twin(world)
    try:
        assert twin.judge is not None and twin.drift_monitor is None  # loaded for the gate
        twin.on_odometry(_odom(WALL_FACE - HALF_LENGTH - 0.5, 0.0), now=1.0, wall_ns=1_000_000)
        verdict = twin.judge_command(0.5, 0.0, now=1.1)
        assert verdict.verdict == 'slow' and verdict.reason == 'obstacle'
        assert verdict.time_to_collision == pytest.approx(0.8, abs=1e-3)
        twin.on_odometry(_odom(*FREE, k=2), now=1.2, wall_ns=2_000_000)
        verdict = twin.judge_command(0.5, 0.3, now=1.3)
        assert (verdict.verdict, verdict.command_out) == ('pass', (0.5, 0.3))
        assert twin.judge_command(0.5, 0.3, now=2.0).reason == 'stale_odometry'
    finally:
        twin.close()


def test_pure_rotation_beside_the_shelf_is_caught(world):
    twin = _twin(world, safety_margin=0.02)
    try:
        twin.on_odometry(_odom(SHELF_X, SHELF_FACE - 0.2), now=0.0, wall_ns=1_000_000)
        verdict = twin.judge_command(0.0, 1.5, now=0.1)
        assert verdict.verdict in ('slow', 'stop') and 'shelf' in verdict.obstacle
    finally:
        twin.close()


def test_scans_become_obstacles_on_the_judging_thread_and_go_stale(world):
    twin = _twin(world, scan_source=True)
    try:
        assert twin.wants_scans and twin.session.config.scan_input
        twin.on_odometry(_odom(-3.0, 0.0), now=0.0, wall_ns=1_000_000)
        assert twin.judge_command(0.5, 0.0, now=0.05).reason == 'stale_scan'
        scan = twin.backend.scan()
        ranges = scan.ranges.copy()
        angles = scan.angle_min + np.arange(len(ranges)) * scan.angle_increment
        ahead = np.abs(angles) < 0.1
        ranges[ahead] = 0.9 / np.cos(angles[ahead])   # something the world lacks
        twin.on_scan(replace(scan, ranges=ranges.astype(np.float32), stamp_ns=1_000_000),
                     now=0.1, wall_ns=1_000_000)
        assert twin.safety.counts['scans'] == 0        # cast only when a command comes
        verdict = twin.judge_command(0.5, 0.0, now=0.2)
        assert verdict.reason == 'scan_obstacle' and twin.safety.counts['scans'] == 1
        twin.on_odometry(_odom(-3.0, 0.0, k=2), now=0.7, wall_ns=2_000_000)
        assert twin.judge_command(0.5, 0.0, now=0.7).reason == 'stale_scan'
    finally:
        twin.close()


def test_e_stop_latch_ignores_a_message_seen_twice_and_reports_it(world):
    twin = _twin(world)
    try:
        twin.on_odometry(_odom(*FREE), now=0.0, wall_ns=1_000_000)
        assert twin.safety.status().message == 'no command yet'
        gate = twin.safety
        assert gate.on_e_stop(True, key=(1, 1))
        assert twin.judge_command(0.2, 0.0, now=0.1).reason == 'e_stop'
        assert gate.status().level == 1 and gate.status().values['e_stop'] is True
        assert gate.on_e_stop(False, key=(2, 2))
        assert not gate.on_e_stop(True, key=(1, 1))      # the old message again: ignored
        assert twin.judge_command(0.2, 0.0, now=0.1).verdict == 'pass'
        assert gate.counts['e_stop_duplicates'] == 1
        twin.engage_e_stop()
        assert twin.judge_command(0.2, 0.0, now=0.1).verdict == 'stop'
        twin.release_e_stop()
        assert twin.judge_command(0.2, 0.0, now=0.1).verdict == 'pass'
        status = gate.status()
        assert status.level == 0 and status.values['stop'] == 2 and status.values['pass'] == 2
        twin.judge_command(math.nan, 0.0, now=0.1)
        assert gate.status().values['reason.invalid_command'] == 1
        twin.judge_command(0.1, 0.0, now=5.0)
        assert gate.status().level == 2                  # stale: the gate is blind
    finally:
        twin.close()


def test_gate_off(world):
    twin = DigitalTwin(world, config=TwinConfig(drift=False, gate=None, ensemble_members=1))
    try:
        assert twin.gate is None and twin.judge is None
        with pytest.raises(ConfigError, match='gate is off'):
            twin.judge_command(0.1, 0.0)
    finally:
        twin.close()



def test_prepare_casts_a_pending_scan_ahead_of_the_next_command(world):
    # The node calls prepare() between commands, so no command waits for the cast.
    twin = _twin(world, scan_source=True)
    try:
        twin.on_odometry(_odom(-3.0, 0.0), now=0.0, wall_ns=1_000_000)
        twin.safety.prepare()                            # nothing pending: nothing cast
        assert twin.safety.counts['scans'] == 0
        scan = twin.backend.scan()
        ranges = scan.ranges.copy()
        angles = scan.angle_min + np.arange(len(ranges)) * scan.angle_increment
        ahead = np.abs(angles) < 0.1
        ranges[ahead] = 0.9 / np.cos(angles[ahead])
        twin.on_scan(replace(scan, ranges=ranges.astype(np.float32), stamp_ns=1_000_000),
                     now=0.1, wall_ns=1_000_000)
        twin.safety.prepare()
        assert twin.safety.counts['scans'] == 1
        assert twin.judge_command(0.5, 0.0, now=0.2).reason == 'scan_obstacle'
        twin.safety.prepare()
        assert twin.safety.counts['scans'] == 1          # not again
    finally:
        twin.close()
