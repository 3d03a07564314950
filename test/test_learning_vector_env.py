"""The TwinNav vector env: make_vec, same results as single envs, autoreset modes, threads."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import gymnasium as gym
from gymnasium.vector import AutoresetMode
import numpy as np
import pytest

from twin_bridge.errors import ConfigError
import twin_bridge.learning  # noqa: F401  (registers twin_bridge/TwinNav-v0)
from twin_bridge.learning.nav_vector_env import TwinNavVectorEnv

SMALL = {'beams': 8}


def test_make_vec_uses_the_native_vector_env() -> None:
    env = gym.make_vec('twin_bridge/TwinNav-v0', num_envs=3, config=SMALL)
    try:
        assert isinstance(env.unwrapped, TwinNavVectorEnv)
        assert env.unwrapped.max_episode_steps == 300  # the registered time limit
        assert env.metadata['autoreset_mode'] == AutoresetMode.NEXT_STEP
        obs, _ = env.reset(seed=0)
        assert obs.shape == (3, 13) and obs.dtype == np.float32
        assert env.observation_space.contains(obs)
    finally:
        env.close()


def test_copies_match_single_envs_through_next_step_autoresets() -> None:
    n, seed = 3, 40
    venv = TwinNavVectorEnv(n, config=SMALL, max_episode_steps=25, nthread=2)
    singles = [gym.make('twin_bridge/TwinNav-v0', config=SMALL, max_episode_steps=25)
               for _ in range(n)]
    try:
        obs, _ = venv.reset(seed=seed)
        single_obs = [e.reset(seed=seed + i)[0] for i, e in enumerate(singles)]
        np.testing.assert_array_equal(obs, np.stack(single_obs))
        rng = np.random.default_rng(1)
        done = np.zeros(n, dtype=bool)
        ends = 0
        for _ in range(80):
            actions = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
            obs, reward, terminated, truncated, _ = venv.step(actions)
            for i, e in enumerate(singles):
                if done[i]:  # NEXT_STEP: this step resets the copy, reward 0, not done
                    expected = e.reset()[0]
                    assert reward[i] == 0.0 and not terminated[i] and not truncated[i]
                else:
                    expected, r, te, tr, _ = e.step(actions[i])
                    assert (reward[i], terminated[i], truncated[i]) == (r, te, tr)
                np.testing.assert_array_equal(obs[i], expected)
            done = terminated | truncated
            ends += int(done.sum())
        assert ends >= n  # episodes did end (25-step limit) and autoreset was exercised
    finally:
        venv.close()
        for e in singles:
            e.close()


def test_same_step_autoreset_returns_final_observations() -> None:
    env = TwinNavVectorEnv(2, config=SMALL, max_episode_steps=5, autoreset_mode='same_step')
    try:
        env.reset(seed=0)
        for _ in range(5):
            obs, _, terminated, truncated, info = env.step(np.zeros((2, 2)))
        assert np.all(truncated | terminated)
        assert np.all(info['_final_obs'])
        assert info['final_obs'][0].shape == (13,)
        assert not np.array_equal(info['final_obs'][0], obs[0])  # obs is the new episode's
        _, _, terminated, truncated, _ = env.step(np.zeros((2, 2)))
        assert not np.any(terminated | truncated)
    finally:
        env.close()


def test_threads_do_not_change_results() -> None:
    def run(nthread: int) -> np.ndarray:
        env = TwinNavVectorEnv(4, config=SMALL, nthread=nthread)
        try:
            out = [env.reset(seed=5)[0]]
            rng = np.random.default_rng(2)
            for _ in range(20):
                out.append(env.step(rng.uniform(-1, 1, (4, 2)))[0])
            return np.array(out)
        finally:
            env.close()

    np.testing.assert_array_equal(run(0), run(2))


def test_bad_actions_and_arguments_raise() -> None:
    env = TwinNavVectorEnv(2, config=SMALL)
    try:
        with pytest.raises(ValueError, match='call reset'):
            env.step(np.zeros((2, 2)))
        env.reset(seed=0)
        with pytest.raises(ValueError, match=r'shape \(2, 2\)'):
            env.step(np.zeros(2))
        with pytest.raises(ValueError, match='not finite'):
            env.step(np.array([[0.0, 0.0], [np.nan, 0.0]]))
    finally:
        env.close()
    with pytest.raises(ConfigError, match='autoreset_mode'):
        TwinNavVectorEnv(2, config=SMALL, autoreset_mode='sometimes')
    with pytest.raises(ConfigError, match='num_envs'):
        TwinNavVectorEnv(0, config=SMALL)


def test_make_without_importing_the_package_first() -> None:
    code = ("import gymnasium as gym\n"
            "e = gym.make('twin_bridge.learning:twin_bridge/TwinNav-v0', beams=8)\n"
            "print(e.reset(seed=0)[0].shape, e.spec.max_episode_steps)\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    assert '(13,) 300' in out.stdout
