"""The fleet file: which robots share one twin, where they start, and their parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math
from pathlib import Path
import re
from typing import Any

from twin_bridge.core.name_value import parse_name_value_args
from twin_bridge.errors import ConfigError

__all__ = ['ROBOT_PARAMETERS', 'FleetSpec', 'RobotEntry', 'StartPose', 'fleet_from_robot_args',
           'load_fleet_file', 'parse_fleet']

#: Parameters a fleet file may set for all robots (``parameters``) or one (``robots[i].
#: parameters``): name -> (default, description).
ROBOT_PARAMETERS: dict[str, tuple[Any, str]] = {
    'frame_prefix': (None, 'prefix of the frame ids the robot\'s outputs carry (default '
                           '"<namespace>/")'),
    'lidar_sensor': ('', 'the robot\'s sensor simulated as its lidar ("" = the best scanner)'),
    'lidar_noise': (True, 'add the lidar tag\'s Gaussian range noise to the virtual scan'),
    'unknown_joints': ('reject', 'joint_states naming joints the twin lacks: reject | ignore'),
    'stale_timeout': (0.5, 's without a good input before it is reported stale'),
    'max_future_stamp': (0.5, 's an input stamp may be ahead of the twin\'s clock'),
}

_TOP_KEYS = ('world', 'parameters', 'robots')
_ROBOT_KEYS = ('namespace', 'description', 'pose', 'parameters')
_DESCRIPTION_KEYS = ('file', 'xacro_args')
_POSE_KEYS = ('x', 'y', 'z', 'yaw')
_NAMESPACE = re.compile(r'[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*')


@dataclass(frozen=True)
class StartPose:
    """Where a robot's odometry frame lies in the world (m, rad): its odometry starts here."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    yaw: float = 0.0


@dataclass(frozen=True)
class RobotEntry:
    """One robot of the fleet.

    ``description_file`` ``''`` is the package's robot; ``parameters`` are the shared ones with
    this robot's on top, every :data:`ROBOT_PARAMETERS` key present.
    """

    namespace: str
    description_file: str = ''
    xacro_args: Mapping[str, str] = field(default_factory=dict)
    pose: StartPose = StartPose()
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def frame_prefix(self) -> str:
        """Prefix of the robot's output frame ids (``robot1/`` unless set)."""
        prefix = self.parameters.get('frame_prefix')
        return f'{self.namespace}/' if prefix is None else prefix

    def parameter(self, name: str) -> Any:
        """The effective value of a :data:`ROBOT_PARAMETERS` entry."""
        return self.parameters.get(name, ROBOT_PARAMETERS[name][0])


@dataclass(frozen=True)
class FleetSpec:
    """A validated fleet: the world and the robots in file order (namespaces unique)."""

    world: str
    robots: tuple[RobotEntry, ...]
    source: str = '<fleet>'

    def robot(self, namespace: str) -> RobotEntry:
        """The robot of ``namespace`` (without a leading ``/``). :raise KeyError:"""
        for entry in self.robots:
            if entry.namespace == namespace:
                return entry
        raise KeyError(namespace)


def load_fleet_file(path: str | Path, *, world: str = '') -> FleetSpec:
    """Read and validate a fleet YAML file (relative robot/world paths are taken from its
    folder). :param world: overrides the file's ``world`` when not empty.
    :raise ConfigError: naming the file, the robot and the key at fault
    """
    import yaml  # a dependency of the package (xacro, launch files)
    path = Path(path).expanduser()
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except OSError as exc:
        raise ConfigError(f'{path}: cannot read the fleet file: {exc}') from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path}: not valid YAML: {exc}') from exc
    return parse_fleet(data, source=str(path), base_dir=path.parent, world=world)


def parse_fleet(data: Any, *, source: str = '<fleet>', base_dir: Path | None = None,
                world: str = '') -> FleetSpec:
    """Validate a fleet file's content (see the README's "A twin of the fleet").

    :raise ConfigError: ``'<source>: robots[1] (namespace "robot2"): key "pose.yaw": ...'``
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f'{source}: expected a mapping with keys {", ".join(_TOP_KEYS)}')
    _no_unknown(data, _TOP_KEYS, source)
    world = world or data.get('world', 'warehouse')
    if not isinstance(world, str) or not world.strip():
        raise ConfigError(f'{source}: key "world": a world name or SDF path, got {world!r}')
    world = _relative(world, base_dir) if world.endswith('.sdf') else world
    shared = _parameters(data.get('parameters') or {}, f'{source}: key "parameters"')
    robots = data.get('robots')
    if not isinstance(robots, Sequence) or isinstance(robots, str) or not robots:
        raise ConfigError(f'{source}: key "robots": a non-empty list of robots is required')
    entries: list[RobotEntry] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(robots):
        entry = _robot(item, index, source, base_dir, shared)
        if entry.namespace in seen:
            raise ConfigError(f'{source}: robots[{index}] (namespace "{entry.namespace}"): key '
                              f'"namespace": duplicate of robots[{seen[entry.namespace]}]')
        seen[entry.namespace] = index
        entries.append(entry)
    return FleetSpec(world=world, robots=tuple(entries), source=source)


def fleet_from_robot_args(items: Sequence[str], world: str = 'warehouse') -> FleetSpec:
    """A fleet of the package's robot from ``['robot1:0,0,0', 'robot2:2,0,1.57']`` (the
    ``robots`` parameter: ``namespace[:x,y[,yaw]]``).

    :raise ConfigError: naming the item and what is wrong with it
    """
    robots = []
    for item in items:
        if not item:
            continue
        namespace, _, pose = item.partition(':')
        values = pose.split(',') if pose else []
        if len(values) not in (0, 2, 3):
            raise ConfigError(f'robots: {item!r}: expected namespace[:x,y[,yaw]]')
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            raise ConfigError(f'robots: {item!r}: x, y, yaw must be numbers') from None
        robot: dict[str, Any] = {'namespace': namespace}
        if numbers:
            robot['pose'] = dict(zip(('x', 'y', 'yaw'), numbers, strict=False))
        robots.append(robot)
    return parse_fleet({'world': world, 'robots': robots}, source='robots parameter')


def _robot(item: Any, index: int, source: str, base_dir: Path | None,
           shared: Mapping[str, Any]) -> RobotEntry:
    where = f'{source}: robots[{index}]'
    if not isinstance(item, Mapping):
        raise ConfigError(f'{where}: expected a mapping with keys {", ".join(_ROBOT_KEYS)}')
    namespace = item.get('namespace')
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace.strip('/')):
        raise ConfigError(f'{where}: key "namespace": a ROS namespace (letters, digits, "_", '
                          f'"/"-separated, each part starting with a letter) is required, got '
                          f'{namespace!r}')
    namespace = namespace.strip('/')
    where = f'{where} (namespace "{namespace}")'
    _no_unknown(item, _ROBOT_KEYS, where)
    description = item.get('description') or {}
    if not isinstance(description, Mapping):
        raise ConfigError(f'{where}: key "description": expected a mapping with keys '
                          f'{", ".join(_DESCRIPTION_KEYS)}')
    _no_unknown(description, _DESCRIPTION_KEYS, where, 'description.')
    file = description.get('file') or ''
    if not isinstance(file, str):
        raise ConfigError(f'{where}: key "description.file": a path, got {file!r}')
    xacro_args = description.get('xacro_args') or {}
    if isinstance(xacro_args, Mapping):
        xacro_args = {str(k): str(v) for k, v in xacro_args.items()}
    elif isinstance(xacro_args, Sequence) and not isinstance(xacro_args, str):
        xacro_args = parse_name_value_args([str(a) for a in xacro_args],
                                           f'{where}: key "description.xacro_args"')
    else:
        raise ConfigError(f'{where}: key "description.xacro_args": a mapping or a list of '
                          f'"name:=value", got {xacro_args!r}')
    pose = item.get('pose') or {}
    if not isinstance(pose, Mapping):
        raise ConfigError(f'{where}: key "pose": expected a mapping with keys '
                          f'{", ".join(_POSE_KEYS)}')
    _no_unknown(pose, _POSE_KEYS, where, 'pose.')
    values = {}
    for key in _POSE_KEYS:
        value = pose.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or abs(value) > 1e6:
            raise ConfigError(f'{where}: key "pose.{key}": a finite number within 1e6, got '
                              f'{value!r}')
        values[key] = float(value)
    parameters = {**shared, **_parameters(item.get('parameters') or {},
                                          f'{where}: key "parameters"')}
    return RobotEntry(namespace=namespace, description_file=_relative(file, base_dir),
                      xacro_args=xacro_args, pose=StartPose(**values), parameters=parameters)


def _parameters(values: Any, where: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ConfigError(f'{where}: expected a mapping of parameters')
    unknown = sorted(set(values) - set(ROBOT_PARAMETERS))
    if unknown:
        raise ConfigError(f'{where}: unknown key(s) {unknown}; known: '
                          f'{", ".join(ROBOT_PARAMETERS)}')
    out = {}
    for name, value in values.items():
        default = ROBOT_PARAMETERS[name][0]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
                  and math.isfinite(value) and value > 0)
            value = float(value) if ok else value
        else:
            ok = isinstance(value, str)
        if name == 'unknown_joints' and value not in ('reject', 'ignore'):
            ok = False
        if not ok:
            raise ConfigError(f'{where}: key "{name}": bad value {value!r} '
                              f'({ROBOT_PARAMETERS[name][1]})')
        out[name] = value
    return out


def _no_unknown(mapping: Mapping[str, Any], known: tuple[str, ...], where: str,
                prefix: str = '') -> None:
    unknown = sorted(str(k) for k in set(mapping) - set(known))
    if unknown:
        raise ConfigError(f'{where}: unknown key(s) {[prefix + k for k in unknown]}; known: '
                          f'{", ".join(prefix + k for k in known)}')


def _relative(path: str, base_dir: Path | None) -> str:
    if not path or base_dir is None or Path(path).expanduser().is_absolute():
        return path
    candidate = base_dir / path
    return str(candidate) if candidate.exists() or '/' in path else path
