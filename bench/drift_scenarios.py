"""Scenarios for bench_drift: clear paths, visible movable obstacles, footprints.

A fair world-change run moves a random movable obstacle (a free body of the world) by 0.3 m
in a random direction, seen from a random start whose whole arc stays clear of the world in
both the old and the moved world, with the obstacle visible at the fault (at least
``MIN_BEAMS`` beams hit it) and the move changing the scan there (at least ``MIN_BEAMS``
beams differ by more than 8 sigma). Draws that fail these checks are redrawn (counted).
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from drift_fixtures import Twin, arc
import mujoco
import numpy as np

from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX

#: Beams that must see the obstacle, and change with its move, at the fault.
MIN_BEAMS = 10
#: Free space the lidar keeps around it along the whole arc (m).
CLEARANCE = 0.45
#: Where starts are drawn, per world (x/y bounds of the free interior).
BOUNDS = {'warehouse': (-5.6, 5.6, -4.6, 4.6), 'obstacle_course': (-6.5, 6.5, -6.5, 6.5)}
DT = 0.02


@dataclass(frozen=True)
class Scenario:
    """One drawn run: start, arc phase and (world faults) the obstacle and its move."""

    start: np.ndarray
    phase: float
    draws: int
    body: str | None = None
    move: np.ndarray | None = None


def movable_bodies(twin: Twin) -> list[str]:
    """World bodies with a free joint (the robot excluded)."""
    m = twin.backend.model
    names = (m.body(int(m.jnt_bodyid[j])).name for j in range(m.njnt)
             if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE)
    return [name for name in names if not name.startswith(ROBOT_PREFIX)]


def _lidar_origin(twin: Twin, pose: np.ndarray) -> tuple[np.ndarray, float]:
    c, s = math.cos(pose[2]), math.sin(pose[2])
    o = twin.sensor_in_base
    return (np.array([pose[0] + c * o[0] - s * o[1], pose[1] + s * o[0] + c * o[1],
                      twin.sensor_height]), float(pose[2] + o[2]))


def path_clear(twin: Twin, poses: np.ndarray, caster=None, every: int = 10) -> bool:
    """Whether the lidar keeps :data:`CLEARANCE` free all round at every ``every``-th pose."""
    caster = caster or twin.physical
    angles = np.linspace(-math.pi, math.pi, 90, endpoint=False)
    for pose in poses[::every]:
        origin, yaw = _lidar_origin(twin, pose)
        if np.min(caster.cast(origin, yaw, angles).ranges) < CLEARANCE:
            return False
    return True


def footprint(twin: Twin, body: str) -> list[np.ndarray]:
    """The body's geoms as world-frame rectangles (4 x 2 corners) from their bounding boxes."""
    m, d = twin.physical.model, twin.physical.data
    out = []
    for g in np.flatnonzero(m.geom_bodyid == m.body(body).id):
        centre, half = m.geom_aabb[g, :3], m.geom_aabb[g, 3:]
        rot = d.geom_xmat[g].reshape(3, 3)
        corners = np.array([[sx * half[0], sy * half[1], 0.0]
                            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]) + centre
        out.append((d.geom_xpos[g] + corners @ rot.T)[:, :2])
    return out


def distance_to(point: np.ndarray, rectangles: list[np.ndarray]) -> float:
    """Distance from ``point`` to the union of convex polygons (0 inside one)."""
    best = math.inf
    for poly in rectangles:
        edges = np.roll(poly, -1, axis=0) - poly
        rel = point - poly
        cross = edges[:, 0] * rel[:, 1] - edges[:, 1] * rel[:, 0]
        if np.all(cross >= 0) or np.all(cross <= 0):
            return 0.0
        t = np.clip(np.sum(rel * edges, 1) / np.sum(edges * edges, 1), 0.0, 1.0)
        best = min(best, float(np.min(np.hypot(*(rel - t[:, None] * edges).T))))
    return best


def body_centre(twin: Twin, body: str) -> np.ndarray:
    """The body's world position (x, y) in the 'physical' world."""
    return twin.physical.data.xpos[twin.physical.model.body(body).id, :2].copy()


def _random_start(rng: np.random.Generator, world: str) -> np.ndarray:
    x0, x1, y0, y1 = BOUNDS.get(world, (-5.0, 5.0, -5.0, 5.0))
    return rng.uniform([x0, y0, -math.pi], [x1, y1, math.pi])


def draw_clear(twin: Twin, world: str, rng: np.random.Generator, seconds: float,
               speed: float) -> Scenario:
    """A start and phase whose whole arc keeps the lidar clear of the world."""
    for draws in range(1, 10_000):
        start, phase = _random_start(rng, world), float(rng.uniform(0, 2 * math.pi))
        poses, _ = arc(start, seconds, phase, speed=speed, dt=DT)
        if path_clear(twin, poses):
            return Scenario(start, phase, draws)
    raise RuntimeError(f'no clear arc found in {world}')


def draw_world_change(twin: Twin, world: str, rng: np.random.Generator, seconds: float,
                      speed: float, fault_at: float, distance: float = 0.3,
                      tolerance: float = 0.08) -> Scenario:
    """A random movable obstacle moved ``distance`` in a random direction, seen changing."""
    bodies = movable_bodies(twin)
    m = twin.physical.model
    base = twin.physical.data.qpos.copy()
    for draws in range(1, 100_000):
        body = bodies[int(rng.integers(len(bodies)))]
        ang = rng.uniform(-math.pi, math.pi)
        move = distance * np.array([math.cos(ang), math.sin(ang)])
        start, phase = _random_start(rng, world), float(rng.uniform(0, 2 * math.pi))
        poses, _ = arc(start, seconds, phase, speed=speed, dt=DT)
        at = poses[int(round(fault_at / DT))]
        origin, yaw = _lidar_origin(twin, at)
        before = twin.physical.cast(origin, yaw, twin.angles)
        geoms = np.flatnonzero(m.geom_bodyid == m.body(body).id)
        if np.count_nonzero(np.isin(before.geom_ids, geoms)) < MIN_BEAMS:
            continue
        try:
            twin.move_body(body, *move)
            after = twin.physical.cast(origin, yaw, twin.angles)
            with np.errstate(invalid='ignore'):
                changed = ~(np.abs(after.ranges - before.ranges) <= tolerance)
            ok = (np.count_nonzero(changed) >= MIN_BEAMS and path_clear(twin, poses))
        finally:
            twin.physical.sync(base)
        if ok and path_clear(twin, poses):
            return Scenario(start, phase, draws, body, move)
    raise RuntimeError(f'no visible obstacle move found in {world}')
