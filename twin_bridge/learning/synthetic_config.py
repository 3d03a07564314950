"""What the synthetic lidar-data generator randomizes, read from a mapping or a YAML file.

Every key is optional (see ``config/synthetic_data.yaml``)::

    world: warehouse            # shipped world name or SDF path
    robot: null                 # URDF/xacro/SDF model path (null: the package's robot)
    search_path: []             # extra directories for the world's model:// includes
    samples: 100
    seed: 0
    bounds: null                # [xmin, xmax, ymin, ymax] for robot positions (null: the
                                #   extent of the world's obstacles)
    clearance: 0.05             # m between the robot and the world at a sampled pose
    layout_every: 1             # samples per obstacle layout
    move_obstacles: {names: [shelf_hall_0, box_0], max_shift: 0.3}   # m on x and y
    lidar_noise: {range_stddev: [0.0, 0.02], dropout: 0.01}  # LidarNoise fields; a number
                                #   or a [low, high] range drawn per sample
    frame_id: map               # frame of the poses
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from twin_bridge.errors import ConfigError
from twin_bridge.learning.sensor_noise import LidarNoise

__all__ = ['NoiseRanges', 'SyntheticConfig', 'load_synthetic_config']

_MOVE_KEYS = ('names', 'max_shift')


def _number(value: Any, where: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f'{where}: expected a finite number, got {value!r}')
    if minimum is not None and value < minimum:
        raise ConfigError(f'{where}: must be >= {minimum:g}, got {value}')
    return float(value)


@dataclass(frozen=True)
class NoiseRanges:
    """Per :class:`LidarNoise` field, a ``(low, high)`` range drawn uniformly per sample."""

    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, cfg: Any, where: str) -> NoiseRanges:
        """Read ``{field: number or [low, high]}``; each bound must be a valid value.

        :raise ConfigError: an unknown field, a bad number or range (naming the key)
        """
        if not isinstance(cfg, Mapping):
            raise ConfigError(f'{where}: expected a mapping of LidarNoise fields')
        known = [f.name for f in fields(LidarNoise)]
        out: dict[str, tuple[float, float]] = {}
        for key, value in cfg.items():
            if key not in known:
                raise ConfigError(f'{where}: unknown key {key!r}; known: {", ".join(known)}')
            pair = value if isinstance(value, (list, tuple)) else [value, value]
            if len(pair) != 2:
                raise ConfigError(f'{where}.{key}: expected a number or [low, high]')
            low, high = (_number(v, f'{where}.{key}') for v in pair)
            if low > high:
                raise ConfigError(f'{where}.{key}: low {low} > high {high}')
            for bound in (low, high):
                LidarNoise.from_mapping({key: bound}, where=where)
            out[str(key)] = (low, high)
        return cls(out)

    @classmethod
    def fixed(cls, noise: LidarNoise) -> NoiseRanges:
        """Always ``noise`` (e.g. a model fitted with :func:`fit_lidar_noise_from_bag`)."""
        return cls({k: (v, v) for k, v in noise.to_mapping().items()})

    def draw(self, rng: np.random.Generator) -> LidarNoise:
        """One noise model (fields in sorted order, one uniform draw each)."""
        return LidarNoise(**{k: float(rng.uniform(lo, hi)) if hi > lo else lo
                             for k, (lo, hi) in sorted(self.ranges.items())})


@dataclass(frozen=True)
class SyntheticConfig:
    """The generator's settings (see the module doc for the YAML form)."""

    world: str = 'warehouse'
    robot: str | None = None
    search_path: tuple[str, ...] = ()
    samples: int = 100
    seed: int = 0
    bounds: tuple[float, float, float, float] | None = None
    clearance: float = 0.05
    layout_every: int = 1
    move_names: tuple[str, ...] = ()
    max_shift: float = 0.0
    noise: NoiseRanges = field(default_factory=NoiseRanges)
    frame_id: str = 'map'

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any], where: str = 'synthetic data config'
                     ) -> SyntheticConfig:
        """Validate ``cfg``; :raise ConfigError: naming ``where`` and the key at fault"""
        if not isinstance(cfg, Mapping):
            raise ConfigError(f'{where}: expected a mapping, got {type(cfg).__name__}')
        keys = ('world', 'robot', 'search_path', 'samples', 'seed', 'bounds', 'clearance',
                'layout_every', 'move_obstacles', 'lidar_noise', 'frame_id')
        unknown = sorted(str(k) for k in cfg if k not in keys)
        if unknown:
            raise ConfigError(f'{where}: unknown key(s) {", ".join(unknown)}; known: '
                              f'{", ".join(keys)}')
        kw: dict[str, Any] = {}
        for key in ('world', 'frame_id'):
            if key in cfg:
                if not isinstance(cfg[key], str) or not cfg[key]:
                    raise ConfigError(f'{where}: {key}: expected a non-empty string')
                kw[key] = cfg[key]
        if cfg.get('robot') is not None:
            if not isinstance(cfg['robot'], str):
                raise ConfigError(f'{where}: robot: expected a path or null')
            kw['robot'] = cfg['robot']
        if cfg.get('search_path') is not None:
            paths = cfg['search_path']
            if not isinstance(paths, (list, tuple)) or not all(isinstance(p, str) for p in paths):
                raise ConfigError(f'{where}: search_path: expected a list of directories')
            kw['search_path'] = tuple(paths)
        for key, minimum in (('samples', 1), ('seed', 0), ('layout_every', 1)):
            if key in cfg:
                value = cfg[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                    raise ConfigError(f'{where}: {key}: expected an integer >= {minimum}, '
                                      f'got {value!r}')
                kw[key] = value
        if 'clearance' in cfg:
            kw['clearance'] = _number(cfg['clearance'], f'{where}: clearance', minimum=0.0)
        if cfg.get('bounds') is not None:
            b = cfg['bounds']
            if not isinstance(b, (list, tuple)) or len(b) != 4:
                raise ConfigError(f'{where}: bounds: expected [xmin, xmax, ymin, ymax]')
            vals = tuple(_number(v, f'{where}: bounds') for v in b)
            if vals[0] >= vals[1] or vals[2] >= vals[3]:
                raise ConfigError(f'{where}: bounds: expected xmin < xmax and ymin < ymax, '
                                  f'got {list(vals)}')
            kw['bounds'] = vals
        if cfg.get('move_obstacles') is not None:
            kw.update(_move(cfg['move_obstacles'], f'{where}: move_obstacles'))
        if cfg.get('lidar_noise') is not None:
            kw['noise'] = NoiseRanges.from_mapping(cfg['lidar_noise'], f'{where}: lidar_noise')
        return cls(**kw)

    def replace(self, **changes: Any) -> SyntheticConfig:
        """A copy with ``changes`` (field names)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SyntheticConfig(**values)


def _move(cfg: Any, where: str) -> dict[str, Any]:
    if not isinstance(cfg, Mapping):
        raise ConfigError(f'{where}: expected {{names: [...], max_shift: m}}')
    unknown = sorted(str(k) for k in cfg if k not in _MOVE_KEYS)
    if unknown:
        raise ConfigError(f'{where}: unknown key(s) {", ".join(unknown)}; known: '
                          f'{", ".join(_MOVE_KEYS)}')
    names = cfg.get('names', [])
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f'{where}: names: expected a list of model names')
    return {'move_names': tuple(names),
            'max_shift': _number(cfg.get('max_shift', 0.0), f'{where}: max_shift',
                                 minimum=0.0)}


def load_synthetic_config(path: str | Path) -> SyntheticConfig:
    """A :class:`SyntheticConfig` from a YAML file.

    :raise ConfigError: unreadable file, bad YAML, or a bad key (naming the file and key)
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f'{path}: cannot read the synthetic data config: {exc}') from exc
    return SyntheticConfig.from_mapping(doc if doc is not None else {}, str(path))
