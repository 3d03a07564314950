"""The TwinNav vector env seen through Stable-Baselines3's ``VecEnv`` interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from twin_bridge.learning.nav_vector_env import TwinNavVectorEnv

__all__ = ['Sb3NavVecEnv']


class Sb3NavVecEnv(VecEnv):
    """Adapts a :class:`TwinNavVectorEnv` built with ``autoreset_mode="same_step"`` to SB3.

    SB3 expects done copies to be reset within the step, the last observation in
    ``info["terminal_observation"]`` and ``info["TimeLimit.truncated"]`` for bootstrapping;
    ``info["is_success"]`` is passed on at episode ends (what SB3 logs as the success rate).

    :param env: the vector env (its autoreset mode must be ``SAME_STEP``)
    :raise ValueError: another autoreset mode
    """

    def __init__(self, env: TwinNavVectorEnv) -> None:
        if env.autoreset_mode.value != 'SameStep':
            raise ValueError('Sb3NavVecEnv needs a TwinNavVectorEnv with '
                             'autoreset_mode="same_step"')
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        """Reset every copy (seeded once after :meth:`seed`: copy ``i`` with ``seed + i``)."""
        seed = self._seeds[0]
        self._reset_seeds()
        obs, _ = self.env.reset(seed=seed)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Keep the actions for :meth:`step_wait` (clipped to the action box by SB3)."""
        self._actions = np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Step every copy; returns observations, rewards, dones and one info dict each."""
        obs, reward, terminated, truncated, info = self.env.step(self._actions)
        done = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done.any():
            final = info['final_obs']
            for i in np.flatnonzero(done):
                infos[i] = {'terminal_observation': final[i],
                            'TimeLimit.truncated': bool(truncated[i] and not terminated[i]),
                            'is_success': bool(info['is_success'][i])}
        return obs, reward.astype(np.float32), done, infos

    def close(self) -> None:
        """Close the vector env (its threads)."""
        self.env.close()

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """The vector env's attribute, once per selected copy."""
        return [getattr(self.env, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Set an attribute of the vector env."""
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None,
                   **kwargs: Any) -> list[Any]:
        """Call a method of the vector env, once per selected copy."""
        return [getattr(self.env, method_name)(*args, **kwargs)
                for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        """No copy is wrapped (the copies are not separate Gymnasium envs)."""
        return [False] * len(self._indices(indices))

    def _indices(self, indices: Any) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)
