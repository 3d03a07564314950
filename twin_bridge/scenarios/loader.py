"""Scenario files (YAML) to :class:`~twin_bridge.scenarios.spec.Scenario`, checked key by key.

A scenario file::

    name: wall_full_speed            # default: the file's stem
    description: drive at a wall at full speed
    world: warehouse                 # shipped world name, or an SDF path (relative to the file)
    robot: {file: my_robot.urdf.xacro, args: {lidar_samples: 360}}   # default: shipped robot
    start: {x: 0.0, y: 0.0, yaw: 0.0}                                # yaw in rad (or yaw_deg)
    goal: {x: 4.0, y: 0.0, tolerance: 0.25}
    faults: ["range_bias:m=0.03", "obstacle_moved:name=shelf_hall_1,dy=-1.5"]
    obstacles:                       # physical only (the twin's map lacks them) unless mapped
      - {name: crate, box: [0.4, 0.4, 0.6], x: 2.0, y: 0.0, yaw: 0.0}
      - {name: post, cylinder: [0.1, 1.0], x: 1.0, y: 1.0, mapped: true}
    commands:                        # a script: {t, v, w} from t on, or {until, v, w}
      - {until: 6.0, v: 1.0, w: 0.0}
    controller: "package.module:function"   # or {entry_point: ..., args: {...}}
    events: {e_stop: [1.0], e_stop_release: [3.0], stale_scan: [[2.0, 3.0]],
             stale_odometry: []}
    gate: {safety_margin: 0.1, stop_horizon: 1.5}           # GateConfig fields
    run: {duration: 8, control_period: 0.1, scan_period: 0.1, timestep: 0.002, seed: 0,
          lidar_noise: true}
    expect: {never_collides: true, stops_before: {clearance: 0.1}, gate_verdicts: {stop: ">=1"}}

Every error is a :class:`~twin_bridge.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
import math
from pathlib import Path

import yaml

from twin_bridge.description.resources import find_world
from twin_bridge.errors import ConfigError, TwinBridgeError
from twin_bridge.scenarios.expectations import ReachesGoalWithin, parse_expectations
from twin_bridge.scenarios.spec import (
    Events,
    Goal,
    Obstacle,
    Pose2D,
    RunOptions,
    Scenario,
    Segment,
)
from twin_bridge.stand_in.faults import parse_faults
from twin_bridge.twin.safety.gate import GateConfig

__all__ = ['KEYS', 'load_scenario', 'scenario_from_dict']

KEYS = ('name', 'description', 'world', 'robot', 'start', 'goal', 'faults', 'obstacles',
        'commands', 'controller', 'events', 'gate', 'run', 'expect')
_UNSUPPORTED_FAULTS = {'scan_world': 'use `world` and `obstacles` for the physical world'}


def load_scenario(path: str | Path) -> Scenario:
    """Read and check one scenario file. :raise ConfigError: naming the file and key"""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except OSError as exc:
        raise ConfigError(f'{path}: cannot read scenario: {exc.strerror or exc}') from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path}: not valid YAML: {exc}') from exc
    return scenario_from_dict(data, source=str(path), base_dir=path.parent,
                              default_name=path.stem)


def _number(value: object, where: str, *, low: float = -math.inf, strict: bool = False
            ) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value) or value < low or (strict and value == low):
        bound = '' if low == -math.inf else f' {">" if strict else ">="} {low:g}'
        raise ConfigError(f'{where}: expected a finite number{bound}, got {value!r}')
    return float(value)


def _mapping(value: object, where: str, allowed: tuple[str, ...],
             required: tuple[str, ...] = ()) -> Mapping:
    if not isinstance(value, Mapping):
        raise ConfigError(f'{where}: expected a mapping with keys {", ".join(allowed)}, got '
                          f'{value!r}')
    unknown = [k for k in value if k not in allowed]
    if unknown:
        raise ConfigError(f'{where}: unknown key {unknown[0]!r}; expected '
                          f'{", ".join(allowed)}')
    missing = [k for k in required if k not in value]
    if missing:
        raise ConfigError(f'{where}: missing key {missing[0]!r}')
    return value


def _list(value: object, where: str) -> list:
    if not isinstance(value, list):
        raise ConfigError(f'{where}: expected a list, got {value!r}')
    return value


def scenario_from_dict(data: object, *, source: str = '<scenario>',
                       base_dir: str | Path | None = None,
                       default_name: str = 'scenario') -> Scenario:
    """A scenario from the parsed YAML mapping (or one written in Python).

    :param source: the file, for error messages
    :param base_dir: what relative ``world``/``robot`` paths are relative to
    :raise ConfigError: naming ``source`` and the key at fault
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    top = _mapping(data, source, KEYS, ('world', 'start'))
    where = f'{source}:'
    name = str(top.get('name', default_name))
    world = _world(top['world'], base, f'{where} world')
    robot, robot_args = _robot(top.get('robot'), base, f'{where} robot')
    start_map = _mapping(top['start'], f'{where} start', ('x', 'y', 'yaw', 'yaw_deg'), ('x', 'y'))
    start = Pose2D(_number(start_map['x'], f'{where} start.x'),
                   _number(start_map['y'], f'{where} start.y'), _yaw(start_map, where))
    goal = None
    if top.get('goal') is not None:
        g = _mapping(top['goal'], f'{where} goal', ('x', 'y', 'tolerance'), ('x', 'y'))
        goal = Goal(_number(g['x'], f'{where} goal.x'), _number(g['y'], f'{where} goal.y'),
                    _number(g.get('tolerance', 0.25), f'{where} goal.tolerance', low=0,
                            strict=True))
    run = _run(top.get('run', {}), f'{where} run')
    faults = tuple(parse_faults([str(f) for f in _list(top.get('faults', []), f'{where} faults')],
                                run.seed, f'{where} faults'))
    for fault in faults:
        if fault.kind in _UNSUPPORTED_FAULTS:
            raise ConfigError(f'{where} faults: {fault.kind} is not supported in scenarios: '
                              f'{_UNSUPPORTED_FAULTS[fault.kind]}')
    obstacles = tuple(_obstacle(o, f'{where} obstacles[{i}]')
                      for i, o in enumerate(_list(top.get('obstacles', []), f'{where} obstacles')))
    if 'commands' in top and 'controller' in top:
        raise ConfigError(f'{where} commands, controller: give one of them, not both')
    if 'commands' not in top and 'controller' not in top:
        raise ConfigError(f'{where} commands: missing (or a controller)')
    commands = _commands(top.get('commands', []), f'{where} commands')
    controller, controller_args = _controller(top.get('controller'), f'{where} controller')
    events = _events(top.get('events', {}), f'{where} events')
    gate = _gate(top.get('gate', {}), f'{where} gate')
    expectations = parse_expectations(top.get('expect', {}), f'{where} expect')
    if goal is None and any(isinstance(e, ReachesGoalWithin) for e in expectations):
        raise ConfigError(f'{where} expect.reaches_goal_within: the scenario has no goal')
    return Scenario(name=name, world=world, start=start, source=source,
                    description=str(top.get('description', '')), robot=robot,
                    robot_args=robot_args, goal=goal, faults=faults, obstacles=obstacles,
                    commands=commands, controller=controller, controller_args=controller_args,
                    events=events, gate=gate, run=run, expectations=expectations)


def _world(value: object, base: Path, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f'{where}: expected a world name or SDF path, got {value!r}')
    candidate = base / value
    try:
        return str(find_world(str(candidate) if candidate.is_file() else value))
    except TwinBridgeError as exc:
        raise ConfigError(f'{where}: {exc}') from exc


def _robot(value: object, base: Path, where: str) -> tuple[str | None, dict[str, str]]:
    if value is None:
        return None, {}
    if isinstance(value, str):
        value = {'file': value}
    robot = _mapping(value, where, ('file', 'args'))
    path = None
    if robot.get('file') is not None:
        path = Path(str(robot['file'])).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise ConfigError(f'{where}.file: {path}: robot description file not found')
    args = robot.get('args', {}) or {}
    if not isinstance(args, Mapping):
        raise ConfigError(f'{where}.args: expected a mapping of xacro arguments, got {args!r}')
    return (str(path) if path else None), {str(k): str(v).lower() if isinstance(v, bool)
                                           else str(v) for k, v in args.items()}


def _yaw(start: Mapping, where: str) -> float:
    if 'yaw' in start and 'yaw_deg' in start:
        raise ConfigError(f'{where} start: give yaw or yaw_deg, not both')
    if 'yaw_deg' in start:
        return math.radians(_number(start['yaw_deg'], f'{where} start.yaw_deg'))
    return _number(start.get('yaw', 0.0), f'{where} start.yaw')


def _obstacle(value: object, where: str) -> Obstacle:
    o = _mapping(value, where, ('name', 'box', 'cylinder', 'x', 'y', 'yaw', 'mapped'),
                 ('x', 'y'))
    shapes = [k for k in ('box', 'cylinder') if k in o]
    if len(shapes) != 1:
        raise ConfigError(f'{where}: give exactly one of box: [sx, sy, sz] or '
                          f'cylinder: [radius, height]')
    shape, size = shapes[0], _list(o[shapes[0]], f'{where}.{shapes[0]}')
    if len(size) != (3 if shape == 'box' else 2):
        raise ConfigError(f'{where}.{shape}: expected {3 if shape == "box" else 2} sizes, '
                          f'got {size!r}')
    sizes = tuple(_number(s, f'{where}.{shape}', low=0, strict=True) for s in size)
    return Obstacle(str(o.get('name', where.rsplit(' ', 1)[-1])), shape, sizes,
                    _number(o['x'], f'{where}.x'), _number(o['y'], f'{where}.y'),
                    _number(o.get('yaw', 0.0), f'{where}.yaw'), bool(o.get('mapped', False)))


def _commands(value: object, where: str) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    now = 0.0
    for i, item in enumerate(_list(value, where)):
        at = f'{where}[{i}]'
        c = _mapping(item, at, ('t', 'until', 'v', 'w'))
        if ('t' in c) == ('until' in c):
            raise ConfigError(f'{at}: give exactly one of t (start) or until (end)')
        v, w = _number(c.get('v', 0.0), f'{at}.v'), _number(c.get('w', 0.0), f'{at}.w')
        if 't' in c:
            start = _number(c['t'], f'{at}.t', low=0)
            if start < now:
                raise ConfigError(f'{at}.t: {start:g} is before the previous command ({now:g})')
            if segments and math.isinf(segments[-1].end):
                last = segments[-1]
                segments[-1] = Segment(last.start, start, last.v, last.w)
            segments.append(Segment(start, math.inf, v, w))
            now = start
        else:
            if segments and math.isinf(segments[-1].end):
                raise ConfigError(f'{at}.until: follows a {{t: ...}} command that holds on')
            end = _number(c['until'], f'{at}.until', low=0)
            if end <= now:
                raise ConfigError(f'{at}.until: {end:g} is not after {now:g}')
            segments.append(Segment(now, end, v, w))
            now = end
    return tuple(segments)


def _controller(value: object, where: str) -> tuple[str | None, dict[str, object] | None]:
    if value is None:
        return None, None
    if isinstance(value, str):
        value = {'entry_point': value}
    c = _mapping(value, where, ('entry_point', 'args'), ('entry_point',))
    entry = c['entry_point']
    if not isinstance(entry, str) or entry.count(':') != 1 or not all(entry.split(':')):
        raise ConfigError(f'{where}.entry_point: expected "package.module:function", got '
                          f'{entry!r}')
    args = c.get('args')
    if args is not None and not isinstance(args, Mapping):
        raise ConfigError(f'{where}.args: expected a mapping of keyword arguments')
    return entry, (dict(args) if args is not None else None)


def _times(value: object, where: str) -> tuple[float, ...]:
    return tuple(_number(t, f'{where}[{i}]', low=0) for i, t in enumerate(_list(value, where)))


def _windows(value: object, where: str) -> tuple[tuple[float, float], ...]:
    out = []
    for i, item in enumerate(_list(value, where)):
        pair = _list(item, f'{where}[{i}]')
        if len(pair) != 2:
            raise ConfigError(f'{where}[{i}]: expected [from, to], got {pair!r}')
        lo, hi = (_number(t, f'{where}[{i}]', low=0) for t in pair)
        if hi <= lo:
            raise ConfigError(f'{where}[{i}]: the window ends before it starts')
        out.append((lo, hi))
    return tuple(out)


def _events(value: object, where: str) -> Events:
    e = _mapping(value, where, ('e_stop', 'e_stop_release', 'stale_scan', 'stale_odometry'))
    return Events(_times(e.get('e_stop', []), f'{where}.e_stop'),
                  _times(e.get('e_stop_release', []), f'{where}.e_stop_release'),
                  _windows(e.get('stale_scan', []), f'{where}.stale_scan'),
                  _windows(e.get('stale_odometry', []), f'{where}.stale_odometry'))


def _gate(value: object, where: str) -> GateConfig:
    names = tuple(f.name for f in fields(GateConfig))
    g = _mapping(value, where, names)
    values = {}
    for key, item in g.items():
        values[key] = bool(item) if key == 'scan_source' else _number(item, f'{where}.{key}')
    try:
        return GateConfig(**values)
    except ConfigError as exc:
        raise ConfigError(f'{where}: {exc}') from exc


def _run(value: object, where: str) -> RunOptions:
    names = tuple(f.name for f in fields(RunOptions))
    r = _mapping(value, where, names)
    out: dict[str, object] = {}
    for key in ('duration', 'control_period', 'scan_period', 'timestep'):
        if key in r:
            out[key] = _number(r[key], f'{where}.{key}', low=0, strict=True)
    if 'seed' in r:
        if isinstance(r['seed'], bool) or not isinstance(r['seed'], int):
            raise ConfigError(f'{where}.seed: expected an integer, got {r["seed"]!r}')
        out['seed'] = r['seed']
    if 'lidar_noise' in r:
        out['lidar_noise'] = bool(r['lidar_noise'])
    options = RunOptions(**out)  # type: ignore[arg-type]
    if options.timestep > options.control_period:
        raise ConfigError(f'{where}.timestep: larger than control_period')
    return options
