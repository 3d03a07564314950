"""The scenario's two worlds (the twin's map and the physical one) and the physical truth:
robot-world contacts and clearance read from the simulated state."""

from __future__ import annotations

import math

import mujoco
import numpy as np

from twin_bridge.description.resources import find_world
from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.embedded.footprint_search import world_boxes
from twin_bridge.embedded.mujoco_world import load_world_spec
from twin_bridge.embedded.world_edits import move_body
from twin_bridge.errors import ConfigError
from twin_bridge.scenarios.spec import Obstacle, Scenario

__all__ = ['OBSTACLE_PREFIX', 'RobotContacts', 'world_spec']

#: Name prefix of the geoms a scenario's ``obstacles`` add.
OBSTACLE_PREFIX = 'obstacle::'
#: World geoms whose top is this close above the robot's lowest point are its floor (m).
SUPPORT_HEIGHT = 0.02


def _add_obstacle(spec: mujoco.MjSpec, obstacle: Obstacle) -> None:
    half_yaw = 0.5 * obstacle.yaw
    quat = [math.cos(half_yaw), 0.0, 0.0, math.sin(half_yaw)]
    if obstacle.shape == 'box':
        size = [s / 2 for s in obstacle.size]
        kind, z = mujoco.mjtGeom.mjGEOM_BOX, size[2]
    else:
        size = [obstacle.size[0], obstacle.size[1] / 2, 0.0]
        kind, z = mujoco.mjtGeom.mjGEOM_CYLINDER, size[1]
    spec.worldbody.add_geom(name=OBSTACLE_PREFIX + obstacle.name, type=kind, size=size,
                            pos=[obstacle.x, obstacle.y, z], quat=quat,
                            rgba=[0.8, 0.3, 0.2, 1.0])


def world_spec(scenario: Scenario, physical: bool) -> mujoco.MjSpec:
    """The world as the twin knows it (``physical=False``: the file plus the ``mapped``
    obstacles) or as it really is (plus every obstacle and the ``obstacle_moved`` faults).

    :raise ConfigError: a move names nothing in the world, or starts after 0 s
    """
    spec, _ = load_world_spec(find_world(scenario.world))
    for obstacle in scenario.obstacles:
        if obstacle.mapped or physical:
            _add_obstacle(spec, obstacle)
    if physical:
        for fault in scenario.faults:
            if fault.kind != 'obstacle_moved':
                continue
            if fault.at > 0:
                raise ConfigError(f'{scenario.source}: faults: obstacle_moved at={fault.at:g}: '
                                  f'a physical obstacle moves before the run (at=0) only')
            try:
                move_body(spec, str(fault.params['name']), fault.number('dx'),
                          fault.number('dy'))
            except ConfigError as exc:
                raise ConfigError(f'{scenario.source}: faults: {exc}') from exc
    return spec


class RobotContacts:
    """Robot-world contacts and the robot's clearance in a backend's current state.

    Robot geoms are the collidable geoms under the robot's root; world geoms the other
    collidable ones except planes and the floor (top within :data:`SUPPORT_HEIGHT` of the
    robot's lowest point at construction). Clearance is ``mj_geomDistance`` between pairs
    whose bounding boxes are within ``reach``, so it is exact up to ``reach`` and capped there.

    :param backend: the physical backend (its ``data`` is read, never written)
    :param reach: the largest clearance measured (m)
    """

    def __init__(self, backend: EmbeddedBackend, reach: float = 1.0) -> None:
        self.backend, self.reach = backend, float(reach)
        m = backend.model
        root = m.body(ROBOT_PREFIX + backend.robot.root_link).id
        mujoco.mj_kinematics(m, backend.data)
        collide = (m.geom_contype != 0) | (m.geom_conaffinity != 0)
        robot = m.body_rootid[m.geom_bodyid] == root
        self.robot_ids = np.flatnonzero(robot & collide)
        world = np.flatnonzero(~robot & collide & (m.geom_type != mujoco.mjtGeom.mjGEOM_PLANE))
        lo_r, _ = world_boxes(m, backend.data, self.robot_ids)
        _, hi_w = world_boxes(m, backend.data, world)
        ground = float(lo_r[:, 2].min()) if len(lo_r) else 0.0
        self.world_ids = world[hi_w[:, 2] > ground + SUPPORT_HEIGHT]
        self._is_world = np.zeros(m.ngeom, dtype=bool)
        self._is_world[self.world_ids] = True
        self._is_robot = np.zeros(m.ngeom, dtype=bool)
        self._is_robot[self.robot_ids] = True
        self._fromto = np.zeros(6)

    def name(self, geom: int) -> str:
        """A geom's name without the robot prefix (unnamed: its body's, with the id)."""
        m = self.backend.model
        name = m.geom(geom).name or f'{m.body(m.geom_bodyid[geom]).name}#{geom}'
        return name[len(ROBOT_PREFIX):] if name.startswith(ROBOT_PREFIX) else name

    def contact(self) -> str:
        """``'robot geom / world geom'`` of the deepest robot-world contact now, or ``''``."""
        d = self.backend.data
        n = d.ncon
        if n == 0:
            return ''
        g1, g2 = d.contact.geom1[:n], d.contact.geom2[:n]
        dist = d.contact.dist[:n]
        hit = (((self._is_robot[g1] & self._is_world[g2])
                | (self._is_robot[g2] & self._is_world[g1])) & (dist <= 0.0))
        if not np.any(hit):
            return ''
        k = int(np.flatnonzero(hit)[np.argmin(dist[hit])])
        robot, world = (g1[k], g2[k]) if self._is_robot[g1[k]] else (g2[k], g1[k])
        return f'{self.name(int(robot))} / {self.name(int(world))}'

    def clearance(self) -> float:
        """The smallest robot-world distance now (m; ``reach`` when nothing is nearer)."""
        m, d = self.backend.model, self.backend.data
        if not len(self.world_ids) or not len(self.robot_ids):
            return self.reach
        lo_r, hi_r = world_boxes(m, d, self.robot_ids)
        lo_w, hi_w = world_boxes(m, d, self.world_ids)
        gap = np.maximum(np.maximum(lo_w[None] - hi_r[:, None], lo_r[:, None] - hi_w[None]),
                         0.0)
        near_r, near_w = np.nonzero(np.sqrt(np.sum(gap * gap, axis=2)) < self.reach)
        best = self.reach
        for r, w in zip(self.robot_ids[near_r], self.world_ids[near_w], strict=True):
            best = min(best, mujoco.mj_geomDistance(m, d, int(r), int(w), self.reach,
                                                    self._fromto))
        return float(best)
