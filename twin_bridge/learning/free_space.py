"""Start and goal poses in the free space of a navigation scene (collision-checked)."""

from __future__ import annotations

import math

import mujoco
import numpy as np

from twin_bridge.embedded.mujoco_robot import ROBOT_GEOM_GROUP
from twin_bridge.errors import BackendError
from twin_bridge.learning.nav_config import NavConfig
from twin_bridge.learning.nav_scene import NavScene

__all__ = ['FreeSpaceSampler']

# Draws before giving up on a start (or a goal for one start).
_ATTEMPTS = 200
# Starts tried before the sampler reports the scene has no room for the task.
_STARTS = 50


class FreeSpaceSampler:
    """Draw a start pose and a goal point for one episode.

    A pose is free when no robot geom comes within ``config.spawn_clearance`` of an obstacle
    (``mj_collision`` with the robot geoms' margin raised, in scratch data of its own). The
    goal lies ``config.goal_distance`` from the start, is free for the robot facing it, and
    with ``config.goal_line_of_sight`` a robot-wide corridor to it is clear (rays at the
    bumper and lidar heights).

    :param scene: the scene (ids and bounds)
    :param config: the task settings
    """

    def __init__(self, scene: NavScene, config: NavConfig) -> None:
        self.scene, self.config = scene, config
        self._data = mujoco.MjData(scene.model)
        m = scene.model
        robot = np.flatnonzero(scene.robot_geom)
        collides = (m.geom_contype[robot] != 0) | (m.geom_conaffinity[robot] != 0)
        self._robot_geoms = robot[collides]
        r = scene.robot_radius
        xmin, ymin, xmax, ymax = config.region or scene.bounds
        if config.region is None:  # the obstacles' box: the robot fits inside the walls
            xmin, ymin, xmax, ymax = xmin + r, ymin + r, xmax - r, ymax - r
        if not (xmin < xmax and ymin < ymax):
            raise BackendError(f'world {scene.world_name!r}: no room to sample poses in '
                               f'{(xmin, ymin, xmax, ymax)}')
        self.region = (xmin, ymin, xmax, ymax)
        self._groups = np.ones(mujoco.mjNGROUP, dtype=np.uint8)
        self._groups[ROBOT_GEOM_GROUP] = 0
        lidar_z = scene.base_height + scene.lidar_offset[2]
        self._heights = (scene.base_height + 0.1, lidar_z)
        self._offsets = (0.0, 0.8 * r, -0.8 * r)
        self._geomid = np.zeros(1, dtype=np.int32)

    def sample(self, model: mujoco.MjModel, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y, yaw)`` of a free start and ``(x, y)`` of a goal, drawn from ``rng``.

        :param model: the env's model (with its randomization applied)
        :raise BackendError: no start and goal found (the region is too cramped)
        """
        xmin, ymin, xmax, ymax = self.region
        dmin, dmax = self.config.goal_distance
        for _ in range(_STARTS):
            start = np.array([rng.uniform(xmin, xmax), rng.uniform(ymin, ymax),
                              rng.uniform(-math.pi, math.pi)])
            if not self.is_free(model, start):
                continue
            for _ in range(_ATTEMPTS // 10):
                dist, bearing = rng.uniform(dmin, dmax), rng.uniform(-math.pi, math.pi)
                goal = start[:2] + dist * np.array([math.cos(bearing), math.sin(bearing)])
                if not (xmin <= goal[0] <= xmax and ymin <= goal[1] <= ymax):
                    continue
                if not self.is_free(model, np.array([goal[0], goal[1], bearing])):
                    continue
                if self.config.goal_line_of_sight and not self.in_sight(model, start[:2],
                                                                        goal):
                    continue
                return start, goal
        raise BackendError(f'world {self.scene.world_name!r}: found no free start and goal '
                           f'{dmin}-{dmax} m apart in region {self.region} (set a region, '
                           'a shorter goal_distance or a smaller spawn_clearance)')

    def place(self, model: mujoco.MjModel, pose: np.ndarray) -> mujoco.MjData:
        """The scratch data with the world at rest and the robot at ``(x, y, yaw)``."""
        d, s = self._data, self.scene
        d.qpos[:] = model.qpos0
        a = s.free_qpos
        d.qpos[a:a + 3] = (pose[0], pose[1], s.base_height)
        d.qpos[a + 3:a + 7] = (math.cos(0.5 * pose[2]), 0.0, 0.0, math.sin(0.5 * pose[2]))
        mujoco.mj_kinematics(model, d)
        return d

    def is_free(self, model: mujoco.MjModel, pose: np.ndarray) -> bool:
        """True when the robot at ``(x, y, yaw)`` keeps the clearance to every obstacle."""
        d = self.place(model, pose)
        ids = self._robot_geoms
        saved = model.geom_margin[ids].copy()
        model.geom_margin[ids] = self.config.spawn_clearance
        try:
            mujoco.mj_collision(model, d)
        finally:
            model.geom_margin[ids] = saved
        if d.ncon == 0:
            return True
        pairs = d.contact.geom[:d.ncon]
        robot, obstacle = self.scene.robot_geom, self.scene.obstacle_geom
        hit = (robot[pairs[:, 0]] & obstacle[pairs[:, 1]]) | (robot[pairs[:, 1]]
                                                              & obstacle[pairs[:, 0]])
        return not bool(hit.any())

    def in_sight(self, model: mujoco.MjModel, start: np.ndarray, goal: np.ndarray) -> bool:
        """True when a robot-wide corridor from ``start`` to ``goal`` (x, y) is clear."""
        d = self._data  # world bodies placed by the last is_free()
        delta = goal - start
        length = float(np.hypot(*delta))
        if length == 0.0:
            return True
        vec = np.array([delta[0] / length, delta[1] / length, 0.0])
        side = np.array([-vec[1], vec[0]])
        for z in self._heights:
            for offset in self._offsets:
                pnt = np.array([start[0] + offset * side[0], start[1] + offset * side[1], z])
                hit = mujoco.mj_ray(model, d, pnt, vec, self._groups, 1, -1, self._geomid)
                if 0.0 <= hit <= length:
                    return False
        return True
