"""The fleet twin node's parameters: names, defaults, descriptions, validation (no ROS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
from typing import Any

from twin_bridge.errors import ConfigError
from twin_bridge.fleet.fleet_spec import (
    ROBOT_PARAMETERS,
    FleetSpec,
    fleet_from_robot_args,
    load_fleet_file,
)
from twin_bridge.fleet.shards import Shard, parse_shard
from twin_bridge.twin.node_config import QOS_NAMES, parameter_help

__all__ = ['FLEET_PARAMETERS', 'FleetNodeConfig', 'fleet_help_text']

#: name -> (default, description): the fleet node's declarations and ``--help``.
FLEET_PARAMETERS: dict[str, tuple[Any, str]] = {
    'fleet_file': ('', 'fleet YAML: world, shared parameters, and per robot a namespace, a '
                       'description (file, xacro_args), a start pose and parameters'),
    'robots': ([''], 'instead of fleet_file: the package robot under each namespace, as '
                     '"namespace[:x,y[,yaw]]" strings (start pose in the world, m and rad)'),
    'world': ('', 'world name or SDF path ("" = the fleet file\'s, else warehouse)'),
    'shard': ('', '"i/n": serve robots i, i+n, i+2n... of the fleet (file order); the other '
                  'robots are obstacles moved by their virtual/odom ("" = all)'),
    'scan_rate': (10.0, 'Hz of every served robot\'s virtual/scan (0 = the fastest lidar '
                        'update_rate)'),
    'lidar_seed': (-1, 'seed of the lidar noise (-1 = fresh entropy)'),
    'input_qos': ('sensor_data', 'QoS of the joint_states/odom subscriptions: sensor_data | '
                                 'reliable'),
    'state_qos': ('reliable', 'QoS of virtual/odom and virtual/joint_states: reliable | '
                              'sensor_data'),
    'scan_qos': ('sensor_data', 'QoS of virtual/scan: sensor_data | reliable'),
    'qos_depth': (10, 'history depth (keep-last) of every publisher and subscription'),
    'diagnostics_period': (1.0, 's between /diagnostics messages'),
}


@dataclass(frozen=True)
class FleetNodeConfig:
    """Validated values of :data:`FLEET_PARAMETERS`."""

    fleet_file: str
    robots: tuple[str, ...]
    world: str
    shard: Shard
    scan_rate: float
    lidar_seed: int
    input_qos: str
    state_qos: str
    scan_qos: str
    qos_depth: int
    diagnostics_period: float

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> FleetNodeConfig:
        """Build from parameter values (missing ones take their defaults) and validate.

        :raise ConfigError: naming the parameter
        """
        unknown = set(values) - set(FLEET_PARAMETERS)
        if unknown:
            raise ConfigError(f'unknown parameter(s) {sorted(unknown)}')
        v = {name: values.get(name, default) for name, (default, _) in
             FLEET_PARAMETERS.items()}
        for name in ('fleet_file', 'world', 'shard', 'input_qos', 'state_qos', 'scan_qos'):
            if not isinstance(v[name], str):
                raise ConfigError(f'parameter {name} must be a string, got {v[name]!r}')
        robots = v['robots']
        if isinstance(robots, str) or not all(isinstance(r, str) for r in robots):
            raise ConfigError(f'parameter robots must be a list of strings, got {robots!r}')
        for name in ('input_qos', 'state_qos', 'scan_qos'):
            if v[name] not in QOS_NAMES:
                raise ConfigError(f'parameter {name} is {v[name]!r}; expected one of '
                                  f'{", ".join(QOS_NAMES)}')
        for name in ('lidar_seed', 'qos_depth'):
            if isinstance(v[name], bool) or not isinstance(v[name], int):
                raise ConfigError(f'parameter {name} must be an integer, got {v[name]!r}')
        if v['qos_depth'] < 1:
            raise ConfigError(f'parameter qos_depth must be >= 1, got {v["qos_depth"]}')
        for name, low in (('scan_rate', 0.0), ('diagnostics_period', 1e-3)):
            value = v[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value < low:
                raise ConfigError(f'parameter {name} must be a number >= {low:g}, got {value!r}')
            v[name] = float(value)
        if not v['fleet_file'] and not any(robots):
            raise ConfigError('give the fleet: parameter fleet_file (a YAML file) or robots '
                              '(["robot1:0,0", "robot2:2,0"])')
        if v['fleet_file'] and any(robots):
            raise ConfigError('parameters fleet_file and robots both set: give one')
        v['robots'] = tuple(r for r in robots if r)
        v['shard'] = parse_shard(v['shard'])
        return cls(**v)

    def fleet(self) -> FleetSpec:
        """The fleet these parameters name (the file read and checked, or ``robots``).

        :raise ConfigError: naming the file, robot and key; or the shard being larger than
            the fleet
        """
        if self.fleet_file:
            spec = load_fleet_file(self.fleet_file, world=self.world)
        else:
            spec = fleet_from_robot_args(self.robots, self.world or 'warehouse')
        if self.shard.count > len(spec.robots):
            raise ConfigError(f'parameter shard {self.shard}: more shards than the '
                              f'{len(spec.robots)} robot(s) of {spec.source}')
        return spec


def fleet_help_text(program: str = 'twin_fleet') -> str:
    """Usage text: every node parameter and every per-robot fleet-file parameter."""
    lines = [
        f'usage: {program} [--ros-args -p NAME:=VALUE ... --params-file FILE]',
        '',
        'A twin of a fleet: mirrors every robot\'s /<ns>/joint_states and /<ns>/odom into one',
        'embedded MuJoCo world holding all of them, publishes /<ns>/virtual/joint_states,',
        '/<ns>/virtual/odom and /<ns>/virtual/scan (robots see each other) and /diagnostics',
        'per robot. With shard:=i/n, several processes share the fleet over DDS.',
        '',
        'parameters (default):',
        *parameter_help(FLEET_PARAMETERS),
        '',
        'fleet file parameters (top-level "parameters" or per robot; default):',
        *parameter_help({k: (v if v is not None else '<namespace>/', d)
                         for k, (v, d) in ROBOT_PARAMETERS.items()}),
        '',
        'example: twin_fleet --ros-args -p fleet_file:=config/fleet_example.yaml -p shard:=0/2',
    ]
    return '\n'.join(lines)
