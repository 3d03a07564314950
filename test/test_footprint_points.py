"""Scan points in the footprint sweep: the outermost footprints, distance gradients, and the
second-order step against a dense-sampling reference (never later than the reference)."""

import math

import mujoco
import numpy as np

from twin_bridge.core.state import JointStateSample
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.footprint_shapes import Footprint2D
from twin_bridge.embedded.footprint_sweep import FootprintSweep


def test_footprints_inside_another_are_not_outermost():
    square = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    shapes = Footprint2D([square, np.array([[0.2, 0.1]]), np.array([[0.9, 0.0]]), square,
                          np.array([[0.0, 0.0], [0.0, 1.5]])],
                         np.array([0.0, 0.5, 0.2, 0.0, 0.1]))
    # The disc r=0.5 at (0.2, 0.1) is inside; the one at (0.9, 0) sticks out; the second
    # square equals the first (the first is kept); the capsule leaves the square.
    assert list(shapes.outermost()) == [0, 2, 4]
    points = np.array([[3.0, 0.5], [0.0, -2.5], [1.3, 0.1]])
    all_min = shapes.distances(points).min(axis=1)
    kept = shapes.subset(shapes.outermost()).distances(points).min(axis=1)
    assert np.allclose(all_min, kept)


def test_gradients_are_unit_and_match_finite_differences():
    square = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    shapes = Footprint2D([square, np.array([[0.0, 0.0], [2.0, 0.0]])], np.array([0.1, 0.3]))
    rng = np.random.default_rng(3)
    points = rng.uniform(-3.0, 3.0, (200, 2))
    dist, grad, valid = shapes.distances_and_gradients(points)
    assert np.allclose(dist, shapes.distances(points))
    assert np.allclose(np.linalg.norm(grad[valid], axis=1), 1.0)
    h = 1e-6
    for axis in (0, 1):
        step = np.zeros(2)
        step[axis] = h
        numeric = (shapes.distances(points + step) - shapes.distances(points - step)) / (2 * h)
        smooth = valid & (np.abs(numeric - grad[..., axis]) < 1e-3)
        assert smooth.mean() > 0.95   # away from the medial axis, where it has a kink


def _reference_time(sweep, v, w, horizon, margin, pts, step=5e-4):
    for t in np.arange(0.0, horizon + 1e-12, step):
        pose = sweep.pose_geoms(v, w, float(t), np.zeros(0, dtype=np.intp))
        if sweep.point_distances(pts, pose)[0].min() <= margin:
            return float(t)
    return math.inf


def test_point_contacts_match_a_dense_reference():
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(name='floor', type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1])
    backend = EmbeddedBackend(spec, load_robot_description(default_robot_path()),
                              lidar_noise=False)
    sweep = FootprintSweep.from_backend(backend, resolution=0.002)
    sweep.set_state(np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0]))
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(40):
        pts = rng.uniform(-1.2, 1.2, (6, 2))
        pts = pts[np.linalg.norm(pts, axis=1) > 0.45]   # outside the margin at the start
        if not len(pts):
            continue
        v, w = rng.uniform(-0.8, 0.8), rng.uniform(-2.0, 2.0)
        got = sweep.sweep(v, w, 1.5, 0.1, pts)
        want = _reference_time(sweep, v, w, 1.5, 0.1, pts)
        if math.isinf(want):
            assert got.free or got.time > 1.5 - 0.02
        else:
            # Never later than the dense reference; where it stops, within the search's
            # tolerance of the margin (resolution + 2 ms of the fastest travel).
            assert got.time <= want + 1e-9, (v, w, pts)
            pose = sweep.pose_geoms(v, w, got.time, np.zeros(0, dtype=np.intp))
            there = sweep.point_distances(pts, pose)[0].min()
            assert 0.1 - 1e-6 <= there <= 0.1 + 0.002 + (abs(v) + abs(w) * 0.25) * 0.002 + 1e-4
            checked += 1
    assert checked >= 10


def test_footprints_redone_only_where_joints_moved_equal_a_fresh_build():
    robot = load_robot_description(default_robot_path())
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(name='floor', type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1])
    backend = EmbeddedBackend(spec, robot, lidar_noise=False)
    kept = FootprintSweep.from_backend(backend)
    names = backend.joint_names
    rng = np.random.default_rng(2)
    points = rng.uniform(-0.6, 0.6, (200, 2))
    pose = (0.0, 0.0, 0.0)
    level = np.array([0.0, 0.0, 0.0, 1.0])
    for k in range(12):
        # The head moves every time, the wheels every third time (they stick out: the set of
        # outermost footprints is redone then).
        values = np.array([0.4 * (k // 3), -0.3 * (k // 3), 0.5 * math.sin(k), 0.3 * math.cos(k)])
        joints = JointStateSample(names, values)
        kept.set_state(np.zeros(3), level, joints)
        fresh = FootprintSweep.from_backend(backend)
        fresh.set_state(np.zeros(3), level, joints)
        got, want = kept.point_distances(points, pose), fresh.point_distances(points, pose)
        assert np.allclose(got[0], want[0], atol=1e-12)
        assert np.array_equal(got[1], want[1])
