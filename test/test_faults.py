"""The stand-in's faults without ROS: parsing, each fault on samples, the faulty scanner."""

import math

import numpy as np
import pytest

from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.core.transforms import quat_from_rpy, yaw_from_quat
from twin_bridge.description.resources import find_world
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.mujoco_world import load_world_spec
from twin_bridge.embedded.world_edits import move_body, world_scopes
from twin_bridge.errors import ConfigError
from twin_bridge.stand_in.fault_scan import FaultyScanner
from twin_bridge.stand_in.faults import (
    KINDS,
    FaultInjector,
    ScanWorld,
    distort_ranges,
    fault_help,
    parse_fault,
    parse_faults,
    pose_offset,
    scan_worlds,
    transform_pose,
)
from twin_bridge.stand_in.motion_profiles import make_motion

JOINTS = ('left_wheel_joint', 'right_wheel_joint', 'pan_joint', 'tilt_joint')
WHEELS = JOINTS[:2]


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def _motion(robot):
    joints = [(j.name, j.lower, j.upper) for j in map(robot.joint, robot.movable_joint_names)]
    return make_motion('figure_eight', joints, robot.wheel_joint_names)


def _pose(x: float, y: float, yaw: float) -> OdometrySample:
    return OdometrySample(np.array([x, y, 0.0]), quat_from_rpy(0.0, 0.0, yaw),
                          np.array([0.5, 0.0, 0.0]), np.array([0.0, 0.0, 0.2]))


def _xyyaw(sample: OdometrySample) -> np.ndarray:
    return np.array([sample.position[0], sample.position[1],
                     yaw_from_quat(sample.orientation)])


def _relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pose b in the frame of pose a (x, y, yaw)."""
    c, s = math.cos(a[2]), math.sin(a[2])
    d = b[:2] - a[:2]
    return np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1],
                     math.remainder(b[2] - a[2], math.tau)])


# -- parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize('text, kind, at, params', [
    ('pose_offset:dx=0.05,dyaw_deg=2,at=5', 'pose_offset', 5.0, {'dx': 0.05, 'dyaw_deg': 2.0}),
    ('pose_offset:dy_rate=0.01', 'pose_offset', 0.0, {'dy_rate': 0.01}),
    ('obstacle_moved:name=shelf_a,dx=0.3,at=5', 'obstacle_moved', 5.0,
     {'name': 'shelf_a', 'dx': 0.3}),
    ('scan_world:world=/tmp/w.sdf,at=1.5', 'scan_world', 1.5, {'world': '/tmp/w.sdf'}),
    ('lidar_yaw:deg=2,at=5', 'lidar_yaw', 5.0, {'deg': 2.0}),
    ('range_bias:m=0.05', 'range_bias', 0.0, {'m': 0.05}),
    ('range_scale:factor=1.02', 'range_scale', 0.0, {'factor': 1.02}),
    ('wheel_slip:factor=1.1,at=5', 'wheel_slip', 5.0, {'factor': 1.1}),
    (' scan_noise : stddev = 0.03 ', 'scan_noise', 0.0, {'stddev': 0.03}),
])
def test_every_kind_parses(text, kind, at, params):
    fault = parse_fault(text, default_seed=7)
    assert (fault.kind, fault.at, fault.seed) == (kind, at, 7)
    assert set(fault.params) == set(KINDS[kind][0])  # defaults filled in
    for key, value in params.items():
        assert fault.params[key] == value
    assert fault.describe().startswith(kind)


def test_describe_shows_what_was_given():
    assert parse_fault('pose_offset:dx=0.05,dyaw_deg=2,at=5').describe() == \
        'pose_offset dx=0.05 dyaw_deg=2'


@pytest.mark.parametrize('text, message', [
    ('teleport:dx=1', "unknown kind 'teleport'"),
    ('lidar_yaw:degrees=2', "unknown key 'degrees'"),
    ('lidar_yaw:at=2', 'needs deg'),
    ('lidar_yaw:deg=2,deg=3', 'deg given twice'),
    ('lidar_yaw:deg', "'deg' is not KEY=VALUE"),
    ('lidar_yaw:deg=two', "deg='two' is not a finite number"),
    ('lidar_yaw:deg=nan', 'not a finite number'),
    ('lidar_yaw:deg=2,at=-1', 'at and stddev must be >= 0'),
    ('scan_noise:stddev=-0.1', 'at and stddev must be >= 0'),
    ('wheel_slip:factor=0', 'factor must be > 0'),
    ('range_scale:factor=-1', 'factor must be > 0'),
    ('pose_offset:at=5', 'needs a non-zero offset or rate'),
    ('obstacle_moved:name=box_0', 'needs a non-zero dx or dy'),
    ('lidar_yaw:deg=2,seed=x', "seed='x' is not an integer"),
])
def test_bad_spec_is_a_config_error_naming_it(text, message):
    with pytest.raises(ConfigError, match='faults') as caught:
        parse_fault(text, what='faults')
    assert repr(text) in str(caught.value) and message in str(caught.value)


def test_parse_faults_skips_empty_items_and_seeds_by_index():
    faults = parse_faults(['', 'scan_noise:stddev=0.01', 'lidar_yaw:deg=1,seed=42',
                           'scan_noise:stddev=0.02'], default_seed=10)
    assert [f.seed for f in faults] == [10, 42, 12]
    assert parse_faults(['']) == []


def test_help_lists_every_kind():
    text = '\n'.join(fault_help())
    for kind in KINDS:
        assert f'{kind}:' in text
    assert 'name=NAME' in text and 'dx=0' in text


# -- odometry --------------------------------------------------------------------------------

def test_pose_offset_steps_at_its_time_and_stays_a_rigid_transform(robot):
    motion = _motion(robot)
    inj = FaultInjector(parse_faults(['pose_offset:dx=0.05,dy=-0.02,dyaw_deg=2,at=5']), JOINTS,
                        WHEELS)
    times = np.arange(0.0, 12.0, 0.02)
    true = [motion.odometry(t) for t in times]
    out = [inj.odometry(s, t) for s, t in zip(true, times, strict=True)]
    before = times < 5.0
    assert all(o is s for o, s, b in zip(out, true, before, strict=True) if b)
    onset = int(np.argmax(~before))
    np.testing.assert_allclose(_xyyaw(out[onset]) - _xyyaw(true[onset]),
                               [0.05, -0.02, math.radians(2)], atol=1e-12)
    # From then on the published path is the true one moved rigidly: every step, seen from
    # the robot, is the true step; the twist is the true twist.
    for k in range(onset + 1, len(times)):
        np.testing.assert_allclose(_relative(_xyyaw(out[k - 1]), _xyyaw(out[k])),
                                   _relative(_xyyaw(true[k - 1]), _xyyaw(true[k])), atol=1e-9)
        assert out[k].linear_velocity is true[k].linear_velocity
    assert not np.allclose(_xyyaw(out[-1])[:2] - _xyyaw(true[-1])[:2], [0.05, -0.02])


def test_pose_offset_grows_at_its_rate():
    fault = parse_fault('pose_offset:dx=0.01,dx_rate=0.02,dyaw_deg_rate=1,at=2')
    np.testing.assert_array_equal(pose_offset(fault, 1.9), np.zeros(3))
    np.testing.assert_allclose(pose_offset(fault, 4.0), [0.05, 0.0, math.radians(2.0)])
    inj = FaultInjector([fault], JOINTS, WHEELS)
    still = _pose(1.0, 2.0, 0.5)
    for t, expected in ((1.0, 0.0), (2.0, 0.01), (3.0, 0.03), (7.0, 0.11)):
        out = _xyyaw(inj.odometry(still, t))
        assert out[0] == pytest.approx(1.0 + expected)  # turned about the robot itself
        assert out[2] == pytest.approx(0.5 + math.radians(max(0.0, t - 2.0)))


def test_transform_pose_turns_about_the_pivot():
    pose = _pose(2.0, 0.0, 0.0)
    turned = transform_pose(pose, np.array([1.0, 0.0]), 0.1, 0.0, math.pi / 2)
    np.testing.assert_allclose(_xyyaw(turned), [1.1, 1.0, math.pi / 2], atol=1e-12)
    np.testing.assert_array_equal(turned.angular_velocity, pose.angular_velocity)


# -- joints ----------------------------------------------------------------------------------

def test_wheel_slip_turns_the_wheels_further_than_the_base_moves(robot):
    motion = _motion(robot)
    inj = FaultInjector(parse_faults(['wheel_slip:factor=1.1,at=3']), motion.joint_names,
                        robot.wheel_joint_names)
    assert inj.joint_state(motion.joint_state(2.9), 2.9).positions.tolist() == \
        motion.joint_state(2.9).positions.tolist()
    start = inj.joint_state(motion.joint_state(3.0), 3.0)
    np.testing.assert_allclose(start.positions, motion.joint_state(3.0).positions)
    true, out = motion.joint_state(8.0), inj.joint_state(motion.joint_state(8.0), 8.0)
    turned_true = true.positions[:2] - motion.joint_state(3.0).positions[:2]
    np.testing.assert_allclose(out.positions[:2] - start.positions[:2], 1.1 * turned_true)
    np.testing.assert_allclose(out.velocities[:2], 1.1 * true.velocities[:2])
    np.testing.assert_array_equal(out.positions[2:], true.positions[2:])  # pan, tilt: true
    np.testing.assert_array_equal(out.velocities[2:], true.velocities[2:])


def test_wheel_slip_needs_wheels():
    with pytest.raises(ConfigError, match='no wheel joints'):
        FaultInjector(parse_faults(['wheel_slip:factor=1.1']), ['pan_joint'], None)


def test_no_joint_fault_leaves_the_sample_alone():
    inj = FaultInjector(parse_faults(['pose_offset:dx=1']), JOINTS, WHEELS)
    sample = JointStateSample(JOINTS, np.arange(4.0), np.ones(4))
    assert inj.joint_state(sample, 10.0) is sample


# -- ranges ----------------------------------------------------------------------------------

def test_range_bias_and_scale_reclassify_returns():
    ranges = np.array([1.0, 5.0, 11.95, 0.15, np.inf, -np.inf], dtype=np.float32)
    out = distort_ranges(ranges, 0.12, 12.0, bias=0.1, scale=1.0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:2], [1.1, 5.1], rtol=1e-6)
    assert out[2] == np.inf and out[4] == np.inf and out[5] == -np.inf  # beyond max: no return
    assert out[3] == pytest.approx(0.25)
    out = distort_ranges(ranges, 0.12, 12.0, scale=0.5)
    np.testing.assert_allclose(out[:3], [0.5, 2.5, 5.975], rtol=1e-6)
    assert out[3] == -np.inf  # now closer than range_min


def test_range_faults_switch_on_at_their_time():
    inj = FaultInjector(parse_faults(['range_bias:m=0.05,at=2', 'range_scale:factor=2,at=4']),
                        JOINTS, WHEELS)
    ranges = np.array([1.0, np.inf], dtype=np.float32)
    assert inj.ranges(ranges, 1.0, 0.12, 12.0) is ranges
    np.testing.assert_allclose(inj.ranges(ranges, 3.0, 0.12, 12.0), [1.05, np.inf])
    np.testing.assert_allclose(inj.ranges(ranges, 5.0, 0.12, 12.0), [2.05, np.inf])


def test_scan_noise_is_seeded_and_has_its_level():
    ranges = np.full(720, 3.0, dtype=np.float32)

    def noisy(seed_spec: str, t: float = 1.0) -> np.ndarray:
        inj = FaultInjector(parse_faults([f'scan_noise:stddev=0.03,at=0.5{seed_spec}']), JOINTS)
        return np.concatenate([inj.ranges(ranges, t, 0.12, 12.0) for _ in range(20)])

    a, b, c = noisy(''), noisy(''), noisy(',seed=9')
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.std(a - 3.0) == pytest.approx(0.03, rel=0.05)
    assert abs(np.mean(a - 3.0)) < 0.003
    np.testing.assert_array_equal(noisy('', t=0.4), np.full(20 * 720, 3.0))


def test_lidar_yaw_adds_up_from_each_onset():
    inj = FaultInjector(parse_faults(['lidar_yaw:deg=2,at=5', 'lidar_yaw:deg=-0.5,at=6']),
                        JOINTS)
    assert [inj.lidar_yaw(t) for t in (4.9, 5.0, 7.0)] == \
        pytest.approx([0.0, math.radians(2.0), math.radians(1.5)])


# -- worlds ----------------------------------------------------------------------------------

def test_scan_worlds_switch_at_each_onset():
    faults = parse_faults(['obstacle_moved:name=box_0,dx=0.3,at=5', 'scan_world:world=empty,at=8',
                           'obstacle_moved:name=shelf,dy=1,at=8', 'lidar_yaw:deg=1,at=2'])
    assert scan_worlds(faults) == [
        ScanWorld(0.0), ScanWorld(5.0, None, (('box_0', 0.3, 0.0),)),
        ScanWorld(8.0, 'empty', (('shelf', 0.0, 1.0),))]
    assert scan_worlds(parse_faults(['obstacle_moved:name=b,dx=1'])) == [
        ScanWorld(0.0, None, (('b', 1.0, 0.0),))]


def test_move_body_moves_static_geoms_and_dynamic_bodies():
    spec, _ = load_world_spec(find_world('warehouse'))
    before = {g.name: np.array(g.pos) for g in spec.worldbody.geoms}
    box = np.array(spec.body('box_0::link').pos)
    assert move_body(spec, 'shelf_hall_0', 0.3, -0.1) is spec
    move_body(spec, 'box_0', 0.0, 0.5)
    for geom in spec.worldbody.geoms:
        shift = [0.3, -0.1, 0.0] if geom.name.startswith('shelf_hall_0::') else [0.0, 0.0, 0.0]
        np.testing.assert_allclose(geom.pos, before[geom.name] + shift)
    model = spec.compile()
    np.testing.assert_allclose(model.body('box_0::link').pos, box + [0.0, 0.5, 0.0])
    assert 'shelf_hall_0' in world_scopes(spec) and 'box_1' in world_scopes(spec)
    with pytest.raises(ConfigError, match=r"no obstacle 'shelf_a'.*shelf_hall_0"):
        move_body(spec, 'shelf_a', 0.3, 0.0)


# -- the faulty scanner ------------------------------------------------------------------------

def _scanner(robot, specs):
    return FaultyScanner('warehouse', robot, FaultInjector(parse_faults(specs), JOINTS), seed=0)


def test_scanner_turns_the_lidar_by_its_yaw(robot):
    scanner = _scanner(robot, ['lidar_yaw:deg=10,at=1'])  # 20 beams of 0.5 deg
    try:
        pose = _pose(0.3, -0.2, 0.4)
        before, after = scanner.scan(0.5, pose).ranges, scanner.scan(1.5, pose).ranges
    finally:
        scanner.close()
    both = np.isfinite(before) & np.isfinite(after)
    assert both.sum() > 600
    rolled = np.roll(before, -20)  # beam i now looks where beam i + 20 looked
    ok = np.isfinite(rolled) & np.isfinite(after)
    assert np.median(np.abs(after - rolled)[ok]) < 0.03  # the lidar's own 1 cm noise
    assert np.median(np.abs(after - before)[both]) > 0.1


def test_scanner_casts_in_the_moved_world_from_its_time(robot):
    scanner = _scanner(robot, ['obstacle_moved:name=shelf_hall_0,dx=0.5,at=2',
                               'scan_world:world=empty,at=4', 'range_bias:m=0.2,at=3'])
    try:
        lidar = scanner.lidar
        pose = _pose(0.0, 0.0, 0.0)
        first, moved = scanner.scan(1.0, pose).ranges, scanner.scan(2.5, pose).ranges
        biased, empty = scanner.scan(3.5, pose).ranges, scanner.scan(4.5, pose).ranges
    finally:
        scanner.close()
    both = np.isfinite(first) & np.isfinite(moved)
    diff = np.zeros(len(first))
    diff[both] = np.abs(moved[both] - first[both])
    changed = np.flatnonzero(diff > 0.1)
    assert len(changed) > 5
    # Only beams towards the shelf (at -4.2, 3.7; the lidar is at the origin) changed.
    angles = lidar.beam_angles()[changed]
    hits = np.stack([np.cos(angles), np.sin(angles)], axis=1) * np.minimum(
        first[changed], moved[changed])[:, None]
    assert np.all(np.hypot(hits[:, 0] + 4.2, hits[:, 1] - 3.7) < 1.6)
    same = np.isfinite(moved) & np.isfinite(biased)
    assert np.median(biased[same] - moved[same]) == pytest.approx(0.2, abs=0.01)
    assert not np.isfinite(empty).any()  # nothing to hit in the empty world


def test_scanner_rejects_an_unknown_obstacle(robot):
    with pytest.raises(ConfigError, match="no obstacle 'shelf_a'"):
        _scanner(robot, ['obstacle_moved:name=shelf_a,dx=0.3,at=5'])
