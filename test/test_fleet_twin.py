"""Tests for fleet.fleet_twin: sessions per robot, bad input isolated, shards' obstacles."""

import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_from_rpy
from twin_bridge.fleet.fleet_spec import parse_fleet
from twin_bridge.fleet.fleet_twin import FleetTwin
from twin_bridge.fleet.shards import Shard

NS = 1_000_000_000
WALL = 1_700_000_000 * NS


def fleet():
    return parse_fleet({'world': 'empty', 'robots': [
        {'namespace': 'r0'},
        {'namespace': 'r1', 'pose': {'x': 3.0}},
        {'namespace': 'r2', 'pose': {'x': -3.0, 'y': 3.0, 'yaw': 3.141592653589793},
         'parameters': {'lidar_noise': False}}],
        'parameters': {'lidar_noise': False}})


def odom(x, y=0.0, yaw=0.0, stamp=WALL, child='base_link'):
    return OdometrySample(np.array([x, y, 0.0]), quat_from_rpy(0, 0, yaw), stamp_ns=stamp,
                          child_frame_id=child)


@pytest.fixture
def twin():
    return FleetTwin(fleet(), scan_rate=10.0)


def test_bad_messages_of_one_robot_leave_the_others_alone(twin):
    good = twin.on_odometry('r1', odom(0.5), 1.0, WALL)
    assert good.accepted and good.output is not None
    bad = [twin.on_odometry('r0', odom(float('nan')), 1.0, WALL),
           twin.on_joint_state('r0', JointStateSample(('pan_joint', 'x'), np.zeros(1)), 1.0,
                               WALL),
           twin.on_joint_state('r0', JointStateSample(('nope',), np.zeros(1)), 1.0, WALL)]
    assert not any(o.accepted for o in bad)
    statuses = twin.statuses(1.1)
    counts = {ns: {s.name: s.counts for s in st} for ns, st in statuses.items()}
    assert counts['r0']['odom']['rejected'] == 1 and counts['r0']['joint_states']['rejected'] == 2
    assert counts['r1']['odom']['accepted'] == 1 and counts['r1']['odom']['rejected'] == 0
    np.testing.assert_allclose(twin.model.slots['r1'].odometry().position, [0.5, 0, 0])
    assert twin.model.slots['r0'].odometry() is None   # the bad pose never reached the twin


def test_one_pass_scans_every_served_robot_stamped_by_its_inputs(twin):
    twin.on_odometry('r1', odom(0.0, stamp=WALL + 5), 1.0, WALL)
    scans = {ns: (scan, stamp) for ns, scan, stamp in twin.scan(WALL + 99)}
    assert set(scans) == {'r0', 'r1', 'r2'}
    assert scans['r1'][1] == WALL + 5 and scans['r0'][1] == WALL + 99
    # r0 at the origin sees r1's lidar cylinder (radius 0.035 m) straight ahead: both
    # lidars sit 0.10 m ahead of their base, 3 m apart.
    assert scans['r0'][0].ranges[360] == pytest.approx(3.0 - 0.035, abs=1e-4)


def test_a_shard_serves_its_share_and_moves_the_others_as_obstacles():
    twin = FleetTwin(fleet(), shard=Shard(0, 2), scan_rate=10.0)
    assert twin.local == ('r0', 'r2') and twin.remote == ('r1',)
    base = twin.scan(WALL)
    before = {ns: scan.ranges.copy() for ns, scan, _ in base}
    # Another shard's twin says r1 moved 1 m to -y (its frames carry its prefix).
    moved = twin.on_remote_odometry('r1', odom(0.0, -1.0, child='r1/base_link'), 1.0, WALL)
    assert moved.accepted and not moved.notes   # the prefix is taken off: a known frame
    after = {ns: scan.ranges for ns, scan, _ in twin.scan(WALL)}
    assert not np.array_equal(before['r0'], after['r0'])
    np.testing.assert_allclose(twin.model.slots['r1'].odometry().position, [0, -1, 0])
    bad = twin.on_remote_odometry('r1', odom(float('inf')), 1.0, WALL)
    assert not bad.accepted
    with pytest.raises(KeyError):
        twin.on_odometry('r1', odom(0.0), 1.0, WALL)   # not this shard's robot
    assert set(twin.obstacle_statuses(1.0)) == {'r1'}
