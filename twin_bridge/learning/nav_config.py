"""The navigation task's settings (:class:`NavConfig`): observation, action, reward, episode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
import math
from typing import Any

from twin_bridge.errors import ConfigError

__all__ = ['NavConfig']


@dataclass(frozen=True)
class NavConfig:
    """Settings of ``TwinNav-v0`` (every field has a default; see :meth:`from_mapping`).

    Observation: ``beams`` lidar beams picked evenly from the robot's lidar, ranges divided by
    ``lidar_range`` (m) and clipped to [0, 1]. Action: ``(v, omega)`` in [-1, 1] times
    ``max_linear`` (m/s) and ``max_angular`` (rad/s), lowered to what the wheels' velocity
    limits allow. Physics: ``timestep`` (s), ``frame_skip`` steps per action (control period
    ``timestep * frame_skip``, default 20 Hz). Task: the start is sampled in free space with
    ``spawn_clearance`` (m) around the robot; the goal ``goal_distance`` = ``(min, max)`` m
    away, free too, in line of sight of the start when ``goal_line_of_sight``; ``region`` =
    ``(xmin, ymin, xmax, ymax)`` limits sampling (``None``: the obstacles' bounding box).
    Reward per step: ``progress_weight`` x (distance gained, m) - ``time_cost``, plus
    ``goal_reward`` on reaching ``goal_tolerance`` (m) and minus ``collision_penalty`` on a
    collision (both end the episode). The time limit is the env's ``max_episode_steps``.
    """

    beams: int = 36
    lidar_range: float = 4.0
    max_linear: float = 0.5
    max_angular: float = 1.5
    timestep: float = 0.005
    frame_skip: int = 10
    goal_distance: tuple[float, float] = (1.0, 3.0)
    goal_tolerance: float = 0.25
    goal_line_of_sight: bool = True
    spawn_clearance: float = 0.2
    region: tuple[float, float, float, float] | None = None
    progress_weight: float = 5.0
    goal_reward: float = 10.0
    collision_penalty: float = 10.0
    time_cost: float = 0.01

    def __post_init__(self) -> None:
        positive = ('lidar_range', 'max_linear', 'max_angular', 'timestep', 'goal_tolerance')
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f'TwinNav config: {name} must be a finite number > 0, '
                                  f'got {value!r}')
        for name in ('spawn_clearance', 'progress_weight', 'goal_reward', 'collision_penalty',
                     'time_cost'):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ConfigError(f'TwinNav config: {name} must be a finite number >= 0, '
                                  f'got {value!r}')
        for name in ('beams', 'frame_skip'):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ConfigError(f'TwinNav config: {name} must be an integer >= 1, '
                                  f'got {value!r}')
        low, high = self.goal_distance
        if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
            raise ConfigError(f'TwinNav config: goal_distance must be (min, max) with '
                              f'0 < min <= max, got {self.goal_distance!r}')
        if self.region is not None:
            xmin, ymin, xmax, ymax = self.region
            if not (all(math.isfinite(v) for v in self.region) and xmin < xmax and ymin < ymax):
                raise ConfigError(f'TwinNav config: region must be (xmin, ymin, xmax, ymax) '
                                  f'with min < max, got {self.region!r}')

    @property
    def control_period(self) -> float:
        """Seconds between actions (``timestep * frame_skip``)."""
        return self.timestep * self.frame_skip

    @property
    def observation_size(self) -> int:
        """Length of the observation vector: the beams, goal (3) and velocities (2)."""
        return self.beams + 5

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None, *, source: str = 'TwinNav config'
                     ) -> NavConfig:
        """A config from plain data (YAML, JSON, keyword arguments); missing keys default.

        :raise ConfigError: an unknown key (named, with the known ones) or a bad value
        """
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f'{source}: unknown key(s) {unknown}; known: {sorted(known)}')
        for name, count in (('goal_distance', 2), ('region', 4)):
            if values.get(name) is None:
                continue
            try:
                values[name] = _floats(values[name], count)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f'{source}: {name}: {exc}') from exc
        for name in ('beams', 'frame_skip'):
            if isinstance(values.get(name), float) and values[name].is_integer():
                values[name] = int(values[name])
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f'{source}: {str(exc).removeprefix("TwinNav config: ")}') from exc

    def to_mapping(self) -> dict[str, Any]:
        """Plain data (lists for tuples) that :meth:`from_mapping` reads back."""
        out = asdict(self)
        out['goal_distance'] = list(self.goal_distance)
        out['region'] = None if self.region is None else list(self.region)
        return out


def _floats(value: Any, count: int) -> tuple[float, ...]:
    items = tuple(float(v) for v in value)
    if len(items) != count:
        raise ValueError(f'expected {count} numbers, got {list(value)!r}')
    return items
