"""Domain randomization of TwinNav: the YAML config, what each draw changes, bad configs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin_bridge.errors import ConfigError
from twin_bridge.learning.nav_env import TwinNavEnv
from twin_bridge.learning.nav_scene import PARKED_Z

CONFIG = Path(__file__).resolve().parent.parent / 'config' / 'nav_randomization.yaml'
SMALL = {'beams': 8}


def test_example_config_varies_world_dynamics_and_delays_per_episode() -> None:
    env = TwinNavEnv('warehouse', config=SMALL, randomization=CONFIG)
    try:
        scene, batch = env.scene, env.batch
        model = batch.models[0]
        assert model is not scene.model  # edits stay in the env's own copy
        r = env.randomization
        shelf = r.move_geoms['shelf_hall_0']
        draws = []
        for seed in range(6):
            env.reset(seed=seed)
            v = batch.variations[0]
            shift = model.geom_pos[shelf, :2] - scene.model.geom_pos[shelf, :2]
            np.testing.assert_allclose(shift, np.tile(v.shifts['shelf_hall_0'], (len(shelf), 1)))
            assert np.all(np.abs(shift) <= 0.3)
            active = model.geom_pos[scene.spare_geoms, 2] > PARKED_Z / 2
            assert active.sum() == len(v.boxes) <= 3
            assert 0.7 <= v.friction <= 1.3 and 0.8 <= v.mass <= 1.2
            body = scene.robot_bodies[1]
            assert model.body_mass[body] == pytest.approx(scene.model.body_mass[body] * v.mass)
            assert v.action_delay in (0, 1, 2) and v.observation_latency in (0, 1)
            assert 0.0 <= v.noise.range_stddev <= 0.02
            draws.append((v.friction, v.mass, len(v.boxes), v.action_delay))
            for _ in range(3):
                env.step(np.zeros(2, dtype=np.float32))
        assert len(set(draws)) == len(draws)  # every episode drew anew
    finally:
        env.close()


def test_same_seed_same_randomized_episode() -> None:
    def run(seed: int) -> np.ndarray:
        env = TwinNavEnv('warehouse', config=SMALL, randomization=CONFIG)
        try:
            out = [env.reset(seed=seed)[0]]
            for _ in range(10):
                out.append(env.step(np.array([0.5, 0.2], dtype=np.float32))[0])
            return np.array(out)
        finally:
            env.close()

    np.testing.assert_array_equal(run(11), run(11))


def _travel_after(steps: int, randomization: dict) -> float:
    """Metres driven in ``steps`` control periods of full forward speed from rest."""
    env = TwinNavEnv('empty', config=SMALL, randomization=randomization)
    try:
        env.reset(seed=0)
        start = env.batch.qpos[0, :2].copy()
        for _ in range(steps):
            env.step(np.array([1.0, 0.0], dtype=np.float32))
        return float(np.hypot(*(env.batch.qpos[0, :2] - start)))
    finally:
        env.close()


def test_action_delay_holds_the_robot_back() -> None:
    # 0.1 s = two control periods: after two steps the first command has not arrived yet.
    assert _travel_after(2, {'action_delay': 0.1}) < 0.002
    assert _travel_after(2, {}) > 0.02
    assert _travel_after(4, {'action_delay': 0.1}) > 0.02


def test_observation_latency_returns_old_observations() -> None:
    env = TwinNavEnv('empty', config=SMALL, randomization={'observation_latency': 0.05})
    try:
        first, _ = env.reset(seed=0)
        obs, *_ = env.step(np.array([1.0, 0.0], dtype=np.float32))
        np.testing.assert_array_equal(obs, first)  # one period late: still the reset's
        obs, *_ = env.step(np.array([1.0, 0.0], dtype=np.float32))
        assert obs[8 + 3] > 0.1  # now the first step's motion shows
    finally:
        env.close()


def test_lidar_noise_reaches_the_observation() -> None:
    env = TwinNavEnv('warehouse', config=SMALL,
                     randomization={'lidar_noise': {'dropout': 1.0}})
    try:
        obs, _ = env.reset(seed=0)
        assert np.all(obs[:8] == 1.0)  # every beam dropped: "no return"
    finally:
        env.close()
    clean = TwinNavEnv('warehouse', config=SMALL)
    try:
        obs, _ = clean.reset(seed=0)
        assert np.any(obs[:8] < 1.0)  # the same start sees walls without noise
    finally:
        clean.close()


@pytest.mark.parametrize(('config', 'named'), [
    ({'frictoin': [0.5, 1.0]}, 'frictoin'),
    ({'move_obstacles': {'names': ['shelf_hall_0'], 'shift': 0.2}}, 'shift'),
    ({'move_obstacles': {'names': ['no_such_shelf'], 'max_shift': 0.2}}, 'no_such_shelf'),
    ({'lidar_noise': {'range_sigma': 0.1}}, 'range_sigma'),
    ({'lidar_noise': {'dropout': [0.0, 1.5]}}, 'dropout'),
    ({'mass': [1.2, 0.8]}, 'mass'),
    ({'friction': float('nan')}, 'friction'),
    ({'add_obstacles': {'count': [0, 100]}}, 'count'),
    ({'interval': 0}, 'interval'),
])
def test_bad_randomization_names_the_key(config: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        TwinNavEnv('warehouse', config=SMALL, randomization=config)


def test_bad_randomization_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / 'bad.yaml'
    bad.write_text('friction: [0.5, 1.0]\nmystery: 3\n', encoding='utf-8')
    with pytest.raises(ConfigError, match=r'bad\.yaml.*mystery'):
        TwinNavEnv('warehouse', config=SMALL, randomization=bad)
    with pytest.raises(ConfigError, match='missing.yaml'):
        TwinNavEnv('warehouse', config=SMALL, randomization=tmp_path / 'missing.yaml')
