"""``TwinNav-v0``: drive the twin's robot to a goal in the twin's world (Gymnasium env)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.errors import ConfigError
from twin_bridge.learning.nav_batch import NavBatch
from twin_bridge.learning.nav_config import NavConfig
from twin_bridge.learning.nav_scene import NavScene
from twin_bridge.learning.randomization import (
    Randomization,
    read_randomization,
    spare_obstacles_needed,
)

__all__ = ['TwinNavEnv', 'build_scene', 'check_action']

# Spare obstacle boxes compiled into a scene whose randomization adds obstacles.
_SPARE_LIMIT = 32


def build_scene(world: str | Path, robot: RobotDescription | str | Path | None,
                config: NavConfig, randomization: Any) -> tuple[NavScene, Any]:
    """The scene and the validated randomization of an env (shared by the vector env).

    ``randomization`` is a YAML path, a mapping or ``None``.

    :raise ConfigError: a bad randomization config (the file and key named)
    """
    source = 'randomization'
    if isinstance(randomization, (str, Path)):
        source = str(randomization)
        randomization = read_randomization(randomization)
    spare = spare_obstacles_needed(randomization) if randomization is not None else 0
    scene = NavScene(world, robot, timestep=config.timestep,
                     spare_obstacles=max(0, min(spare, _SPARE_LIMIT)))
    if randomization is None:
        return scene, None
    return scene, Randomization(randomization, scene, config.control_period, source=source)


def check_action(action: Any, batch: int | None = None) -> np.ndarray:
    """``action`` as float64 ``(2,)`` (or ``(batch, 2)``), every value finite in [-1, 1].

    :raise ValueError: wrong shape, NaN/inf, or a value outside [-1, 1] (named)
    """
    arr = np.asarray(action, dtype=np.float64)
    shape = (2,) if batch is None else (batch, 2)
    if arr.shape != shape:
        raise ValueError(f'TwinNav action: expected shape {shape} (v, omega), got {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'TwinNav action: not finite: {arr.tolist()}')
    if np.any(np.abs(arr) > 1.0 + 1e-6):
        raise ValueError(f'TwinNav action: outside [-1, 1]: {arr.tolist()}')
    return np.clip(arr, -1.0, 1.0)


class TwinNavEnv(gym.Env):
    """Drive a differential-drive robot with a lidar to a goal in a twin world (MuJoCo).

    ## Description
    The world and robot are any the twin loads (defaults: ``warehouse`` and the package's
    robot). Each episode starts the robot at a free pose and puts a goal
    ``goal_distance`` m away in free space (in line of sight by default). The robot is driven
    through its wheel velocity servos with full dynamics.

    ## Action Space
    ``Box(-1, 1, (2,), float32)``: forward speed and yaw rate, scaled to ``max_linear`` m/s and
    ``max_angular`` rad/s (lowered to the wheels' velocity limits) and turned into wheel
    joint velocities through the wheel geometry. NaN or values outside [-1, 1] raise
    ``ValueError``. A new action applies for ``frame_skip`` physics steps (default 10 x 5 ms:
    20 Hz).

    ## Observation Space
    ``Box(float32, (beams + 5,))``:

    | index | observation | range |
    |-------|-------------|-------|
    | 0 .. beams-1 | lidar range / ``lidar_range`` (evenly spaced beams; no return: 1) | [0, 1] |
    | beams | goal distance / max goal distance (clipped) | [0, 1] |
    | beams+1 | cos of the goal bearing in the robot frame | [-1, 1] |
    | beams+2 | sin of the goal bearing in the robot frame | [-1, 1] |
    | beams+3 | forward speed / ``max_linear`` | [-2, 2] |
    | beams+4 | yaw rate / ``max_angular`` | [-2, 2] |

    ## Rewards
    Per step: ``progress_weight`` x (metres gained towards the goal) - ``time_cost``;
    ``+goal_reward`` when within ``goal_tolerance`` of the goal; ``-collision_penalty`` when a
    robot geom touches an obstacle (anything in the world but the floor).

    ## Episode End
    ``terminated`` on reaching the goal or a collision; ``truncated`` after
    ``max_episode_steps`` (the ``TimeLimit`` wrapper ``gymnasium.make`` adds).
    ``info["is_success"]`` says whether the goal was reached.

    ## Arguments
    ``gymnasium.make("twin_bridge/TwinNav-v0", world="warehouse", robot=None, config=None,
    randomization=None, render_mode=None, **options)``: ``config`` a mapping of
    :class:`NavConfig` fields (``options`` are merged into it, e.g. ``beams=16``),
    ``randomization`` a YAML path or mapping (:mod:`twin_bridge.learning.randomization`).
    Unknown keys raise :class:`twin_bridge.errors.ConfigError`.
    """

    metadata = {'render_modes': ['rgb_array'], 'render_fps': 20}

    def __init__(self, world: str | Path = 'warehouse',
                 robot: RobotDescription | str | Path | None = None,
                 config: NavConfig | Mapping[str, Any] | None = None,
                 randomization: str | Path | Mapping[str, Any] | None = None,
                 render_mode: str | None = None, **options: Any) -> None:
        self.config = _config(config, options)
        if render_mode not in (None, 'rgb_array'):
            raise ConfigError(f'TwinNav: render_mode must be None or "rgb_array", got '
                              f'{render_mode!r}')
        self.render_mode = render_mode
        self.scene, self.randomization = build_scene(world, robot, self.config, randomization)
        self.batch = NavBatch(self.scene, self.config, 1, randomization=self.randomization)
        layout = self.batch.observation
        low, high = layout.bounds()
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self.metadata = {**self.metadata, 'render_fps': round(1.0 / self.config.control_period)}
        self._renderer = None
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode at a free pose with a new goal (see the class doc)."""
        super().reset(seed=seed)
        self.batch.seed(0, self.np_random)
        obs = self.batch.reset(0)
        self._started = True
        return obs, self._info(False)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply ``(v, omega)`` in [-1, 1] for one control period.

        :raise ValueError: a NaN or out-of-range action; stepping before :meth:`reset`
        """
        if not self._started:
            raise ValueError('TwinNav: call reset() before step()')
        act = check_action(action)
        obs, reward, terminated, reached = self.batch.step(act[None, :])
        return (obs[0], float(reward[0]), bool(terminated[0]), False,
                self._info(bool(reached[0])))

    def _info(self, reached: bool) -> dict[str, Any]:
        b = self.batch
        return {'is_success': reached, 'collision': bool(b.collided[0]),
                'goal_distance': float(b.distance[0])}

    def render(self) -> np.ndarray | None:
        """A top-down RGB image ``(H, W, 3)`` of the world, robot, scan and goal."""
        if self.render_mode != 'rgb_array':
            return None
        if self._renderer is None:
            from twin_bridge.learning.nav_render import TopDownRenderer
            self._renderer = TopDownRenderer(self.scene, self.batch.sampler.region)
        return self._renderer.render(self.batch, 0)

    def close(self) -> None:
        """Release the renderer's figure."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.batch.close()


def _config(config: NavConfig | Mapping[str, Any] | None, options: Mapping[str, Any]
            ) -> NavConfig:
    if isinstance(config, NavConfig):
        if not options:
            return config
        config = config.to_mapping()
    return NavConfig.from_mapping({**dict(config or {}), **options})
