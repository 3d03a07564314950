"""Registration of the package's Gymnasium environments under the ``twin_bridge`` namespace."""

from __future__ import annotations

import gymnasium as gym

__all__ = ['NAV_ENV_ID', 'register_envs']

#: The navigation task's id (``gymnasium.make(NAV_ENV_ID, world=..., robot=...)``).
NAV_ENV_ID = 'twin_bridge/TwinNav-v0'
#: The time limit the registered env is wrapped in (15 s at 20 Hz).
NAV_MAX_EPISODE_STEPS = 300


def register_envs() -> None:
    """Register ``twin_bridge/TwinNav-v0`` (single and vector entry points); idempotent."""
    if NAV_ENV_ID in gym.registry:
        return
    gym.register(
        id=NAV_ENV_ID,
        entry_point='twin_bridge.learning.nav_env:TwinNavEnv',
        vector_entry_point='twin_bridge.learning.nav_vector_env:TwinNavVectorEnv',
        max_episode_steps=NAV_MAX_EPISODE_STEPS,
    )
