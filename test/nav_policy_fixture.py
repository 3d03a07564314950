"""A saved TwinNav policy for tests: PPO's initial (untrained) network with its layout."""

from __future__ import annotations

from pathlib import Path

from twin_bridge.learning.nav_policy import save_policy
from twin_bridge.learning.nav_vector_env import TwinNavVectorEnv

#: The observation the fixture policy takes: 8 beams (+ goal and velocities).
BEAMS = 8


def make_untrained_policy(directory: Path, seed: int = 0) -> Path:
    """Write ``policy.zip`` + ``policy.json`` for the warehouse (8 beams) into ``directory``."""
    from stable_baselines3 import PPO

    from twin_bridge.learning.sb3_vec_env import Sb3NavVecEnv

    env = TwinNavVectorEnv(1, config={'beams': BEAMS}, autoreset_mode='same_step')
    try:
        model = PPO('MlpPolicy', Sb3NavVecEnv(env), n_steps=8, batch_size=8, seed=seed,
                    device='cpu', policy_kwargs={'net_arch': [16]})
        save_policy(model, env.batch.observation, directory, {'world': 'warehouse'})
    finally:
        env.close()
    return directory
