"""The seed's TwinBasedAIAgent: trains in the twin, saves, decides commands within limits."""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.learning import NAV_ENV_ID
from twin_bridge.learning.agent import TwinBasedAIAgent


def test_an_agent_learns_in_the_twin_and_drives_the_env(tmp_path: Path) -> None:
    agent = TwinBasedAIAgent()
    with pytest.raises(ConfigError, match='no policy'):
        agent.decide_action(np.zeros(4))
    result = agent.train_in_twin(tmp_path, log=lambda line: None, num_envs=4, total_steps=512,
                                 n_steps=64, batch_size=64, eval_episodes=2, eval_envs=2,
                                 nav={'beams': 8}, seed=1)
    assert result.steps >= 512 and (tmp_path / 'policy.zip').is_file()
    env = gym.make(NAV_ENV_ID, beams=8)
    try:
        obs, _ = env.reset(seed=3)
        for _ in range(5):
            v, w = agent.decide_action(obs)
            limits = agent.policy.layout
            assert abs(v) <= limits.max_linear + 1e-9 and abs(w) <= limits.max_angular + 1e-9
            obs, *_ = env.step(np.array([v / limits.max_linear, w / limits.max_angular]))
    finally:
        env.close()
    again = TwinBasedAIAgent(tmp_path)  # the saved policy decides the same
    assert again.decide_action(obs) == pytest.approx(agent.decide_action(obs))
    with pytest.raises(ValueError, match='finite'):
        agent.decide_action(np.full_like(obs, np.nan))
    with pytest.raises(ConfigError, match='not found'):
        TwinBasedAIAgent(tmp_path / 'nowhere')
