"""Plain helpers the launch files call (through ``OpaqueFunction``): no ``launch`` import here.

Everything a launch file would otherwise compute inline — resolving the world, the Gazebo
command line, the spawn arguments, the bridge configuration, the twin node's parameter
overrides and the reason given when a process's exit ends the launch — lives here so it is
unit-tested without ROS installed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
import math
import os
from pathlib import Path
import re
import shutil
import signal
import tempfile
import xml.etree.ElementTree as ET

from twin_bridge.core.name_value import parse_name_value_text
from twin_bridge.description.resources import find_world
from twin_bridge.errors import ConfigError
from twin_bridge.gazebo.gz_bridge_config import (
    BridgeConfig,
    clock_bridge_argument,
    generate_bridge_config,
    load_bridge_config,
    merge_services,
)
from twin_bridge.gazebo.gz_topics import (
    DEFAULT_GZ_TOPIC_PREFIX,
    normalize_prefix,
    world_name_from_sdf,
)

__all__ = [
    'GZ_PLUGIN_PATH_ENV',
    'GZ_RESOURCE_PATH_ENV',
    'BridgeSetup',
    'GazeboTwinPlan',
    'OutputTail',
    'create_arguments',
    'exported_model_paths',
    'gazebo_environment',
    'gz_resource_paths',
    'gz_sim_command',
    'package_uri_packages',
    'parse_bool',
    'parse_float',
    'plan_gazebo_twin',
    'prepare_bridge',
    'require_executable',
    'resolve_world',
    'twin_node_overrides',
    'write_bridge_config',
]

GZ_RESOURCE_PATH_ENV = 'GZ_SIM_RESOURCE_PATH'
GZ_PLUGIN_PATH_ENV = 'GZ_SIM_SYSTEM_PLUGIN_PATH'
_ANSI_ESCAPE = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
_PACKAGE_URI = re.compile(r'package://([A-Za-z0-9_]+)/')
_TRUE = ('true', '1', 'yes', 'on')
_FALSE = ('false', '0', 'no', 'off')


def parse_bool(value: str | bool, name: str) -> bool:
    """A launch argument string as a bool (``true/false/1/0/yes/no/on/off``).

    :raise ConfigError: naming the argument
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f'launch argument {name}:={value!r} is not true or false')


def parse_float(value: str | float, name: str) -> float:
    """A launch argument string as a finite float.

    :raise ConfigError: naming the argument
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f'launch argument {name}:={value!r} is not a number') from None
    if not math.isfinite(number):
        raise ConfigError(f'launch argument {name}:={value!r} must be finite')
    return number


def resolve_world(world: str) -> Path:
    """Absolute path of a world given by name (``warehouse``, ``warehouse.sdf``, looked up in
    this package's ``worlds/``) or by path.

    :raise ResourceNotFoundError: listing the shipped worlds
    """
    return find_world(world).resolve()


def gz_sim_command(world_path: str | Path, *, headless: bool = False, gui: bool = True,
                   run: bool = True, verbosity: int | None = None) -> list[str]:
    """The ``gz sim`` command line (argv, no shell).

    ``headless`` runs the server only with ``--headless-rendering`` (the ogre2 lidar still
    renders, no display needed); ``gui:=false`` alone runs the server only (``-s``).
    ``run`` starts the simulation unpaused (``-r``).

    The launch file runs this directly rather than through ``ros_gz_sim``'s
    ``gz_sim.launch.py``, which starts Gazebo through a shell: launch's shutdown signal then
    reaches only the shell and Gazebo is left running (gazebosim/ros_gz#563), which breaks
    launch tests and repeated launches.

    :raise ConfigError: for a verbosity outside 0..4
    """
    command = ['gz', 'sim'] + (['-r'] if run else [])
    if headless:
        command += ['-s', '--headless-rendering']
    elif not gui:
        command.append('-s')
    if verbosity is not None:
        if not 0 <= int(verbosity) <= 4:
            raise ConfigError(f'gz verbosity must be 0..4, got {verbosity!r}')
        command.append(f'-v{int(verbosity)}')
    return command + [str(world_path)]


def require_executable(program: str, environ: Mapping[str, str], hint: str = '') -> str:
    """The path of ``program`` on ``environ``'s ``PATH``.

    Checked before launch starts a process: launch only logs a program it cannot start
    (no exit event, so nothing would end the launch).

    :raise ConfigError: naming the program, with ``hint`` (what to install)
    """
    path = shutil.which(program, path=environ.get('PATH', os.defpath))
    if path is None:
        raise ConfigError(f'{program} not found on PATH' + (f': {hint}' if hint else ''))
    return path


class OutputTail:
    """The last lines a process wrote, for the reason given when its exit ends the launch.

    Feed it launch's ``ProcessIO`` event texts (:meth:`feed`); :meth:`exit_reason` names the
    process, its exit code and those lines (e.g. the node's FATAL message).
    """

    def __init__(self, name: str, lines: int = 3) -> None:
        self.name = name
        self._keep = lines
        self._lines: deque[str] = deque(maxlen=lines)
        self._partial = ''

    def feed(self, data: bytes | str) -> None:
        """Add output (any chunking: a line may arrive in pieces)."""
        text = data.decode(errors='replace') if isinstance(data, bytes) else data
        *complete, self._partial = (self._partial + text).split('\n')
        self._lines.extend(line for line in map(_clean, complete) if line)

    def exit_reason(self, returncode: int | None) -> str:
        """``'twin_bridge exited with code 1: <last lines>'`` (a signal named when killed)."""
        code = f'code {returncode}'
        if returncode is not None and -returncode in signal.valid_signals():
            code += f' ({signal.Signals(-returncode).name})'
        last = [line for line in (*self._lines, _clean(self._partial)) if line][-self._keep:]
        return f'{self.name} exited with {code}' + (': ' + '\n  '.join(last) if last else '')


def _clean(line: str) -> str:
    """A line without terminal colour codes and surrounding blanks."""
    return _ANSI_ESCAPE.sub('', line).strip()


def package_uri_packages(urdf_xml: str) -> list[str]:
    """Names of the packages a robot description refers to with ``package://`` URIs, in
    order of first use."""
    return list(dict.fromkeys(_PACKAGE_URI.findall(urdf_xml or '')))


def _ament_packages() -> dict[str, str]:
    """``{package: install prefix}`` from the ament index (empty without ament_index_python)."""
    try:
        from ament_index_python.packages import get_packages_with_prefixes
    except ImportError:  # pragma: no cover - ament_index_python is a dependency
        return {}
    try:
        return dict(get_packages_with_prefixes())
    except OSError:  # AMENT_PREFIX_PATH unset: no ROS environment sourced
        return {}


def exported_model_paths(packages: Mapping[str, str] | None = None) -> list[str]:
    """Model and media paths that packages export for Gazebo in their ``package.xml``
    (``<export><gazebo_ros gazebo_model_path="${prefix}/models"/></export>``, ``${prefix}``
    being the package's share directory) - what ``ros_gz_sim``'s ``gz_sim.launch.py`` adds to
    ``GZ_SIM_RESOURCE_PATH``.

    :param packages: ``{package: install prefix}``; default: the ament index
    """
    paths: list[str] = []
    for name, prefix in sorted((_ament_packages() if packages is None else packages).items()):
        share = os.path.join(prefix, 'share', name)
        try:
            root = ET.parse(os.path.join(share, 'package.xml')).getroot()
        except (OSError, ET.ParseError):
            continue  # no or unreadable manifest: nothing exported
        for export in root.iterfind('export/gazebo_ros'):
            for key in ('gazebo_model_path', 'gazebo_media_path'):
                value = export.get(key)
                if value:
                    paths.append(value.replace('${prefix}', share))
    return list(dict.fromkeys(paths))


def gz_resource_paths(urdf_xml: str, packages: Mapping[str, str] | None = None) -> list[str]:
    """Directories Gazebo needs on ``GZ_SIM_RESOURCE_PATH`` for this robot and the shipped
    worlds: the exported model paths (:func:`exported_model_paths`) and, for every
    ``package://<pkg>/...`` URI of the robot, the directory holding ``<pkg>``'s share
    directory (Gazebo resolves ``package://pkg/x`` as ``<path>/pkg/x``). A package missing
    from the index is left out (Gazebo then names the file it cannot find).

    :param packages: ``{package: install prefix}``; default: the ament index
    """
    packages = _ament_packages() if packages is None else packages
    paths = exported_model_paths(packages)
    for name in package_uri_packages(urdf_xml):
        if name in packages:
            paths.append(os.path.join(packages[name], 'share'))
    return list(dict.fromkeys(paths))


def _join_paths(*parts: str | list[str] | None) -> str:
    items: list[str] = []
    for part in parts:
        if isinstance(part, str):
            part = part.split(os.pathsep)
        items += [p for p in part or [] if p]
    return os.pathsep.join(dict.fromkeys(items))


def gazebo_environment(base: Mapping[str, str], resource_paths: list[str]) -> dict[str, str]:
    """Environment additions for the ``gz sim`` process: ``resource_paths`` appended to
    ``GZ_SIM_RESOURCE_PATH`` and ``LD_LIBRARY_PATH`` to ``GZ_SIM_SYSTEM_PLUGIN_PATH`` (so
    systems installed with ROS packages load), as ``gz_sim.launch.py`` does.

    :param base: the environment the process would otherwise get (existing entries first)
    """
    return {
        GZ_RESOURCE_PATH_ENV: _join_paths(base.get(GZ_RESOURCE_PATH_ENV), resource_paths),
        GZ_PLUGIN_PATH_ENV: _join_paths(base.get(GZ_PLUGIN_PATH_ENV),
                                        base.get('LD_LIBRARY_PATH')),
    }


def create_arguments(*, world_name: str, model_name: str, x: float = 0.0, y: float = 0.0,
                     z: float = 0.0, yaw: float = 0.0,
                     topic: str = 'robot_description', file: str | Path = '') -> list[str]:
    """Arguments of ``ros_gz_sim create``: spawn ``model_name`` into ``world_name`` from the
    URDF on ``topic`` (robot_state_publisher's) - or, for an SDF robot, from its model
    ``file`` as it is (sensors and systems included) - at (x, y, z) with heading ``yaw``."""
    if not model_name or not re.match(r'^[A-Za-z0-9_\-]+$', model_name):
        raise ConfigError(f'model_name {model_name!r}: use letters, digits, "_" or "-"')
    pose = {'-x': x, '-y': y, '-z': z, '-Y': yaw}
    source = ['-file', str(file)] if str(file) else ['-topic', topic]
    args = ['-world', world_name, '-name', model_name, *source]
    for flag, value in pose.items():
        args += [flag, repr(parse_float(value, flag.lstrip('-')))]
    return args


def write_bridge_config(config: BridgeConfig, directory: str | Path | None = None,
                        header: str = 'generated by twin_bridge.gazebo.launch_support') -> Path:
    """Write ``config``'s topics to a new YAML file (for ``parameter_bridge``'s
    ``config_file``) and return its path."""
    fd, name = tempfile.mkstemp(prefix='twin_bridge_gz_', suffix='.yaml',
                                dir=str(directory) if directory else None)
    with os.fdopen(fd, 'w', encoding='utf-8') as stream:
        stream.write(config.to_yaml(header))
    return Path(name)


@dataclass(frozen=True)
class BridgeSetup:
    """What the bridge processes of one launch get."""

    config: BridgeConfig
    config_file: Path
    arguments: list[str] = field(default_factory=list)
    clock_arguments: list[str] = field(default_factory=list)


def prepare_bridge(robot: object, *, world_name: str,
                   gz_topic_prefix: str = DEFAULT_GZ_TOPIC_PREFIX, namespace: str = '',
                   bridge_config: str | Path = '',
                   directory: str | Path | None = None) -> BridgeSetup:
    """The bridge for ``robot`` in ``world_name``.

    With ``bridge_config`` empty the config is generated from the robot and written to a
    temporary file; otherwise that file is loaded and must bridge every topic the twin
    needs. The ``set_pose`` service bridge is added either way. ``/clock`` goes to a
    separate clock bridge (``clock_arguments``) unless the config already bridges it, so it
    is bridged exactly once.

    :raise ConfigError: for an invalid or incomplete ``bridge_config``
    """
    generated = generate_bridge_config(robot, world_name=world_name,
                                       gz_topic_prefix=gz_topic_prefix, namespace=namespace)
    if str(bridge_config).strip():
        path = Path(bridge_config).expanduser().resolve()
        config = merge_services(load_bridge_config(path, robot=robot,
                                                   gz_topic_prefix=gz_topic_prefix,
                                                   namespace=namespace), generated.services)
    else:
        config = generated
        path = write_bridge_config(config, directory)
    clock = [] if config.has_clock else [clock_bridge_argument()]
    return BridgeSetup(config, path, config.arguments(), clock)


def twin_node_overrides(*, backend: str, world: str | Path, robot_description_file: str = '',
                        xacro_args: dict[str, str] | None = None,
                        model_name: str = 'twin_robot', gz_world_name: str = '',
                        gz_topic_prefix: str = DEFAULT_GZ_TOPIC_PREFIX,
                        use_sim_time: bool = False, lidar_sensor: str = '') -> dict[str, object]:
    """Parameters the launch files set on the ``twin_bridge`` node on top of its params file
    (names from the node's parameter contract)."""
    if backend not in ('embedded', 'gazebo'):
        raise ConfigError(f'backend {backend!r} is not embedded or gazebo')
    overrides: dict[str, object] = {
        'backend': backend,
        'world': str(world),
        'robot_description_file': str(robot_description_file),
        'model_name': model_name,
        'gz_world_name': gz_world_name,
        'gz_topic_prefix': normalize_prefix(gz_topic_prefix),
        'use_sim_time': bool(use_sim_time),
        'lidar_sensor': str(lidar_sensor).strip(),
        # Always set, so the node expands the robot exactly as robot_state_publisher does;
        # [''] (the node's "no args") because an empty list has no ROS parameter type.
        'robot_description_args': [f'{k}:={v}' for k, v in (xacro_args or {}).items()] or [''],
    }
    return overrides


@dataclass(frozen=True)
class GazeboTwinPlan:
    """Everything ``gazebo_twin.launch.py`` starts, computed from its arguments."""

    gz_command: list[str]
    gz_resource_paths: list[str]
    create_arguments: list[str]
    bridge: BridgeSetup
    twin_parameters: dict[str, object]


def plan_gazebo_twin(*, world: str, robot_description_file: str = '', xacro_args: str = '',
                     headless: str | bool = False, gui: str | bool = True,
                     namespace: str = '', model_name: str = 'twin_robot',
                     bridge_config: str = '', use_sim_time: str | bool = False,
                     x: str | float = 0.0, y: str | float = 0.0, z: str | float = 0.0,
                     yaw: str | float = 0.0,
                     bridge_directory: str | Path | None = None,
                     packages: Mapping[str, str] | None = None,
                     lidar_sensor: str = '') -> GazeboTwinPlan:
    """Resolve the Gazebo twin launch arguments (strings, as launch gives them) into a plan.

    The robot is expanded once here (with ``xacro_args``) so the generated bridge matches
    the joints and lidar Gazebo will actually have; ``gz_topic_prefix`` comes from the xacro
    args (default ``/twin``) so the robot's plugins, the bridge and the node agree.
    ``packages`` (``{package: install prefix}``, default: the ament index) is where the
    Gazebo resource paths are looked up. An SDF robot (``model.sdf``) is spawned from its file,
    with the folder holding its model directory on the resource path (its ``model://`` URIs);
    ``lidar_sensor`` names the lidar the bridge and the node use.

    :raise TwinBridgeError: (a subclass) naming the bad argument, world or robot file
    """
    from twin_bridge.description.robot_description import default_robot_path, load_robot_description

    world_path = resolve_world(world)
    world_name = world_name_from_sdf(world_path)
    args = parse_name_value_text(xacro_args, 'xacro_args')
    prefix = normalize_prefix(args.get('gz_topic_prefix', DEFAULT_GZ_TOPIC_PREFIX))
    robot_file = Path(robot_description_file) if robot_description_file.strip() \
        else default_robot_path()
    robot = load_robot_description(robot_file, args or None, lidar_sensor=lidar_sensor.strip())
    resource_paths = gz_resource_paths(robot.urdf_xml, packages)
    if robot.sdf_path is not None:
        resource_paths.append(str(robot.sdf_path.parent.parent))
    bridge = prepare_bridge(robot, world_name=world_name, gz_topic_prefix=prefix,
                            namespace=namespace, bridge_config=bridge_config,
                            directory=bridge_directory)
    gz_options = {'headless': parse_bool(headless, 'headless'), 'gui': parse_bool(gui, 'gui')}
    return GazeboTwinPlan(
        gz_command=gz_sim_command(world_path, **gz_options),
        gz_resource_paths=resource_paths,
        create_arguments=create_arguments(world_name=world_name, model_name=model_name,
                                          x=x, y=y, z=z, yaw=yaw, file=robot.sdf_path or ''),
        bridge=bridge,
        twin_parameters=twin_node_overrides(
            backend='gazebo', world=world_path, robot_description_file=str(robot_file),
            xacro_args=args, model_name=model_name, gz_world_name=world_name,
            gz_topic_prefix=prefix, use_sim_time=parse_bool(use_sim_time, 'use_sim_time'),
            lidar_sensor=lidar_sensor),
    )

