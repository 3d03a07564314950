"""N copies of the navigation task stepped together: the core of the env and the vector env.

Each copy has its own ``MjData`` (and its own model copy when randomization edits models).
A step writes the wheel servo targets, runs ``frame_skip`` physics steps, updates kinematics,
casts the downsampled beams in one ``mj_multiRay`` and checks robot-obstacle contacts. That
part runs on ``nthread`` threads, each on a contiguous slice of the copies (MuJoCo releases
the GIL in ``mj_step`` and ``mj_multiRay``); everything else (observations, rewards,
terminations, noise) is vectorised numpy over all copies on the caller's thread. Resets draw
from each copy's own generator, so copy ``i`` seeded ``s`` behaves exactly as a single env
seeded ``s``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import copy
import math

import mujoco
import numpy as np

from twin_bridge.embedded.embedded_backend import CULLED_GEOM_GROUP
from twin_bridge.embedded.mujoco_robot import ROBOT_GEOM_GROUP
from twin_bridge.learning.free_space import FreeSpaceSampler
from twin_bridge.learning.nav_config import NavConfig
from twin_bridge.learning.nav_observation import NavObservation
from twin_bridge.learning.nav_scene import NavScene
from twin_bridge.learning.randomization import Randomization, Variation, apply_variation

__all__ = ['NavBatch']

# Physics steps at rest after placing the robot, before an episode's first observation.
_SETTLE_STEPS = 10


class NavBatch:
    """``num`` copies of the task on one scene (see the module doc).

    :param scene: the compiled world and robot
    :param config: the task settings
    :param num: number of copies
    :param randomization: what varies per episode (``None``: nothing)
    :param nthread: physics threads (0: the caller's thread)
    """

    def __init__(self, scene: NavScene, config: NavConfig, num: int, *,
                 randomization: Randomization | None = None, nthread: int = 0) -> None:
        self.scene, self.config, self.num = scene, config, int(num)
        self.randomization = randomization
        own = randomization is not None and randomization.changes_model
        self.models = [copy.copy(scene.model) if own else scene.model for _ in range(num)]
        for model in self.models:
            model.opt.timestep = config.timestep
        self.datas = [mujoco.MjData(m) for m in self.models]
        self.sampler = FreeSpaceSampler(scene, config)
        self.observation = NavObservation.for_scene(scene, config)
        lidar = scene.lidar
        angles = self.observation.beam_angles
        self._dirs = np.zeros((len(angles), 3))
        self._dirs[:, 0], self._dirs[:, 1] = np.cos(angles), np.sin(angles)
        self._groups = np.ones(mujoco.mjNGROUP, dtype=np.uint8)
        self._groups[ROBOT_GEOM_GROUP] = 0
        self._groups[CULLED_GEOM_GROUP] = 0  # off the scan plane (see NavScene)
        self._cutoff = float(lidar.range_max)
        nb = len(angles)
        self.raw = np.zeros((num, nb))
        self.hit_geom = np.zeros((num, nb), dtype=np.int32)
        self._vec = np.zeros((num, nb, 3))
        self.qpos = np.zeros((num, 7))
        self.qvel = np.zeros((num, 6))
        self.collided = np.zeros(num, dtype=bool)
        self.goal = np.zeros((num, 2))
        self.distance = np.zeros(num)
        self.steps = np.zeros(num, dtype=np.int64)
        self.episodes = np.zeros(num, dtype=np.int64)
        self.rngs = [np.random.default_rng() for _ in range(num)]
        self.variations = [Variation() for _ in range(num)]
        depth = (randomization.max_delay if randomization else 0) + 1
        self._actions = np.zeros((num, depth, 2))
        self._observations = np.zeros((num, depth, config.observation_size), dtype=np.float32)
        self._delay = np.zeros(num, dtype=np.intp)
        self._latency = np.zeros(num, dtype=np.intp)
        self._noisy = np.zeros(num, dtype=bool)
        self.nthread = max(0, int(nthread))
        self._pool = ThreadPoolExecutor(self.nthread) if self.nthread > 1 else None
        bounds = np.linspace(0, num, max(1, self.nthread) + 1).astype(int)
        self._slices = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
                        if b > a]

    def close(self) -> None:
        """Stop the physics threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # -- physics (thread side) --------------------------------------------------------------

    def _sense(self, i: int) -> None:
        """Kinematics, the beams, the contact check and the base state of copy ``i``."""
        m, d, s = self.models[i], self.datas[i], self.scene
        mujoco.mj_kinematics(m, d)
        mujoco.mju_mulMatMatT(self._vec[i], self._dirs, d.site_xmat[s.lidar_site].reshape(3, 3))
        mujoco.mj_multiRay(m, d, d.site_xpos[s.lidar_site], self._vec[i].reshape(-1),
                           self._groups, 1, -1, self.hit_geom[i], self.raw[i], None,
                           self.hit_geom.shape[1], self._cutoff)
        n = d.ncon
        if n:
            pairs = d.contact.geom[:n]
            robot, obstacle = s.robot_geom, s.obstacle_geom
            self.collided[i] = bool(((robot[pairs[:, 0]] & obstacle[pairs[:, 1]])
                                     | (robot[pairs[:, 1]] & obstacle[pairs[:, 0]])).any())
        else:
            self.collided[i] = False
        a, v = s.free_qpos, s.free_dof
        self.qpos[i] = d.qpos[a:a + 7]
        self.qvel[i] = d.qvel[v:v + 6]

    def _physics(self, lo: int, hi: int, ctrl: np.ndarray, active: np.ndarray) -> None:
        act, nstep = self.scene.wheel_act, self.config.frame_skip
        for i in range(lo, hi):
            if not active[i]:
                continue
            d = self.datas[i]
            d.ctrl[act] = ctrl[i]
            mujoco.mj_step(self.models[i], d, nstep)
            self._sense(i)

    def _run_physics(self, ctrl: np.ndarray, active: np.ndarray) -> None:
        if self._pool is None:
            for lo, hi in self._slices:
                self._physics(lo, hi, ctrl, active)
            return
        jobs = [self._pool.submit(self._physics, lo, hi, ctrl, active)
                for lo, hi in self._slices]
        for job in jobs:
            job.result()

    # -- episodes ---------------------------------------------------------------------------

    def seed(self, i: int, rng: np.random.Generator) -> None:
        """Use ``rng`` for copy ``i`` from now on (all of its randomness)."""
        self.rngs[i] = rng

    def reset(self, i: int) -> np.ndarray:
        """Start a new episode in copy ``i``: redraw the randomization when due, sample a
        start and a goal, and return the first observation."""
        rng, s = self.rngs[i], self.scene
        m, d = self.models[i], self.datas[i]
        r = self.randomization
        if r is not None and self.episodes[i] % r.interval == 0:
            variation = r.draw(rng, self.sampler.region)
            if r.changes_model:
                apply_variation(variation, r, s, m)
            self.variations[i] = variation
            self._delay[i] = variation.action_delay
            self._latency[i] = variation.observation_latency
            self._noisy[i] = not variation.noise.is_zero
        self.episodes[i] += 1
        start, goal = self.sampler.sample(m, rng)
        mujoco.mj_resetData(m, d)
        a = s.free_qpos
        d.qpos[a:a + 3] = (start[0], start[1], s.base_height)
        d.qpos[a + 3:a + 7] = (math.cos(0.5 * start[2]), 0.0, 0.0, math.sin(0.5 * start[2]))
        d.ctrl[s.hold_act] = s.hold_target
        mujoco.mj_step(m, d, _SETTLE_STEPS)  # wheels and caster come to rest on the floor
        self._sense(i)
        self.goal[i] = goal
        self.steps[i] = 0
        idx = np.array([i])
        self.distance[i] = self.observation.goal_distance(self.qpos[idx], self.goal[idx])[0]
        self._actions[i] = 0.0
        obs = self._observe(idx)[0]
        self._observations[i] = obs
        return obs.copy()

    def step(self, actions: np.ndarray, active: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Apply ``actions`` ``(num, 2)`` (validated, in [-1, 1]) to the ``active`` copies.

        :return: observations ``(num, obs)`` float32, rewards, terminated, reached (goal)
            ``(num,)``; entries of inactive copies are meaningless
        """
        if active is None:
            active = np.ones(self.num, dtype=bool)
        hist = self._actions
        if hist.shape[1] > 1:
            hist[:, 1:] = hist[:, :-1].copy()
        hist[:, 0] = actions
        applied = hist[np.arange(self.num), self._delay]
        ctrl = self.observation.wheel_targets(applied, self.scene.wheels)
        self._run_physics(ctrl, active)
        self.steps += active
        idx = np.arange(self.num)
        distance = self.observation.goal_distance(self.qpos, self.goal)
        cfg = self.config
        reached = distance < cfg.goal_tolerance
        reward = (cfg.progress_weight * (self.distance - distance) - cfg.time_cost
                  + cfg.goal_reward * reached - cfg.collision_penalty * self.collided)
        self.distance = np.where(active, distance, self.distance)
        obs = self._observe(idx)
        hist_obs = self._observations
        if hist_obs.shape[1] > 1:
            hist_obs[:, 1:] = hist_obs[:, :-1].copy()
        hist_obs[:, 0] = obs
        out = hist_obs[idx, self._latency].copy()
        return out, reward.astype(np.float64), reached | self.collided, reached

    def _observe(self, idx: np.ndarray) -> np.ndarray:
        lidar = self.scene.lidar
        ranges = np.where(self.hit_geom[idx] < 0, np.inf, self.raw[idx])
        ranges[ranges > lidar.range_max] = np.inf
        ranges[ranges < lidar.range_min] = -np.inf
        for row, i in enumerate(idx):
            if self._noisy[i]:
                ranges[row] = self.variations[i].noise.apply(
                    ranges[row], self.rngs[i], lidar.range_max, range_min=lidar.range_min,
                    angle_increment=self.observation.beam_spacing)
        return self.observation.build(ranges, self.qpos[idx], self.qvel[idx], self.goal[idx])
