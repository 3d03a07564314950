"""TwinNav-v0: the Gymnasium contract, determinism, the task's physics and rewards, bad input."""

from __future__ import annotations

import math

import gymnasium as gym
from gymnasium.utils.env_checker import check_env
import numpy as np
import pytest

from twin_bridge.description.robot_description import default_robot_path, expand_xacro
from twin_bridge.errors import ConfigError, ResourceNotFoundError, RobotDescriptionError
import twin_bridge.learning  # noqa: F401  (registers twin_bridge/TwinNav-v0)
from twin_bridge.learning.nav_env import TwinNavEnv

SMALL = {'beams': 8}


@pytest.fixture(scope='module')
def env() -> TwinNavEnv:
    e = gym.make('twin_bridge/TwinNav-v0', world='warehouse', config=SMALL,
                 render_mode='rgb_array')
    yield e.unwrapped  # check_env wants the env itself (make sets its spec)
    e.close()


def _bearing_controller(obs: np.ndarray, beams: int) -> np.ndarray:
    """Turn towards the goal, drive when facing it (uses only the observation)."""
    cos_b, sin_b = obs[beams + 1], obs[beams + 2]
    bearing = math.atan2(sin_b, cos_b)
    return np.array([max(0.0, math.cos(bearing)) ** 4, np.clip(2.0 * bearing, -1, 1)],
                    dtype=np.float32)


def test_check_env_passes(env: TwinNavEnv) -> None:
    check_env(env, skip_render_check=False)


def test_make_registers_with_time_limit_and_spaces() -> None:
    e = gym.make('twin_bridge/TwinNav-v0', world='warehouse', beams=12)
    try:
        assert e.spec.max_episode_steps == 300
        assert e.observation_space.shape == (17,)
        assert e.observation_space.dtype == np.float32
        assert e.action_space.shape == (2,)
        obs, info = e.reset(seed=3)
        assert e.observation_space.contains(obs)
        assert set(info) >= {'is_success', 'collision', 'goal_distance'}
        assert 1.0 <= info['goal_distance'] <= 3.0
    finally:
        e.close()


def test_same_seed_same_episode_other_seed_differs(env: TwinNavEnv) -> None:
    def rollout(seed: int) -> np.ndarray:
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        out = [obs]
        for _ in range(30):
            obs, *_ = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
            out.append(obs)
        return np.array(out)

    a, b, c = rollout(7), rollout(7), rollout(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_goal_seeking_controller_reaches_goals_and_is_rewarded(env: TwinNavEnv) -> None:
    reached, returns = 0, []
    for seed in range(8):
        obs, _ = env.reset(seed=seed)
        total = 0.0
        for _ in range(300):
            obs, reward, terminated, truncated, info = env.step(_bearing_controller(obs, 8))
            total += reward
            if terminated:
                break
        if info['is_success']:
            reached += 1
            assert terminated and not info['collision']
            assert reward > env.config.goal_reward - 1.0  # the last step pays the goal reward
        returns.append(total)
    # Line-of-sight goals: a bearing controller gets nearly all of them.
    assert reached >= 6, f'reached {reached}/8'
    assert np.mean(returns) > env.config.goal_reward


def test_driving_into_a_wall_is_a_penalised_collision(env: TwinNavEnv) -> None:
    env.reset(seed=1)
    batch, scene = env.batch, env.scene
    d = batch.datas[0]
    a = scene.free_qpos
    # Face the east outer wall (x = 6 in the warehouse) from 0.6 m away.
    d.qpos[a:a + 3] = (5.3, 1.0, scene.base_height)
    d.qpos[a + 3:a + 7] = (1.0, 0.0, 0.0, 0.0)
    terminated, info, reward = False, {}, 0.0
    for _ in range(60):
        _, reward, terminated, _, info = env.step(np.array([1.0, 0.0], dtype=np.float32))
        if terminated:
            break
    assert terminated and info['collision'] and not info['is_success']
    assert reward < -env.config.collision_penalty + 1.0


def test_forward_action_moves_the_robot_forward_at_the_scaled_speed(env: TwinNavEnv) -> None:
    obs, _ = env.reset(seed=2)
    for _ in range(10):
        obs, *_ = env.step(np.array([0.5, 0.0], dtype=np.float32))
    # Forward speed (normalised by max_linear) settles near the commanded 0.5.
    assert obs[8 + 3] == pytest.approx(0.5, abs=0.1)
    assert abs(obs[8 + 4]) < 0.1


def test_render_is_a_top_down_rgb_image(env: TwinNavEnv) -> None:
    env.reset(seed=0)
    img = env.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 5  # world, robot, goal, beams


@pytest.mark.parametrize('action', [[math.nan, 0.0], [0.0, 1.5], [-2.0, 0.0], [0.1]])
def test_bad_actions_raise_naming_the_problem(env: TwinNavEnv, action: list[float]) -> None:
    env.reset(seed=0)
    with pytest.raises(ValueError, match='TwinNav action'):
        env.step(np.array(action, dtype=np.float32))


def test_unknown_config_key_is_named() -> None:
    with pytest.raises(ConfigError, match='beamz'):
        gym.make('twin_bridge/TwinNav-v0', beamz=3)
    with pytest.raises(ConfigError, match='goal_distance'):
        TwinNavEnv(config={'goal_distance': [3.0, 1.0]})


def test_unknown_world_names_the_shipped_ones() -> None:
    with pytest.raises(ResourceNotFoundError, match='warehouse'):
        TwinNavEnv('no_such_world')


def test_robot_without_lidar_is_refused() -> None:
    urdf = expand_xacro(default_robot_path(), {'lidar': 'false'})
    with pytest.raises(RobotDescriptionError, match='no lidar'):
        TwinNavEnv('empty', robot=urdf)


def test_robot_without_wheels_is_refused() -> None:
    urdf = expand_xacro(default_robot_path()).replace('type="continuous"', 'type="fixed"')
    with pytest.raises(RobotDescriptionError, match='differential'):
        TwinNavEnv('empty', robot=urdf)


def test_open_world_samples_inside_a_default_region() -> None:
    e = TwinNavEnv('empty', config=SMALL)
    try:
        obs, info = e.reset(seed=0)
        assert np.all(obs[:8] == 1.0)  # nothing to see
        assert 1.0 <= info['goal_distance'] <= 3.0
    finally:
        e.close()


def test_another_shipped_world_works() -> None:
    e = TwinNavEnv('obstacle_course', config=SMALL)
    try:
        obs, info = e.reset(seed=0)
        assert np.any(obs[:8] < 1.0)  # obstacles in view
        for _ in range(5):
            obs, *_ = e.step(np.array([0.2, 0.0], dtype=np.float32))
        assert e.observation_space.contains(obs)
    finally:
        e.close()
