"""Domain randomization of the navigation task, configured in YAML, drawn per episode.

A config (see ``config/nav_randomization.yaml``) names what varies; every number is either
fixed or a ``[low, high]`` range drawn uniformly::

    interval: 1                       # episodes between new draws (per env copy)
    move_obstacles: {names: [shelf_hall_0], max_shift: 0.3}   # m, on x and y
    add_obstacles: {count: [0, 3], size: [0.2, 0.6], height: 0.5}
    friction: [0.7, 1.3]              # factor on every geom's sliding friction
    mass: [0.8, 1.2]                  # factor on the robot's masses and inertias
    lidar_noise: {range_stddev: [0, 0.02], dropout: 0.01}   # LidarNoise fields
    action_delay: [0.0, 0.1]          # s, rounded to whole control periods
    observation_latency: [0.0, 0.05]  # s, rounded to whole control periods

:meth:`Randomization.draw` turns a config into a :class:`Variation` with a generator;
:meth:`Variation.apply` writes it into a model copy of the env's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import math
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import yaml

from twin_bridge.errors import ConfigError
from twin_bridge.learning.nav_scene import PARKED_Z, NavScene
from twin_bridge.learning.sensor_noise import LidarNoise

__all__ = ['Randomization', 'Variation', 'apply_variation', 'load_randomization',
           'read_randomization', 'spare_obstacles_needed']

_KEYS = ('interval', 'move_obstacles', 'add_obstacles', 'friction', 'mass', 'lidar_noise',
         'action_delay', 'observation_latency')
_MOVE_KEYS = ('names', 'max_shift')
_ADD_KEYS = ('count', 'size', 'height')

Range = tuple[float, float]


@dataclass(frozen=True)
class Variation:
    """One draw: obstacle shifts ``(k, 2)`` per moved model, added boxes ``(n, 3)`` as
    ``(x, y, side)``, friction and mass factors, lidar noise, delays in control periods."""

    shifts: dict[str, np.ndarray] = field(default_factory=dict)
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    box_height: float = 0.5
    friction: float = 1.0
    mass: float = 1.0
    noise: LidarNoise = field(default_factory=LidarNoise)
    action_delay: int = 0
    observation_latency: int = 0


class Randomization:
    """A validated randomization config for one scene (see the module doc).

    :param config: the parsed YAML mapping
    :param scene: the scene whose obstacles are named
    :param control_period: seconds per action (delays are rounded to it)
    :param source: names the config in errors (a file path)
    :raise ConfigError: an unknown key (named), a bad range or an unknown obstacle
    """

    def __init__(self, config: Mapping[str, Any] | None, scene: NavScene,
                 control_period: float, *, source: str = 'randomization') -> None:
        config = dict(config or {})
        _check_keys(config, _KEYS, source)
        self.source = source
        self.interval = _integer(config.get('interval', 1), f'{source}: interval')
        move = config.get('move_obstacles') or {}
        _check_keys(move, _MOVE_KEYS, f'{source}: move_obstacles')
        self.move_names = [str(n) for n in move.get('names', [])]
        self.max_shift = _number(move.get('max_shift', 0.0), f'{source}: move_obstacles.max_shift',
                                 minimum=0.0)
        self.move_geoms: dict[str, np.ndarray] = {}
        self.move_bodies: dict[str, np.ndarray] = {}
        for name in self.move_names:
            geoms, bodies = scene.geom_names(name), scene.top_bodies(name)
            if not len(geoms) and not len(bodies):
                raise ConfigError(f'{source}: move_obstacles: no obstacle {name!r} in world '
                                  f'{scene.world_name!r}')
            self.move_geoms[name], self.move_bodies[name] = geoms, bodies
        add = config.get('add_obstacles') or {}
        _check_keys(add, _ADD_KEYS, f'{source}: add_obstacles')
        count = _range(add.get('count', 0), f'{source}: add_obstacles.count', minimum=0.0)
        self.add_count = (int(count[0]), int(count[1]))
        if self.add_count[1] > len(scene.spare_geoms):
            raise ConfigError(f'{source}: add_obstacles.count: at most '
                              f'{len(scene.spare_geoms)} boxes fit this scene, got {count[1]:g}')
        self.add_size = _range(add.get('size', 0.3), f'{source}: add_obstacles.size',
                               minimum=1e-3)
        self.add_height = _number(add.get('height', 0.5), f'{source}: add_obstacles.height',
                                  minimum=1e-3)
        self.friction = _range(config.get('friction', 1.0), f'{source}: friction', minimum=1e-3)
        self.mass = _range(config.get('mass', 1.0), f'{source}: mass', minimum=1e-3)
        noise = config.get('lidar_noise') or {}
        if not isinstance(noise, Mapping):
            raise ConfigError(f'{source}: lidar_noise: expected a mapping, got {noise!r}')
        self.noise = {str(k): _range(v, f'{source}: lidar_noise.{k}',
                                     minimum=-math.inf if k == 'range_bias' else 0.0)
                      for k, v in noise.items()}
        LidarNoise.from_mapping({k: v[1] for k, v in self.noise.items()},
                                where=f'{source}: lidar_noise')  # names a bad key
        period = float(control_period)
        self.action_delay = tuple(round(v / period) for v in _range(
            config.get('action_delay', 0.0), f'{source}: action_delay', minimum=0.0))
        self.observation_latency = tuple(round(v / period) for v in _range(
            config.get('observation_latency', 0.0), f'{source}: observation_latency',
            minimum=0.0))

    @property
    def changes_model(self) -> bool:
        """True when draws edit the model (each env copy then needs a model of its own)."""
        return bool(self.move_names and self.max_shift > 0) or self.add_count[1] > 0 or \
            self.friction != (1.0, 1.0) or self.mass != (1.0, 1.0)

    @property
    def max_delay(self) -> int:
        """The longest action delay or observation latency, in control periods."""
        return int(max(self.action_delay[1], self.observation_latency[1]))

    def draw(self, rng: np.random.Generator,
             region: tuple[float, float, float, float]) -> Variation:
        """A variation drawn from ``rng`` (the only source of randomness); added boxes are
        placed uniformly in ``region`` ``(xmin, ymin, xmax, ymax)``."""
        shifts = {name: rng.uniform(-self.max_shift, self.max_shift, 2)
                  for name in self.move_names}
        count = int(rng.integers(self.add_count[0], self.add_count[1] + 1))
        boxes = np.zeros((count, 3))
        boxes[:, 0] = rng.uniform(region[0], region[2], count)
        boxes[:, 1] = rng.uniform(region[1], region[3], count)
        boxes[:, 2] = rng.uniform(*self.add_size, count)
        return Variation(
            shifts=shifts, boxes=boxes, box_height=self.add_height,
            friction=float(rng.uniform(*self.friction)), mass=float(rng.uniform(*self.mass)),
            noise=LidarNoise(**{k: float(rng.uniform(*v)) for k, v in self.noise.items()}),
            action_delay=int(rng.integers(self.action_delay[0], self.action_delay[1] + 1)),
            observation_latency=int(rng.integers(self.observation_latency[0],
                                                 self.observation_latency[1] + 1)))


def apply_variation(variation: Variation, randomization: Randomization, scene: NavScene,
                    model: mujoco.MjModel) -> None:
    """Write ``variation`` into ``model`` (a copy of ``scene.model``), from the scene's
    values (so draws never accumulate)."""
    base = scene.model
    for name, shift in variation.shifts.items():
        geoms, bodies = randomization.move_geoms[name], randomization.move_bodies[name]
        model.geom_pos[geoms, :2] = base.geom_pos[geoms, :2] + shift
        model.body_pos[bodies, :2] = base.body_pos[bodies, :2] + shift
        for body in bodies:
            if base.body_jntnum[body] and base.jnt_type[base.body_jntadr[body]] == 0:
                adr = base.jnt_qposadr[base.body_jntadr[body]]
                model.qpos0[adr:adr + 2] = base.qpos0[adr:adr + 2] + shift
    spare = scene.spare_geoms
    model.geom_pos[spare] = (0.0, 0.0, PARKED_Z)
    n = min(len(variation.boxes), len(spare))
    if n:
        ids, half = spare[:n], 0.5 * variation.boxes[:n, 2]
        h = 0.5 * variation.box_height
        model.geom_pos[ids, :2] = variation.boxes[:n, :2]
        model.geom_pos[ids, 2] = h
        model.geom_size[ids] = np.stack([half, half, np.full(n, h)], axis=1)
        model.geom_aabb[ids, 3:] = model.geom_size[ids]
        model.geom_rbound[ids] = np.linalg.norm(model.geom_size[ids], axis=1)
    model.geom_friction[:, 0] = base.geom_friction[:, 0] * variation.friction
    bodies = scene.robot_bodies
    model.body_mass[bodies] = base.body_mass[bodies] * variation.mass
    model.body_inertia[bodies] = base.body_inertia[bodies] * variation.mass


def read_randomization(path: str | Path) -> dict[str, Any]:
    """The mapping in a randomization YAML file (an empty file: ``{}``).

    :raise ConfigError: the file cannot be read or parsed, or is not a mapping (named)
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f'{path}: cannot read the randomization config: {exc}') from exc
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f'{path}: expected a mapping at the top level')
    return dict(data or {})


def load_randomization(source: str | Path | Mapping[str, Any] | None, scene: NavScene,
                       control_period: float) -> Randomization | None:
    """A :class:`Randomization` from a YAML file path, a mapping, or ``None`` (none).

    :raise ConfigError: the file cannot be read or parsed, or the config is bad (named)
    """
    if source is None:
        return None
    if isinstance(source, Mapping):
        return Randomization(source, scene, control_period)
    return Randomization(read_randomization(source), scene, control_period, source=str(source))


def spare_obstacles_needed(config: Mapping[str, Any]) -> int:
    """How many spare boxes a scene needs for ``config``'s ``add_obstacles.count`` (0 when
    the entry is malformed: :class:`Randomization` then reports it)."""
    add = config.get('add_obstacles') or {}
    count = add.get('count', 0) if isinstance(add, Mapping) else 0
    try:
        return int(max(count) if isinstance(count, (list, tuple)) else count)
    except (TypeError, ValueError):
        return 0


def _check_keys(values: Any, known: tuple[str, ...], where: str) -> None:
    if not isinstance(values, Mapping):
        raise ConfigError(f'{where}: expected a mapping, got {values!r}')
    unknown = sorted(str(k) for k in values if k not in known)
    if unknown:
        raise ConfigError(f'{where}: unknown key(s) {unknown}; known: {list(known)}')


def _number(value: Any, where: str, *, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < minimum:
        raise ConfigError(f'{where}: expected a finite number >= {minimum}, got {value!r}')
    return float(value)


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f'{where}: expected an integer >= 1, got {value!r}')
    return value


def _range(value: Any, where: str, *, minimum: float) -> Range:
    """A number (fixed) or ``[low, high]`` with ``minimum <= low <= high``."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ConfigError(f'{where}: expected a number or [low, high], got {value!r}')
        low, high = (_number(v, where, minimum=minimum) for v in value)
        if low > high:
            raise ConfigError(f'{where}: low {low} > high {high}')
        return (low, high)
    v = _number(value, where, minimum=minimum)
    return (v, v)
