"""Tests for fleet.fleet_model, fleet.robot_slot and fleet.fleet_scan: one model, many robots
that see each other, checked against analytic ranges and the single-robot backend."""

from pathlib import Path

import numpy as np
import pytest
from scan_room import ROOM, SEARCH, analytic_ranges

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import Pose, quat_from_rpy, yaw_from_quat
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.errors import BackendError, ConfigError
from twin_bridge.fleet.fleet_model import FleetModel
from twin_bridge.fleet.fleet_scan import FleetScanner
from twin_bridge.fleet.fleet_spec import parse_fleet

POSES = {'a': (0.0, 0.0, 0.0), 'b': (1.8, 0.4, 2.5), 'c': (-0.5, -1.6, 1.2)}


def odom(x, y, yaw, **twist):
    return OdometrySample(np.array([x, y, 0.0]), quat_from_rpy(0.0, 0.0, yaw), **twist)


def make_fleet(poses=POSES, world=str(ROOM)):
    return parse_fleet({'world': world, 'robots': [
        {'namespace': ns, 'pose': {'x': x, 'y': y, 'yaw': yaw}}
        for ns, (x, y, yaw) in poses.items()]}, source='fleet.yaml')


@pytest.fixture(scope='module')
def fleet_model():
    return FleetModel(make_fleet(), search_path=SEARCH)


def lidar_in_world(robot, base: Pose) -> Pose:
    return base.compose(robot.link_pose(robot.lidar.link)).compose(robot.lidar.pose)


def circle_ranges(origin, angles, centre, radius):
    dx, dy = np.cos(angles), np.sin(angles)
    ox, oy = origin[0] - centre[0], origin[1] - centre[1]
    b = ox * dx + oy * dy
    disc = b * b - (ox * ox + oy * oy - radius * radius)
    t = -b - np.sqrt(np.maximum(disc, 0.0))
    return np.where((disc >= 0) & (t > 0), t, np.inf)


def test_robots_are_prefixed_and_start_at_their_poses(fleet_model):
    model = fleet_model.model
    for ns, (x, y, _yaw) in POSES.items():
        assert model.body(f'{ns}/base_link').id > 0
        slot = fleet_model.slots[ns]
        assert slot.odometry() is None          # no pose mirrored yet
        xpos = fleet_model.data.xpos[slot.root_body]
        np.testing.assert_allclose(xpos[:2], [x, y], atol=1e-12)
    counts = {len(fleet_model.robot_geoms(ns)) for ns in POSES}
    assert len(counts) == 1 and counts.pop() > 0   # each robot owns its own copy of the geoms


def test_mirror_composes_the_start_pose_and_reads_back_in_the_odom_frame():
    fleet_model = FleetModel(make_fleet(), search_path=SEARCH)   # its own: it is changed
    slot = fleet_model.slots['b']
    sample = odom(0.7, -0.2, 0.4, linear_velocity=np.array([0.3, 0.0, 0.0]),
                  angular_velocity=np.array([0.0, 0.0, 0.5]))
    slot.mirror(odometry=sample, joints=JointStateSample(('pan_joint',), np.array([0.3])))
    x0, y0, yaw0 = POSES['b']
    world = Pose(np.array([x0, y0, 0.0]), quat_from_rpy(0, 0, yaw0)).compose(
        Pose(sample.position, sample.orientation))
    with fleet_model.lock:
        qpos = fleet_model.data.qpos[slot._free_qpos:slot._free_qpos + 3].copy()
    np.testing.assert_allclose(qpos, world.position, atol=1e-12)
    back = slot.odometry()
    np.testing.assert_allclose(back.position, sample.position, atol=1e-12)
    assert yaw_from_quat(back.orientation) == pytest.approx(0.4, abs=1e-12)
    np.testing.assert_allclose(back.linear_velocity, [0.3, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(back.angular_velocity, [0.0, 0.0, 0.5], atol=1e-12)
    assert slot.joint_state().positions[slot.joint_names.index('pan_joint')] == 0.3
    assert fleet_model.slots['a'].joint_state() is None   # the others untouched
    with pytest.raises(BackendError, match='unknown joint'):
        slot.mirror(joints=JointStateSample(('a/pan_joint',), np.array([0.0])))
    with pytest.raises(BackendError, match='mirrors only'):
        slot.step(0.1)


def test_robots_see_each_other_and_not_themselves(fleet_model):
    """Every beam: the nearest of the room's walls and the other robots' lidar cylinders
    (the only robot geometry in the scan plane), to < 1 mm."""
    scanner = FleetScanner(fleet_model, list(POSES), noise=False)
    scans = scanner.cast()
    robot = fleet_model.slots['a'].robot
    model = fleet_model.model
    lidar_geom = [g for g in fleet_model.robot_geoms('a')
                  if model.body(model.geom_bodyid[g]).name == 'a/lidar_link']
    radius = float(model.geom_size[lidar_geom[0], 0])   # the lidar cylinder's
    lidars = {ns: lidar_in_world(robot, Pose(np.array([x, y, 0.0]), quat_from_rpy(0, 0, yaw)))
              for ns, (x, y, yaw) in POSES.items()}
    seen_robot = 0
    for ns, scan in scans.items():
        origin = lidars[ns].position[:2]
        angles = robot.lidar.beam_angles() + yaw_from_quat(lidars[ns].orientation)
        expected = analytic_ranges(origin, angles)
        for other, pose in lidars.items():
            if other != ns:
                robots = circle_ranges(origin, angles, pose.position[:2], radius)
                seen_robot += int(np.sum(robots < expected))
                expected = np.minimum(expected, robots)
        np.testing.assert_allclose(scan.ranges, expected, atol=1e-3)
        assert scan.frame_id == robot.lidar.frame_id
    assert seen_robot >= 6      # each robot has others in view, in more than one beam
    assert fleet_model.slots['a'].scan() is scans['a']
    assert fleet_model.slots['a'].scan() is None   # each scan handed out once


def test_one_robot_scans_as_the_single_robot_backend_does():
    """The fleet's scanner against the reference: EmbeddedBackend, same world and pose."""
    robot = load_robot_description(default_robot_path())
    model = FleetModel(make_fleet({'solo': (1.0, -0.5, 0.7)}), search_path=SEARCH)
    model.slots['solo'].mirror(odometry=odom(0.2, 0.1, -0.3),
                               joints=JointStateSample(('tilt_joint',), np.array([0.5])))
    fleet_scan = FleetScanner(model, ['solo'], noise=False).cast()['solo']
    single = EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_noise=False)
    world = Pose(np.array([1.0, -0.5, 0.0]), quat_from_rpy(0, 0, 0.7)).compose(
        Pose(np.array([0.2, 0.1, 0.0]), quat_from_rpy(0, 0, -0.3)))
    single.mirror(odometry=OdometrySample(world.position, world.orientation),
                  joints=JointStateSample(('tilt_joint',), np.array([0.5])))
    np.testing.assert_allclose(fleet_scan.ranges, single.scan().ranges, atol=1e-9)


def test_overlapping_start_poses_are_refused():
    with pytest.raises(ConfigError, match=r'fleet.yaml: robot "b": key "pose": its start pose '
                                          r'overlaps robot "a" \(0.300 m apart'):
        FleetModel(make_fleet({'a': (0.0, 0.0, 0.0), 'b': (0.3, 0.0, 0.0)}), search_path=SEARCH)


def test_a_robot_that_fails_to_load_is_named(tmp_path: Path):
    broken = tmp_path / 'broken.urdf'
    broken.write_text('<robot name="x"><link name="a"/><joint name="j" type="revolute">'
                      '<parent link="a"/><child link="missing"/></joint></robot>')
    spec = parse_fleet({'world': 'empty', 'robots': [
        {'namespace': 'good'},
        {'namespace': 'bad', 'pose': {'x': 3}, 'description': {'file': str(broken)}}]},
        source='fleet.yaml')
    with pytest.raises(ConfigError, match=r'fleet.yaml: robot "bad": key "description": .*'
                                          r'broken.urdf'):
        FleetModel(spec)
