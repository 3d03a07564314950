"""Tests for embedded_backend: mirroring, lidar scans vs analytic truth, dynamics."""

from pathlib import Path
import threading

import mujoco
import numpy as np
import pytest
from scan_room import ROOM, SEARCH, analytic_ranges

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import Pose, quat_from_rpy, quat_multiply, yaw_from_quat
from twin_bridge.description.robot_description import (
    default_robot_path,
    load_robot_description,
    parse_urdf,
)
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.errors import BackendError, ResourceNotFoundError, RobotDescriptionError


def odom(x: float, y: float, yaw: float, **twist) -> OdometrySample:
    return OdometrySample(position=np.array([x, y, 0.0]),
                          orientation=quat_from_rpy(0.0, 0.0, yaw), **twist)


def joints(**positions) -> JointStateSample:
    return JointStateSample(names=tuple(positions), positions=np.array(list(positions.values())))


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path(), {'lidar_noise_stddev': '0.01'})


@pytest.fixture(scope='module')
def backend(robot):
    return EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_noise=False)


def expected_scan(robot, x, y, yaw):
    """Analytic ranges for the robot's lidar with the base at (x, y, yaw)."""
    sensor = robot.link_pose(robot.lidar.link).compose(robot.lidar.pose)
    world = Pose(np.array([x, y, 0.0]), quat_from_rpy(0, 0, yaw)).compose(sensor)
    heading = yaw_from_quat(world.orientation)
    return analytic_ranges(world.position[:2], robot.lidar.beam_angles() + heading)


def test_is_a_simulator_backend(backend, robot):
    assert isinstance(backend, SimulatorBackend)
    assert backend.joint_names == robot.movable_joint_names
    assert backend.lidar == robot.lidar
    assert backend.world_description.name == 'scan_room'


@pytest.mark.parametrize('x, y, yaw', [
    (0.0, 0.0, 0.0), (1.0, -0.5, 0.7), (-1.2, 0.8, -2.0), (2.9, -2.2, 3.1), (0.3, 2.4, 1.5708),
])
def test_scan_matches_analytic_ground_truth(backend, robot, x, y, yaw):
    backend.mirror(odom(x, y, yaw))
    scan = backend.scan()
    expected = expected_scan(robot, x, y, yaw)
    assert scan.ranges.dtype == np.float32 and scan.ranges.shape == (720,)
    assert np.all(np.isfinite(expected))  # closed room: every beam hits something
    assert np.max(np.abs(scan.ranges - expected)) < 1e-3


def test_scan_metadata_from_lidar_tag(backend, robot):
    scan = backend.scan()
    spec = robot.lidar
    assert scan.frame_id == 'lidar_link'
    assert scan.angle_min == pytest.approx(-np.pi)
    assert scan.angle_max == pytest.approx(np.pi - 2 * np.pi / 720)
    assert scan.angle_increment == pytest.approx(2 * np.pi / 720)
    assert scan.range_min == pytest.approx(0.12) and scan.range_max == pytest.approx(12.0)
    assert scan.scan_time == pytest.approx(1 / 20)
    assert scan.time_increment == 0.0
    assert spec.samples == len(scan.ranges)


def test_pan_tilt_motion_does_not_change_fixed_lidar_scan(backend, robot):
    backend.mirror(odom(0.5, 0.2, 0.3), joints(pan_joint=0.0, tilt_joint=0.0))
    before = backend.scan().ranges.copy()
    for pan, tilt in [(2.4, 0.6), (-2.4, -0.6), (1.0, 0.0)]:
        backend.mirror(joints=joints(pan_joint=pan, tilt_joint=tilt))
        np.testing.assert_array_equal(backend.scan().ranges, before)
    assert np.max(np.abs(before - expected_scan(robot, 0.5, 0.2, 0.3))) < 1e-3


@pytest.mark.parametrize('x, y, rpy', [
    (-0.7, -0.4, (0.0, 0.0, 2.2)),  # level
    (-2.2, -0.5, (0.0, -0.3, 0.0)),  # nose up: beams ahead climb onto the high board
    (0.2, -1.9, (0.1, 0.3, -0.4)),  # nose down, rolled: low step, floor and walls
])
def test_batched_scan_equals_per_ray_reference(backend, robot, x, y, rpy):
    """The fast path (scan-plane culling + one mj_multiRay) against one mj_ray per beam."""
    backend.mirror(OdometrySample(position=np.array([x, y, 0.0]),
                                  orientation=quat_from_rpy(*rpy)), joints(pan_joint=0.5))
    scan = backend.scan()
    position, orientation = backend.lidar_pose()
    rot = Pose(position, orientation).matrix()[:3, :3]
    groups = np.array([1, 1, 0, 1, 1, 1], dtype=np.uint8)
    geomid = np.zeros(1, dtype=np.int32)
    reference, names = [], set()
    for angle in robot.lidar.beam_angles():
        direction = rot @ np.array([np.cos(angle), np.sin(angle), 0.0])
        dist = mujoco.mj_ray(backend.model, backend.data, position, direction, groups, 1, -1,
                             geomid)
        reference.append(np.inf if geomid[0] < 0 or dist > 12.0 else dist)
        names.add(backend.model.geom(geomid[0]).name if geomid[0] >= 0 else '')
    np.testing.assert_allclose(scan.ranges, np.array(reference, dtype=np.float32), rtol=0,
                               atol=1e-6)
    if rpy[1] < 0:
        assert 'high_board::link::collision' in names
    if rpy[1] > 0:
        assert {'low_step::link::collision', 'ground::link::collision'} <= names


def test_scan_leaves_geom_groups_unchanged(backend):
    before = backend.model.geom_group.copy()
    backend.mirror(odom(0.0, 0.0, 0.0))
    backend.scan()
    np.testing.assert_array_equal(backend.model.geom_group, before)


def test_robot_geometry_is_excluded(backend):
    backend.mirror(odom(0.0, 0.0, 0.0))
    position, _ = backend.lidar_pose()
    geomid = np.zeros(1, dtype=np.int32)
    # With every group enabled, the beam starts inside the robot's own lidar housing.
    dist = mujoco.mj_ray(backend.model, backend.data, position, np.array([1.0, 0, 0]), None, 1,
                         -1, geomid)
    assert dist < 0.1 and backend.model.geom_bodyid[geomid[0]] != 0
    assert np.min(backend.scan().ranges) > 1.0


def test_rep117_out_of_range_and_too_close():
    robot = load_robot_description(default_robot_path(), {
        'lidar_range_min': '0.5', 'lidar_range_max': '3.0', 'lidar_noise_stddev': '0'})
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH)
    # Sensor 0.3 m from the east wall (x = 4): beams at 0 rad are too close; west is > 3 m.
    backend.mirror(odom(3.6, 0.05, 0.0))
    ranges = backend.scan().ranges
    expected = expected_scan(robot, 3.6, 0.05, 0.0)
    assert ranges[360] == -np.inf and expected[360] < 0.5
    assert ranges[0] == np.inf and expected[0] > 3.0
    valid = (expected >= 0.5) & (expected <= 3.0)
    assert valid.sum() > 50
    assert np.max(np.abs(ranges[valid] - expected[valid])) < 1e-3
    np.testing.assert_array_equal(np.isposinf(ranges), expected > 3.0)
    np.testing.assert_array_equal(np.isneginf(ranges), expected < 0.5)


def test_noise_is_seeded_and_gaussian(robot):
    a = EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_seed=7)
    b = EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_seed=7)
    c = EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_seed=8)
    scans = [backend.scan().ranges for backend in (a, b, c)]
    np.testing.assert_array_equal(scans[0], scans[1])
    assert not np.array_equal(scans[0], scans[2])
    error = scans[0] - expected_scan(robot, 0, 0, 0)
    assert 0.007 < np.std(error) < 0.013 and abs(np.mean(error)) < 0.002
    # Successive scans draw fresh noise.
    assert not np.array_equal(a.scan().ranges, scans[0])


def test_mirror_reads_back_exactly(backend, robot):
    q = quat_multiply(quat_from_rpy(0.0, 0.0, 1.1), quat_from_rpy(0.02, -0.01, 0.0))
    sample = OdometrySample(position=np.array([1.5, -0.25, 0.01]), orientation=q,
                            linear_velocity=np.array([0.4, 0.05, 0.0]),
                            angular_velocity=np.array([0.0, 0.01, 0.3]))
    positions = np.array([12.5, -3.25, 2.0, -0.5])
    velocities = np.array([1.0, -2.0, 0.25, 0.0])
    backend.mirror(sample, JointStateSample(names=robot.movable_joint_names,
                                            positions=positions, velocities=velocities))
    out = backend.odometry()
    np.testing.assert_array_equal(out.position, sample.position)  # stored as given
    np.testing.assert_array_equal(out.orientation, q)
    np.testing.assert_allclose(out.linear_velocity, sample.linear_velocity, atol=1e-12)
    np.testing.assert_allclose(out.angular_velocity, sample.angular_velocity, atol=1e-12)
    assert out.child_frame_id == 'base_link'
    state = backend.joint_state()
    assert state.names == robot.movable_joint_names
    np.testing.assert_array_equal(state.positions, positions)
    np.testing.assert_array_equal(state.velocities, velocities)
    # The lidar really moved with the base (kinematics updated).
    sensor = robot.link_pose('lidar_link')
    lidar_position, _ = backend.lidar_pose()
    expected = Pose(sample.position, q).compose(sensor).position
    np.testing.assert_allclose(lidar_position, expected, atol=1e-12)


def test_partial_joint_subsets_keep_other_joints(backend):
    backend.mirror(joints=joints(pan_joint=0.1, tilt_joint=0.2, left_wheel_joint=0.3,
                                 right_wheel_joint=0.4))
    backend.mirror(joints=joints(tilt_joint=-0.5))
    backend.mirror(joints=joints(right_wheel_joint=7.0, pan_joint=-1.0))
    state = backend.joint_state()
    got = dict(zip(state.names, state.positions, strict=True))
    assert got == {'left_wheel_joint': 0.3, 'right_wheel_joint': 7.0, 'pan_joint': -1.0,
                   'tilt_joint': -0.5}


def test_unknown_or_fixed_joint_raises_and_changes_nothing(backend):
    backend.mirror(joints=joints(pan_joint=0.25))
    for bad in ('elbow_joint', 'caster_joint', 'lidar_joint'):
        with pytest.raises(BackendError, match=bad):
            backend.mirror(joints=joints(pan_joint=1.0, **{bad: 0.0}))
    state = backend.joint_state()
    assert state.positions[state.names.index('pan_joint')] == 0.25


def test_nothing_known_before_first_mirror(robot):
    fresh = EmbeddedBackend(ROOM, robot, search_path=SEARCH)
    assert fresh.odometry() is None and fresh.joint_state() is None
    assert fresh.scan() is not None  # the robot starts at the world origin


def test_robot_without_lidar():
    robot = load_robot_description(default_robot_path(), {'lidar': 'false'})
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH)
    assert backend.lidar is None and backend.scan() is None
    with pytest.raises(BackendError, match='no lidar'):
        backend.lidar_pose()


def test_prefixed_robot(robot):
    prefixed = load_robot_description(default_robot_path(),
                                      {'prefix': 'r1_', 'lidar_noise_stddev': '0'})
    backend = EmbeddedBackend(ROOM, prefixed, search_path=SEARCH)
    assert backend.joint_names == tuple('r1_' + n for n in robot.movable_joint_names)
    backend.mirror(odom(1.0, -0.5, 0.7), joints(r1_pan_joint=1.0))
    assert backend.scan().frame_id == 'r1_lidar_link'
    assert np.max(np.abs(backend.scan().ranges - expected_scan(robot, 1.0, -0.5, 0.7))) < 1e-3


def test_driving_both_wheels_moves_forward(robot):
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH)
    backend.mirror(odom(0.0, 0.0, 0.5))
    speed = 5.0  # rad/s -> 0.3 m/s with 0.06 m wheels
    backend.step(0.5, {'left_wheel_joint': speed, 'right_wheel_joint': speed})
    backend.step(1.0, {'left_wheel_joint': speed, 'right_wheel_joint': speed})
    pose = backend.odometry()
    travelled = pose.position[:2]
    heading = np.array([np.cos(0.5), np.sin(0.5)])
    assert 0.38 < travelled @ heading < 0.46  # v * t = 0.45 m less the spin-up
    assert abs(heading[0] * travelled[1] - heading[1] * travelled[0]) < 0.02
    assert abs(yaw_from_quat(pose.orientation) - 0.5) < 0.02
    assert pose.linear_velocity[0] == pytest.approx(0.3, abs=0.02)
    wheel_speeds = backend.joint_state().velocities[:2]
    np.testing.assert_allclose(wheel_speeds, [speed, speed], atol=0.2)


def test_opposite_wheels_turn_in_place(robot):
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH)
    backend.step(1.0, {'left_wheel_joint': -3.0, 'right_wheel_joint': 3.0})
    pose = backend.odometry()
    # Ideal yaw rate: r * (wr - wl) / separation = 0.06 * 6 / 0.32 = 1.125 rad/s.
    assert 0.8 < yaw_from_quat(pose.orientation) < 1.2
    assert np.linalg.norm(pose.position[:2]) < 0.05


def test_step_rejects_bad_commands(backend):
    with pytest.raises(BackendError, match='pan_joint'):
        backend.step(0.01, {'pan_joint': 1.0})
    with pytest.raises(BackendError, match='not finite'):
        backend.step(0.01, {'left_wheel_joint': float('nan')})
    with pytest.raises(BackendError):
        backend.step(-1.0)


ROBOTS = Path(__file__).resolve().parent / 'data' / 'robots'


@pytest.mark.parametrize('urdf, pose', [
    (ROBOTS / 'tb3_like_description' / 'urdf' / 'tb3_like.urdf', (1.2, -0.3, 0.9)),
    (ROBOTS / 'nav2_like.urdf', (-0.5, 0.6, -2.4)),
])
def test_third_party_robot_scans_match_analytic_truth(urdf, pose):
    robot = load_robot_description(urdf)
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_noise=False)
    backend.mirror(odom(*pose))
    scan = backend.scan()
    spec = robot.lidar
    assert scan.frame_id == spec.frame_id and len(scan.ranges) == spec.samples
    expected = expected_scan(robot, *pose)
    far, near = expected > spec.range_max, expected < spec.range_min
    valid = ~far & ~near
    assert valid.sum() > spec.samples // 4
    assert np.max(np.abs(scan.ranges[valid] - expected[valid])) < 1e-3
    np.testing.assert_array_equal(np.isposinf(scan.ranges), far)
    np.testing.assert_array_equal(np.isneginf(scan.ranges), near)


def test_sleeping_world_bodies_stay_visible_to_the_lidar(robot):
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_noise=False)
    backend.step(3.0)  # the resting cube falls asleep; the robot never does
    backend.mirror(odom(-1.0, 0.5, -2.3))
    np.testing.assert_allclose(backend.scan().ranges, expected_scan(robot, -1.0, 0.5, -2.3),
                               atol=1e-3)
    backend.lidar_pose()  # read-backs bring the backend's own data up to date too
    fresh = mujoco.MjData(backend.model)
    fresh.qpos[:] = backend.data.qpos
    mujoco.mj_kinematics(backend.model, fresh)
    np.testing.assert_array_equal(backend.data.geom_xpos, fresh.geom_xpos)
    np.testing.assert_array_equal(backend.data.geom_xmat, fresh.geom_xmat)


@pytest.mark.parametrize('world', ['empty', 'warehouse', 'obstacle_course'])
def test_shipped_worlds_load_with_the_robot(robot, world):
    backend = EmbeddedBackend(world, robot, lidar_seed=3)
    assert backend.world_description is not None
    backend.mirror(odom(0.0, 0.0, 0.0), joints(pan_joint=0.3))
    scan = backend.scan()
    assert scan.ranges.shape == (720,) and not np.any(np.isnan(scan.ranges))
    assert not np.any(np.abs(scan.ranges) < robot.lidar.range_min)  # never the robot itself
    backend.step(0.05, {'left_wheel_joint': 1.0, 'right_wheel_joint': 1.0})
    assert np.all(np.isfinite(backend.odometry().position))


def test_unknown_world_is_a_clear_error(robot):
    with pytest.raises(ResourceNotFoundError, match='no_such_world'):
        EmbeddedBackend('no_such_world', robot)


@pytest.mark.parametrize('odometry, sample', [
    (None, JointStateSample(names=('pan_joint', 'tilt_joint'), positions=np.array([0.1]))),
    (None, JointStateSample(names=('pan_joint',), positions=np.array([np.nan]))),
    (None, JointStateSample(names=('pan_joint',), positions=np.array([0.1]),
                            velocities=np.array([np.inf]))),
    (OdometrySample(position=np.array([np.nan, 0, 0]), orientation=np.array([0, 0, 0, 1.0])),
     None),
    (OdometrySample(position=np.zeros(3), orientation=np.zeros(4)), None),
    (OdometrySample(position=np.zeros(2), orientation=np.array([0, 0, 0, 1.0])), None),
])
def test_bad_input_is_stopped_before_the_backend_and_changes_nothing(backend, odometry,
                                                                      sample):
    """The backend trusts its caller (SimulatorBackend.mirror's contract): the session's one
    check stands in front of it."""
    from twin_bridge.twin.twin_session import TwinSession
    backend.mirror(odom(0.5, 0.5, 0.5), joints(pan_joint=0.2))
    before = backend.data.qpos.copy()
    session = TwinSession(backend)
    outcome = (session.on_odometry(odometry, 1.0, 10) if odometry is not None
               else session.on_joint_state(sample, 1.0, 10))
    assert not outcome.accepted
    np.testing.assert_array_equal(backend.data.qpos, before)


@pytest.mark.parametrize('geometry, message', [
    ('<box size="0 0 0"/>', 'MuJoCo cannot compile the robot'),
    ('<sphere radius="abc"/>', 'MuJoCo cannot read the URDF'),
])
def test_robot_mujoco_rejects_is_a_robot_error(geometry, message):
    urdf = (f'<robot name="r"><link name="b"><collision><geometry>{geometry}</geometry>'
            '</collision></link></robot>')
    with pytest.raises(RobotDescriptionError, match=f'bad.urdf: {message}'):
        EmbeddedBackend(ROOM, parse_urdf(urdf, source='bad.urdf'), search_path=SEARCH)


def test_scan_sees_world_bodies_that_moved_during_dynamics(robot):
    """A box dropped from above the scan plane is culled at first and seen once it lands."""
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[10, 10, 0.1])
    box = spec.worldbody.add_body(pos=[2.0, 0.0, 1.5])
    box.add_freejoint()
    box.add_geom(name='drop_box', type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.3, 0.3, 0.3], mass=2.0)
    backend = EmbeddedBackend(spec, robot, lidar_noise=False)
    backend.mirror(odom(0.0, 0.0, 0.0))
    assert backend.scan().ranges[360] == np.inf  # beam 360 points along +x
    backend.step(1.5)
    backend.mirror(odom(0.0, 0.0, 0.0))
    assert backend.data.geom('drop_box').xpos[2] == pytest.approx(0.3, abs=0.01)  # landed
    assert backend.scan().ranges[360] == pytest.approx(2.0 - 0.3 - 0.1, abs=2e-3)


FOOTPRINT_ROBOT = '''<robot name="fp">
  <link name="base_link"><collision><geometry><box size="0.3 0.2 0.1"/></geometry></collision>
    <inertial><mass value="2"/><inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/>
    </inertial></link>
  <link name="base_footprint"/>
  <joint name="footprint_joint" type="fixed"><parent link="base_link"/>
    <child link="base_footprint"/><origin xyz="0.05 -0.02 -0.15" rpy="0 0 0.3"/></joint>
  <link name="arm"><inertial><mass value="0.2"/>
    <inertia ixx="0.001" ixy="0" ixz="0" iyy="0.001" iyz="0" izz="0.001"/></inertial></link>
  <joint name="arm_joint" type="revolute"><parent link="base_link"/><child link="arm"/>
    <axis xyz="0 0 1"/><limit lower="-1" upper="1"/></joint>
  <link name="finger"><inertial><mass value="0.05"/>
    <inertia ixx="0.0001" ixy="0" ixz="0" iyy="0.0001" iyz="0" izz="0.0001"/></inertial></link>
  <joint name="finger_joint" type="prismatic"><parent link="arm"/><child link="finger"/>
    <axis xyz="0 1 0"/><limit lower="-0.1" upper="0.1"/>
    <mimic joint="arm_joint" multiplier="-0.05" offset="0.01"/></joint>
</robot>'''


def test_odometry_of_a_frame_fixed_to_the_root_places_the_root():
    """Through the session (which converts to the root once): the footprint body lands
    where the odometry says, with its twist."""
    from twin_bridge.twin.twin_session import TwinSession
    robot = parse_urdf(FOOTPRINT_ROBOT)
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH)
    q = quat_from_rpy(0.0, 0.0, 0.8)
    sample = OdometrySample(position=np.array([1.0, 2.0, 0.0]), orientation=q,
                            linear_velocity=np.array([0.4, 0.1, 0.0]),
                            angular_velocity=np.array([0.0, 0.0, 0.5]),
                            stamp_ns=10, child_frame_id='base_footprint')
    assert TwinSession(backend).on_odometry(sample, 1.0, 10).accepted
    data = mujoco.MjData(backend.model)
    data.qpos[:], data.qvel[:] = backend.data.qpos, backend.data.qvel
    mujoco.mj_forward(backend.model, data)
    body = backend.model.body('robot/base_footprint').id
    np.testing.assert_allclose(data.xpos[body], sample.position, atol=1e-12)
    np.testing.assert_allclose(np.abs(data.xquat[body] @ [q[3], q[0], q[1], q[2]]), 1.0,
                               atol=1e-12)
    velocity = np.zeros(6)  # [angular, linear] of the footprint origin, in its own frame
    mujoco.mj_objectVelocity(backend.model, data, mujoco.mjtObj.mjOBJ_XBODY, body, velocity, 1)
    np.testing.assert_allclose(velocity[3:], sample.linear_velocity, atol=1e-12)
    np.testing.assert_allclose(velocity[:3], sample.angular_velocity, atol=1e-12)
    # The root-link view of the same state.
    root = backend.odometry()
    assert root.child_frame_id == 'base_link'
    assert root.position[2] == pytest.approx(0.15)


def test_mirror_takes_odometry_as_the_root_pose_whatever_its_frame_label():
    """Frames are the session's business: the backend moves the root and logs nothing."""
    backend = EmbeddedBackend(ROOM, parse_urdf(FOOTPRINT_ROBOT), search_path=SEARCH)
    for frame in ('base_link', 'base_footprint', 'arm', 'chassis'):
        backend.mirror(OdometrySample(position=np.array([0.5, 0, 0]),
                                      orientation=np.array([0, 0, 0, 1.0]),
                                      child_frame_id=frame))
        np.testing.assert_array_equal(backend.odometry().position, [0.5, 0, 0])


def test_mimic_joint_follows_its_master():
    robot = parse_urdf(FOOTPRINT_ROBOT)
    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH)
    assert robot.movable_joint_names == ('arm_joint', 'finger_joint')
    backend.mirror(joints=JointStateSample(names=('arm_joint',), positions=np.array([0.6]),
                                           velocities=np.array([2.0])))
    state = backend.joint_state()
    np.testing.assert_allclose(state.positions, [0.6, -0.05 * 0.6 + 0.01])
    np.testing.assert_allclose(state.velocities, [2.0, -0.1])
    # Dynamics keep the coupling (MuJoCo equality) and hold the master's position.
    backend.step(0.2)
    arm, finger = backend.joint_state().positions
    assert finger == pytest.approx(-0.05 * arm + 0.01, abs=1e-3)


def test_scans_on_another_thread_see_one_consistent_mirrored_state(robot):
    """A scan thread racing the mirroring thread casts from a snapshot: every scan equals the
    scan of one of the mirrored poses, never a mix of two."""

    backend = EmbeddedBackend(ROOM, robot, search_path=SEARCH, lidar_noise=False)
    poses = [odom(-1.0, 0.5, -2.3), odom(0.5, -0.4, 1.1)]
    references = []
    for pose in poses:
        backend.mirror(pose)
        references.append(backend.scan().ranges.copy())
    assert not np.array_equal(references[0], references[1])
    scans, stop = [], threading.Event()

    def scan_loop() -> None:
        while not stop.is_set() and len(scans) < 200:
            scans.append(backend.scan().ranges)

    worker = threading.Thread(target=scan_loop)
    worker.start()
    try:
        i = 0
        while worker.is_alive() and i < 100_000:
            backend.mirror(poses[i % 2])
            i += 1
    finally:
        stop.set()
        worker.join(timeout=30)
    assert scans
    for ranges in scans:
        assert any(np.array_equal(ranges, ref) for ref in references)
