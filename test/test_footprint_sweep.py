"""Tests for footprint_sweep: hand-calculated contact times (a wall ahead, a pure rotation
beside a shelf, reversing, scan points, a swung joint) and a dense-sampling reference."""

import math

import mujoco
import numpy as np
import pytest

from twin_bridge.core.arcs import arc_poses
from twin_bridge.core.state import JointStateSample
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.footprint_shapes import convex_hull
from twin_bridge.embedded.footprint_sweep import SCAN_OBSTACLE, FootprintSweep
from twin_bridge.errors import BackendError
from twin_bridge.twin.prediction import constant_twist_path

# urdf/twin_robot.urdf.xacro: the chassis box is 0.36 x 0.26, centred on base_link; nothing
# else sticks out further (wheels end at |y| = 0.18 within |x| <= 0.06).
HALF_LENGTH, HALF_WIDTH = 0.18, 0.13
CORNER = math.hypot(HALF_LENGTH, HALF_WIDTH)
RES = 0.002
LEVEL = np.array([0.0, 0.0, 0.0, 1.0])


def _yaw(yaw: float) -> np.ndarray:
    return np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)])


def _world(*boxes: tuple[str, tuple[float, float, float], tuple[float, float, float]]
           ) -> mujoco.MjSpec:
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(name='floor', type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1])
    for name, centre, half in boxes:
        spec.worldbody.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, size=list(half),
                                pos=list(centre))
    return spec


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


@pytest.fixture(scope='module')
def course(robot):
    """A wall ahead of the origin (face x = 1), a box behind it (face x = -1), a shelf at
    x = 10 (face y = 0.25), a bar at head height (z 0.215-0.305, face x = -3.5 at y = 10)."""
    spec = _world(('wall', (1.05, 0.0, 0.5), (0.05, 2.0, 0.5)),
                  ('box_behind', (-1.2, 0.0, 0.2), (0.2, 0.2, 0.2)),
                  ('shelf', (10.0, 0.5, 0.4), (1.0, 0.25, 0.4)),
                  ('bar', (-3.6, 10.0, 0.26), (0.1, 1.0, 0.045)))
    backend = EmbeddedBackend(spec, robot, lidar_noise=False)
    return FootprintSweep.from_backend(backend, resolution=RES)


def test_driving_at_a_wall_contacts_at_gap_over_speed(course):
    course.set_state(np.zeros(3), LEVEL)
    gap = 1.0 - HALF_LENGTH
    for v, margin in ((0.5, 0.0), (0.5, 0.1), (1.2, 0.05)):
        result = course.sweep(v, 0.0, 3.0, margin)
        assert result.time == pytest.approx((gap - margin) / v, abs=1e-6)
        assert result.obstacle == 'wall' and result.robot_geom.startswith('base_link')
        assert result.clearance == pytest.approx(margin, abs=RES)
    assert course.sweep(0.5, 0.0, 1.0).free  # the wall is 1.64 s away


def test_reversing_into_an_obstacle(course):
    course.set_state(np.zeros(3), LEVEL)
    result = course.sweep(-0.4, 0.0, 3.0)
    assert result.time == pytest.approx((1.0 - HALF_LENGTH) / 0.4, abs=1e-6)
    assert result.obstacle == 'box_behind'


def _rotation_contact(gap: float) -> float:
    """Yaw at which a rectangle's y extent (rotating about its centre) reaches ``gap``."""
    return math.asin(gap / CORNER) - math.atan2(HALF_WIDTH, HALF_LENGTH)


@pytest.mark.parametrize('omega', [1.0, -1.5])
def test_pure_rotation_beside_a_shelf_is_caught(course, omega):
    gap = 0.2  # outside the inscribed circle (0.13), inside the corners' circle (0.222)
    course.set_state(np.array([10.0, 0.25 - gap, 0.0]), LEVEL)
    result = course.sweep(0.0, omega, 2.0)
    expected = _rotation_contact(gap) / abs(omega)
    assert expected - 0.03 <= result.time <= expected + 1e-6
    assert result.obstacle == 'shelf' and result.robot_geom.startswith('base_link')


def test_pure_rotation_far_from_the_shelf_is_free(course):
    course.set_state(np.array([10.0, 0.25 - (CORNER + 0.03), 0.0]), LEVEL)
    assert course.sweep(0.0, 2.0, 3.0, margin=0.02).free
    assert not course.sweep(0.0, 2.0, 3.0, margin=0.04).free


def test_obstacle_present_only_as_scan_points(course):
    course.set_state(np.array([0.0, 5.0, 0.0]), LEVEL)
    assert course.sweep(0.5, 0.0, 3.0).free
    points = np.column_stack([np.full(5, 0.8), np.linspace(-0.05, 0.05, 5) + 5.0])
    result = course.sweep(0.5, 0.0, 3.0, 0.0, points)
    assert result.time == pytest.approx((0.8 - HALF_LENGTH) / 0.5, abs=1e-6)
    assert result.obstacle == SCAN_OBSTACLE
    assert any(np.allclose(result.point, p) for p in points)  # all are hit at once
    # Beside the robot (0.2 m to its left), a point is swept by the rotating chassis: its
    # left edge (y = 0.13 in the body) meets the point once cos(yaw) = 0.13 / 0.2.
    hit = course.sweep(0.0, 1.0, 2.0, 0.0, np.array([[0.0, 5.0 + 0.2]]))
    expected = math.acos(HALF_WIDTH / 0.2)
    assert expected - 0.03 <= hit.time <= expected + 1e-6
    assert hit.obstacle == SCAN_OBSTACLE
    assert course.sweep(0.0, 1.0, 2.0, 0.0, np.array([[0.0, 5.0 + CORNER + 0.01]])).free


def test_parts_swung_by_joints_are_swept_where_they_are(course):
    # The tilt head is the rearmost part at bar height (z 0.215-0.305): x = -0.10 when the
    # pan joint is at 0, -0.13 when it is turned a quarter turn.
    start = np.array([-3.5 + 0.5, 10.0, 0.0])
    course.set_state(start, LEVEL, JointStateSample(('pan_joint',), np.array([0.0])))
    ahead = course.sweep(-0.5, 0.0, 2.0).time
    course.set_state(start, LEVEL, JointStateSample(('pan_joint',), np.array([math.pi / 2])))
    turned = course.sweep(-0.5, 0.0, 2.0)
    assert ahead == pytest.approx((0.5 - 0.10) / 0.5, abs=1e-6)
    assert turned.time == pytest.approx((0.5 - 0.13) / 0.5, abs=1e-6)
    assert turned.obstacle == 'bar' and turned.robot_geom.startswith('tilt_link')
    course.set_state(start, LEVEL, JointStateSample(('pan_joint',), np.array([0.0])))


def test_starting_inside_the_margin_may_back_out_but_not_go_in(course):
    course.set_state(np.array([1.0 - HALF_LENGTH - 0.03, 0.0, 0.0]), LEVEL)
    assert course.sweep(-0.3, 0.0, 1.0, margin=0.1).free
    assert course.sweep(0.0, 0.0, 1.0, margin=0.1).free
    ahead = course.sweep(0.3, 0.0, 1.0, margin=0.1)
    tolerance = RES + 0.3 * 0.002   # resolution + 2 ms of travel
    assert ahead.time == pytest.approx(2 * tolerance / 0.3, abs=1e-6)


def test_arcs_match_the_prediction_closed_form():
    times = np.linspace(0.0, 2.0, 9)
    for v, w in ((0.5, 0.0), (0.3, 1.2), (-0.2, -3e-5)):
        dx, dy, turn = arc_poses(v, w, times)
        x, y, yaw = constant_twist_path(0.0, 0.0, 0.0, v, w, times)
        np.testing.assert_allclose(np.column_stack([dx, dy, turn]),
                                   np.column_stack([x, y, yaw]), atol=1e-12)


def test_convex_hull():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5], [1, 0]], dtype=float)
    hull = convex_hull(square)
    assert len(hull) == 4
    area = 0.5 * np.sum(hull[:, 0] * np.roll(hull[:, 1], -1) - np.roll(hull[:, 0], -1)
                        * hull[:, 1])
    assert area == pytest.approx(1.0)  # counter-clockwise


def _reference_time(sweep: FootprintSweep, v: float, w: float, horizon: float,
                    margin: float, step: float = 0.002) -> float:
    """First time on a dense grid where any robot-world geom distance is <= margin."""
    model, data = sweep.model, sweep.data
    world = [g for g in sweep._world_ids[sweep._world_active]]
    rows = np.arange(len(sweep.robot_ids))
    for t in np.arange(0.0, horizon + 1e-12, step):
        sweep.pose_geoms(v, w, float(t), rows)
        for g in sweep.robot_ids:
            for wg in world:
                if mujoco.mj_geomDistance(model, data, int(g), int(wg), 1.0, None) <= margin:
                    return float(t)
    return math.inf


def test_matches_a_dense_sampling_reference_in_the_warehouse(robot):
    backend = EmbeddedBackend('warehouse', robot, lidar_noise=False)
    sweep = FootprintSweep.from_backend(backend, resolution=RES)
    rng = np.random.default_rng(5)
    # Near shelf_hall_1's base (centre (-1.5, 3.7), half 1 x 0.25) and a partition wall.
    starts = [(-1.5, 3.2, 0.3), (-0.3, 3.25, 2.0), (2.15, -0.4, 0.0), (2.1, 0.5, -1.0)]
    for x, y, yaw in starts:
        sweep.set_state(np.array([x, y, 0.0]), _yaw(yaw))
        assert _reference_time(sweep, 0.0, 0.0, 1e-3, 0.05) > 0  # starts outside the margin
        for _ in range(3):
            v, w = rng.uniform(-0.6, 0.6), rng.uniform(-1.5, 1.5)
            got = sweep.sweep(v, w, 1.5, 0.05)
            want = _reference_time(sweep, v, w, 1.5, 0.05)
            if math.isinf(want):
                assert got.free or got.time > 1.5 - 0.05
            else:
                # Never later than the dense reference; early by at most the tolerance.
                assert want - 0.05 <= got.time <= want + 1e-9


def test_bad_inputs_raise(course):
    with pytest.raises(BackendError):
        course.sweep(math.nan, 0.0, 1.0)
    with pytest.raises(BackendError):
        course.sweep(0.1, 0.0, 0.0)
    with pytest.raises(BackendError):
        course.set_state(np.array([0.0, math.inf, 0.0]), LEVEL)
    with pytest.raises(BackendError):
        course.set_state(np.zeros(3), LEVEL, JointStateSample(('nope',), np.array([0.0])))
    with pytest.raises(BackendError):
        course.sweep(0.1, 0.0, 1.0, points=np.array([[math.nan, 0.0]]))
