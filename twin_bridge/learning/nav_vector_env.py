"""``TwinNav-v0`` as a native vector env: N copies stepped in batches on threads."""

from __future__ import annotations

from collections.abc import Mapping
import os
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
import numpy as np

from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.errors import ConfigError
from twin_bridge.learning.nav_batch import NavBatch
from twin_bridge.learning.nav_config import NavConfig
from twin_bridge.learning.nav_env import build_scene, check_action
from twin_bridge.learning.registration import NAV_MAX_EPISODE_STEPS

__all__ = ['TwinNavVectorEnv']


class TwinNavVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`twin_bridge.learning.nav_env.TwinNavEnv` in one batch.

    One scene (world and robot compiled once), one ``MjData`` per copy; physics and ray
    casts run on ``nthread`` threads (default: the CPU count, at most 2 per core is useless),
    the rest is vectorised numpy. Copy ``i`` reset with ``seed=s`` draws exactly what a single
    env reset with ``seed=s + i`` draws. Episodes end like the single env's, truncated after
    ``max_episode_steps``. Autoreset: ``NEXT_STEP`` (Gymnasium's default: the step after an
    episode ends resets that copy, ignoring its action, with reward 0) or ``SAME_STEP``
    (reset at once; the last observation and info in ``info["final_obs"]`` and
    ``info["final_info"]``).

    ``gymnasium.make_vec("twin_bridge/TwinNav-v0", num_envs=N)`` builds one; the keyword
    arguments are the single env's plus ``nthread`` and ``autoreset_mode``.
    """

    metadata = {'render_modes': ['rgb_array'], 'autoreset_mode': AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 8, world: str | Path = 'warehouse',
                 robot: RobotDescription | str | Path | None = None,
                 config: NavConfig | Mapping[str, Any] | None = None,
                 randomization: str | Path | Mapping[str, Any] | None = None,
                 render_mode: str | None = None,
                 max_episode_steps: int = NAV_MAX_EPISODE_STEPS, nthread: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 **options: Any) -> None:
        if isinstance(config, NavConfig):
            config = config.to_mapping()
        self.config = NavConfig.from_mapping({**dict(config or {}), **options})
        if not (isinstance(num_envs, int) and num_envs >= 1):
            raise ConfigError(f'TwinNav: num_envs must be an integer >= 1, got {num_envs!r}')
        if not (isinstance(max_episode_steps, int) and max_episode_steps >= 1):
            raise ConfigError(f'TwinNav: max_episode_steps must be an integer >= 1, got '
                              f'{max_episode_steps!r}')
        mode = _autoreset_mode(autoreset_mode)
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise ConfigError(f'TwinNav: autoreset_mode {mode.value!r} is not supported '
                              '(next_step or same_step)')
        if render_mode not in (None, 'rgb_array'):
            raise ConfigError(f'TwinNav: render_mode must be None or "rgb_array", got '
                              f'{render_mode!r}')
        self.metadata = {**self.metadata, 'autoreset_mode': mode}
        self.autoreset_mode = mode
        self.render_mode = render_mode
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.scene, self.randomization = build_scene(world, robot, self.config, randomization)
        threads = min(num_envs, os.cpu_count() or 1) if nthread is None else int(nthread)
        self.batch = NavBatch(self.scene, self.config, num_envs,
                              randomization=self.randomization, nthread=threads)
        low, high = self.batch.observation.bounds()
        self.single_observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._obs = np.zeros((num_envs, self.batch.observation.size), dtype=np.float32)
        self._done = np.zeros(num_envs, dtype=bool)
        self._started = False
        self._renderer = None

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every copy (``seed``: an int seeds copy ``i`` with ``seed + i``; a list gives
        one seed per copy)."""
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f'TwinNav: {len(seeds)} seeds for {self.num_envs} envs')
        if seed is not None or not self._started:
            for i, s in enumerate(seeds):
                rng, _ = gym.utils.seeding.np_random(s)
                self.batch.seed(i, rng)
        for i in range(self.num_envs):
            self._obs[i] = self.batch.reset(i)
        self._done[:] = False
        self._started = True
        none = np.zeros(self.num_envs, dtype=bool)
        return self._obs.copy(), self._info(none, none)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                          dict[str, Any]]:
        """Step every copy by one control period (autoreset as configured).

        :raise ValueError: actions not ``(num_envs, 2)``, NaN, or outside [-1, 1]
        """
        if not self._started:
            raise ValueError('TwinNav: call reset() before step()')
        act = check_action(actions, self.num_envs)
        batch = self.batch
        resetting = self._done.copy()
        for i in np.flatnonzero(resetting):
            self._obs[i] = batch.reset(i)
        obs, reward, terminated, reached = batch.step(act, ~resetting)
        truncated = (batch.steps >= self.max_episode_steps) & ~terminated
        obs[resetting] = self._obs[resetting]
        reward[resetting] = 0.0
        terminated[resetting] = False
        truncated[resetting] = False
        reached = reached & ~resetting
        done = terminated | truncated
        info = self._info(reached, batch.collided & ~resetting)
        if self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            final_obs = np.empty(self.num_envs, dtype=object)
            final_info = self._info(reached, batch.collided & ~resetting)
            for i in np.flatnonzero(done):
                final_obs[i] = obs[i].copy()
                obs[i] = batch.reset(i)
            info['final_obs'], info['_final_obs'] = final_obs, done.copy()
            info['final_info'], info['_final_info'] = final_info, done.copy()
            done[:] = False
        self._done = done
        self._obs[:] = obs
        return obs, reward, terminated, truncated, info

    def _info(self, reached: np.ndarray, collided: np.ndarray) -> dict[str, Any]:
        ones = np.ones(self.num_envs, dtype=bool)
        return {'is_success': reached.copy(), '_is_success': ones,
                'collision': collided.copy(), '_collision': ones,
                'goal_distance': self.batch.distance.copy(), '_goal_distance': ones}

    def render(self) -> np.ndarray | None:
        """The first copy's top-down image (``render_mode="rgb_array"``)."""
        if self.render_mode != 'rgb_array':
            return None
        if self._renderer is None:
            from twin_bridge.learning.nav_render import TopDownRenderer
            self._renderer = TopDownRenderer(self.scene, self.batch.sampler.region)
        return self._renderer.render(self.batch, 0)

    def close_extras(self, **kwargs: Any) -> None:
        """Stop the physics threads and drop the renderer."""
        self.batch.close()
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def _autoreset_mode(value: AutoresetMode | str) -> AutoresetMode:
    """An :class:`AutoresetMode` from itself, its value (``"NextStep"``) or its name
    (``"next_step"``, any case).

    :raise ConfigError: none of them
    """
    if isinstance(value, AutoresetMode):
        return value
    for mode in AutoresetMode:
        if str(value) in (mode.value, mode.name) or str(value).upper() == mode.name:
            return mode
    raise ConfigError(f'TwinNav: unknown autoreset_mode {value!r} (next_step or same_step)')
