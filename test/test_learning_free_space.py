"""Start and goal sampling in free space, and the task settings' validation."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from twin_bridge.errors import BackendError, ConfigError
from twin_bridge.learning.free_space import FreeSpaceSampler
from twin_bridge.learning.nav_config import NavConfig
from twin_bridge.learning.nav_scene import NavScene


@pytest.fixture(scope='module')
def scene() -> NavScene:
    return NavScene('warehouse')


def _robot_contacts(scene: NavScene, sampler: FreeSpaceSampler, pose: np.ndarray) -> int:
    """Robot-obstacle contacts with the robot at ``pose`` and no clearance margin."""
    d = sampler.place(scene.model, pose)
    mujoco.mj_collision(scene.model, d)
    pairs = d.contact.geom[:d.ncon]
    robot, obstacle = scene.robot_geom, scene.obstacle_geom
    hit = (robot[pairs[:, 0]] & obstacle[pairs[:, 1]]) | (robot[pairs[:, 1]]
                                                          & obstacle[pairs[:, 0]])
    return int(hit.sum())


def test_samples_are_free_in_range_and_in_sight(scene: NavScene) -> None:
    config = NavConfig(goal_distance=(1.0, 3.0))
    sampler = FreeSpaceSampler(scene, config)
    rng = np.random.default_rng(0)
    xmin, ymin, xmax, ymax = sampler.region
    for _ in range(30):
        start, goal = sampler.sample(scene.model, rng)
        assert xmin <= start[0] <= xmax and ymin <= start[1] <= ymax
        assert 1.0 <= math.dist(start[:2], goal) <= 3.0
        assert _robot_contacts(scene, sampler, start) == 0
        assert sampler.is_free(scene.model, start)
        assert sampler.in_sight(scene.model, start[:2], goal)


def test_clearance_check_sees_a_wall(scene: NavScene) -> None:
    sampler = FreeSpaceSampler(scene, NavConfig(spawn_clearance=0.2))
    inside_wall = np.array([6.0, 0.0, 0.0])      # on the east outer wall
    near_wall = np.array([5.8, 0.0, 0.0])        # within 0.2 m of it
    open_floor = np.array([-1.0, 0.0, 0.0])
    assert _robot_contacts(scene, sampler, inside_wall) > 0
    assert not sampler.is_free(scene.model, inside_wall)
    assert not sampler.is_free(scene.model, near_wall)
    assert sampler.is_free(scene.model, open_floor)
    assert not sampler.in_sight(scene.model, np.array([1.5, 0.0]), np.array([3.5, 0.0]))


def test_a_cramped_region_is_reported(scene: NavScene) -> None:
    sampler = FreeSpaceSampler(scene, NavConfig(region=(5.9, 4.9, 6.0, 5.0)))
    with pytest.raises(BackendError, match='no free start'):
        sampler.sample(scene.model, np.random.default_rng(0))


@pytest.mark.parametrize(('values', 'named'), [
    ({'beams': 0}, 'beams'), ({'beams': 2.5}, 'beams'), ({'max_linear': -1}, 'max_linear'),
    ({'timestep': math.nan}, 'timestep'), ({'goal_distance': [2, 1]}, 'goal_distance'),
    ({'goal_distance': [1]}, 'goal_distance'), ({'region': [0, 0, -1, 1]}, 'region'),
    ({'time_cost': -0.1}, 'time_cost'), ({'speed': 1}, 'speed'),
])
def test_bad_settings_name_the_key(values: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        NavConfig.from_mapping(values)


def test_settings_round_trip_through_plain_data() -> None:
    config = NavConfig.from_mapping({'beams': 12.0, 'goal_distance': [0.5, 2.0],
                                     'region': [-1, -1, 1, 1]})
    assert config.beams == 12 and config.control_period == pytest.approx(0.05)
    assert NavConfig.from_mapping(config.to_mapping()) == config
