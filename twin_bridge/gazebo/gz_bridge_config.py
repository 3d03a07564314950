"""ros_gz_bridge configuration for a twin robot: generate it, load it, validate it.

The YAML format is the one ``parameter_bridge`` reads through its ``config_file`` parameter
(ros_gz ``bridge_config.cpp``): a list of maps with ``topic_name`` or ``ros_topic_name`` /
``gz_topic_name``, ``ros_type_name``, ``gz_type_name``, ``direction`` and optional queue sizes
and ``lazy``. That file holds topics only; service bridges (``set_pose``) are passed to the
same node as command-line arguments, see :meth:`ServiceBridge.argument`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from twin_bridge.errors import ConfigError
from twin_bridge.gazebo.gz_topics import DEFAULT_GZ_TOPIC_PREFIX, GzTopics, ros_name, world_service

if TYPE_CHECKING:  # pragma: no cover - typing only
    from twin_bridge.description.robot_description import RobotDescription

__all__ = [
    'ALLOWED_KEYS',
    'BIDIRECTIONAL',
    'CLOCK_TOPIC',
    'DIRECTIONS',
    'GZ_TO_ROS',
    'ROS_TO_GZ',
    'SERVICE_TYPES',
    'TYPE_PAIRS',
    'BridgeConfig',
    'BridgeEntry',
    'ServiceBridge',
    'clock_bridge_argument',
    'generate_bridge_config',
    'load_bridge_config',
    'merge_services',
    'parse_bridge_config',
    'required_bridge_config',
]

BIDIRECTIONAL = 'BIDIRECTIONAL'
GZ_TO_ROS = 'GZ_TO_ROS'
ROS_TO_GZ = 'ROS_TO_GZ'
DIRECTIONS = (BIDIRECTIONAL, GZ_TO_ROS, ROS_TO_GZ)
CLOCK_TOPIC = '/clock'
CLOCK_TYPES = ('rosgraph_msgs/msg/Clock', 'gz.msgs.Clock')

# Keys parameter_bridge's YAML reader knows (ros_gz bridge_config.cpp, Jazzy and later).
ALLOWED_KEYS = frozenset({
    'topic_name', 'ros_topic_name', 'gz_topic_name', 'ros_type_name', 'gz_type_name',
    'direction', 'subscriber_queue', 'publisher_queue', 'lazy', 'publish_optical_frame',
})

# ROS type -> gz types the bridge converts it to (ros_gz_bridge README; the twin uses the
# first block, the rest are common ones a user's robot may add).
TYPE_PAIRS: dict[str, frozenset[str]] = {
    'sensor_msgs/msg/LaserScan': frozenset({'gz.msgs.LaserScan'}),
    'nav_msgs/msg/Odometry': frozenset({'gz.msgs.Odometry', 'gz.msgs.OdometryWithCovariance'}),
    'sensor_msgs/msg/JointState': frozenset({'gz.msgs.Model'}),
    'rosgraph_msgs/msg/Clock': frozenset({'gz.msgs.Clock'}),
    'std_msgs/msg/Float64': frozenset({'gz.msgs.Double'}),
    'geometry_msgs/msg/Twist': frozenset({'gz.msgs.Twist'}),
    'geometry_msgs/msg/Pose': frozenset({'gz.msgs.Pose'}),
    'tf2_msgs/msg/TFMessage': frozenset({'gz.msgs.Pose_V'}),
    'geometry_msgs/msg/PoseStamped': frozenset({'gz.msgs.Pose'}),
    'geometry_msgs/msg/PoseArray': frozenset({'gz.msgs.Pose_V'}),
    'geometry_msgs/msg/TwistStamped': frozenset({'gz.msgs.Twist'}),
    'geometry_msgs/msg/TransformStamped': frozenset({'gz.msgs.Pose'}),
    'sensor_msgs/msg/Imu': frozenset({'gz.msgs.IMU'}),
    'sensor_msgs/msg/Image': frozenset({'gz.msgs.Image'}),
    'sensor_msgs/msg/CameraInfo': frozenset({'gz.msgs.CameraInfo'}),
    'sensor_msgs/msg/PointCloud2': frozenset({'gz.msgs.PointCloudPacked'}),
    'sensor_msgs/msg/BatteryState': frozenset({'gz.msgs.BatteryState'}),
    'sensor_msgs/msg/NavSatFix': frozenset({'gz.msgs.NavSat'}),
    'std_msgs/msg/Bool': frozenset({'gz.msgs.Boolean'}),
    'std_msgs/msg/Empty': frozenset({'gz.msgs.Empty'}),
    'std_msgs/msg/Float32': frozenset({'gz.msgs.Float'}),
    'std_msgs/msg/Int32': frozenset({'gz.msgs.Int32'}),
    'std_msgs/msg/String': frozenset({'gz.msgs.StringMsg'}),
}

# ROS service type -> (gz request, gz response), for services bridged from ROS into Gazebo.
SERVICE_TYPES: dict[str, tuple[str, str]] = {
    'ros_gz_interfaces/srv/SetEntityPose': ('gz.msgs.Pose', 'gz.msgs.Boolean'),
    'ros_gz_interfaces/srv/ControlWorld': ('gz.msgs.WorldControl', 'gz.msgs.Boolean'),
    'ros_gz_interfaces/srv/SpawnEntity': ('gz.msgs.EntityFactory', 'gz.msgs.Boolean'),
    'ros_gz_interfaces/srv/DeleteEntity': ('gz.msgs.Entity', 'gz.msgs.Boolean'),
}


def _canonical_gz_type(gz_type: str) -> str:
    """Older configs spell gz types ``ignition.msgs.X``; the bridge accepts both."""
    return 'gz.msgs.' + gz_type[len('ignition.msgs.'):] if gz_type.startswith(
        'ignition.msgs.') else gz_type


@dataclass(frozen=True)
class BridgeEntry:
    """One bridged topic (one item of the YAML list)."""

    ros_topic: str
    gz_topic: str
    ros_type: str
    gz_type: str
    direction: str = BIDIRECTIONAL
    subscriber_queue: int | None = None
    publisher_queue: int | None = None
    lazy: bool | None = None

    @property
    def to_ros(self) -> bool:
        """Messages flow from Gazebo to ROS."""
        return self.direction in (GZ_TO_ROS, BIDIRECTIONAL)

    @property
    def to_gz(self) -> bool:
        """Messages flow from ROS to Gazebo."""
        return self.direction in (ROS_TO_GZ, BIDIRECTIONAL)

    def covers(self, needed: BridgeEntry) -> bool:
        """True if this entry bridges what ``needed`` asks for (same names and types, and
        at least its direction)."""
        return (self.ros_topic == needed.ros_topic and self.gz_topic == needed.gz_topic
                and self.ros_type == needed.ros_type
                and _canonical_gz_type(self.gz_type) == _canonical_gz_type(needed.gz_type)
                and (self.to_ros or not needed.to_ros) and (self.to_gz or not needed.to_gz))

    def to_dict(self) -> dict[str, Any]:
        """The YAML map parameter_bridge reads."""
        out: dict[str, Any] = {}
        if self.ros_topic == self.gz_topic:
            out['topic_name'] = self.ros_topic
        else:
            out['ros_topic_name'] = self.ros_topic
            out['gz_topic_name'] = self.gz_topic
        out['ros_type_name'] = self.ros_type
        out['gz_type_name'] = self.gz_type
        out['direction'] = self.direction
        for key in ('subscriber_queue', 'publisher_queue', 'lazy'):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class ServiceBridge:
    """A Gazebo service exposed as a ROS service (``parameter_bridge`` positional argument)."""

    service: str
    ros_type: str

    def argument(self) -> str:
        """``/world/w/set_pose@ros_gz_interfaces/srv/SetEntityPose@gz.msgs.Pose@gz.msgs.Boolean``."""
        request, response = SERVICE_TYPES[self.ros_type]
        return f'{self.service}@{self.ros_type}@{request}@{response}'


@dataclass(frozen=True)
class BridgeConfig:
    """Everything one ``parameter_bridge`` process bridges."""

    entries: tuple[BridgeEntry, ...] = ()
    services: tuple[ServiceBridge, ...] = field(default_factory=tuple)

    @property
    def has_clock(self) -> bool:
        """True if ``/clock`` is among the topics."""
        return any(e.ros_topic == CLOCK_TOPIC for e in self.entries)

    def entry(self, ros_topic: str) -> BridgeEntry | None:
        """The entry bridging ``ros_topic`` (``None`` if none)."""
        return next((e for e in self.entries if e.ros_topic == ros_topic), None)

    def missing(self, required: BridgeConfig) -> list[str]:
        """Descriptions of the topics and services of ``required`` this config does not bridge."""
        out = [f'{need.ros_topic} [{need.ros_type} {need.direction}]'
               for need in required.entries if not any(e.covers(need) for e in self.entries)]
        have = {(s.service, s.ros_type) for s in self.services}
        out += [f'service {s.service} [{s.ros_type}]' for s in required.services
                if (s.service, s.ros_type) not in have]
        return out

    def to_yaml(self, header: str = '') -> str:
        """The YAML text for ``config_file`` (topics only), with an optional comment header."""
        lines = [f'# {line}'.rstrip() for line in header.splitlines()] if header else []
        body = yaml.safe_dump([e.to_dict() for e in self.entries], sort_keys=False,
                              default_flow_style=False) if self.entries else '[]\n'
        return '\n'.join(lines) + ('\n' if lines else '') + body

    def arguments(self) -> list[str]:
        """Positional ``parameter_bridge`` arguments (the service bridges)."""
        return [s.argument() for s in self.services]


def clock_bridge_argument() -> str:
    """The one ``/clock`` bridge (Gazebo -> ROS), as a ``parameter_bridge`` argument."""
    return f'{CLOCK_TOPIC}@{CLOCK_TYPES[0]}[{CLOCK_TYPES[1]}'


def required_bridge_config(robot: RobotDescription, *, world_name: str | None = None,
                           gz_topic_prefix: str = DEFAULT_GZ_TOPIC_PREFIX,
                           namespace: str = '') -> BridgeConfig:
    """What the twin node's Gazebo backend needs bridged, and nothing else (no ``/clock``).

    Gazebo -> ROS: lidar scan (if the robot has a lidar; a 3D lidar's point cloud too),
    odometry, joint states.
    ROS -> Gazebo: one position command per movable joint (``std_msgs/Float64`` ->
    ``gz.msgs.Double``). Service (if ``world_name`` is given): ``/world/<w>/set_pose``.
    ROS names are the gz names under ``namespace``.
    """
    topics = GzTopics.for_robot(robot, gz_topic_prefix)

    def bridged(gz_topic: str, ros_type: str, gz_type: str, direction: str,
                **queues: int) -> BridgeEntry:
        return BridgeEntry(ros_name(gz_topic, namespace), gz_topic, ros_type, gz_type,
                           direction, **queues)

    entries = []
    if robot.lidar is not None:
        entries.append(bridged(topics.scan, 'sensor_msgs/msg/LaserScan', 'gz.msgs.LaserScan',
                               GZ_TO_ROS))
        if robot.lidar.vertical_samples > 1:  # a 3D lidar: its cloud too
            entries.append(bridged(topics.points, 'sensor_msgs/msg/PointCloud2',
                                   'gz.msgs.PointCloudPacked', GZ_TO_ROS))
    entries.append(bridged(topics.odometry, 'nav_msgs/msg/Odometry', 'gz.msgs.Odometry',
                           GZ_TO_ROS))
    entries.append(bridged(topics.joint_states, 'sensor_msgs/msg/JointState', 'gz.msgs.Model',
                           GZ_TO_ROS))
    # Commands: only the newest position matters, so a queue of 1 never builds a backlog.
    for joint in robot.movable_joint_names:
        entries.append(bridged(topics.joint_command(joint), 'std_msgs/msg/Float64',
                               'gz.msgs.Double', ROS_TO_GZ, subscriber_queue=1,
                               publisher_queue=1))
    services = ()
    if world_name is not None:
        services = (ServiceBridge(world_service(world_name, 'set_pose'),
                                  'ros_gz_interfaces/srv/SetEntityPose'),)
    return BridgeConfig(tuple(entries), services)


def generate_bridge_config(robot: RobotDescription, *, world_name: str | None = None,
                           gz_topic_prefix: str = DEFAULT_GZ_TOPIC_PREFIX,
                           namespace: str = '', include_clock: bool = False) -> BridgeConfig:
    """The bridge configuration for a twin robot.

    :param robot: the robot description (its movable joints and lidar decide the topics)
    :param world_name: Gazebo world name; adds the ``set_pose`` service bridge when given
    :param gz_topic_prefix: the xacro arg ``gz_topic_prefix`` the robot was expanded with
    :param namespace: ROS namespace of the twin (ROS names are the gz names under it)
    :param include_clock: also bridge ``/clock`` here (the launch file bridges it in a
        separate, light bridge process instead, so heavy scans never delay the clock)
    """
    required = required_bridge_config(robot, world_name=world_name,
                                      gz_topic_prefix=gz_topic_prefix, namespace=namespace)
    if not include_clock:
        return required
    clock = BridgeEntry(CLOCK_TOPIC, CLOCK_TOPIC, *CLOCK_TYPES, GZ_TO_ROS)
    return BridgeConfig((clock, *required.entries), required.services)


def _topic_names(raw: dict[str, Any], where: str) -> tuple[str, str]:
    topic, ros_topic, gz_topic = (raw.get(k) for k in ('topic_name', 'ros_topic_name',
                                                      'gz_topic_name'))
    for key in ('topic_name', 'ros_topic_name', 'gz_topic_name'):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise ConfigError(f'{where}: {key} must be a non-empty string')
    if topic and (ros_topic or gz_topic):
        raise ConfigError(f'{where}: topic_name and ros_topic_name/gz_topic_name are '
                          'mutually exclusive')
    if topic:
        return topic, topic
    if not ros_topic and not gz_topic:
        raise ConfigError(f'{where}: needs topic_name or ros_topic_name/gz_topic_name')
    return ros_topic or gz_topic, gz_topic or ros_topic


def _parse_entry(raw: Any, where: str) -> BridgeEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f'{where}: must be a map, got {type(raw).__name__}')
    unknown = sorted(str(k) for k in raw if k not in ALLOWED_KEYS)
    if unknown:
        raise ConfigError(f'{where}: unknown key(s) {unknown} (allowed: {sorted(ALLOWED_KEYS)};'
                          ' QoS goes in qos_overrides.* node parameters, not here)')
    ros_topic, gz_topic = _topic_names(raw, where)
    ros_type, gz_type = raw.get('ros_type_name'), raw.get('gz_type_name')
    if not isinstance(ros_type, str) or not isinstance(gz_type, str) or not ros_type \
            or not gz_type:
        raise ConfigError(f'{where}: both ros_type_name and gz_type_name must be set')
    if ros_type not in TYPE_PAIRS:
        raise ConfigError(f'{where} ({ros_topic}): ROS type {ros_type!r} is not one the bridge '
                          f'converts (known: {sorted(TYPE_PAIRS)})')
    if _canonical_gz_type(gz_type) not in TYPE_PAIRS[ros_type]:
        raise ConfigError(f'{where} ({ros_topic}): {ros_type} bridges to '
                          f'{sorted(TYPE_PAIRS[ros_type])}, not {gz_type!r}')
    direction = raw.get('direction', BIDIRECTIONAL)
    if direction not in DIRECTIONS:
        raise ConfigError(f'{where} ({ros_topic}): direction {direction!r} is not one of '
                          f'{list(DIRECTIONS)}')
    queues = {}
    for key in ('subscriber_queue', 'publisher_queue'):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f'{where} ({ros_topic}): {key} must be a positive integer, '
                                  f'got {value!r}')
            queues[key] = value
    lazy = raw.get('lazy')
    if lazy is not None and not isinstance(lazy, bool):
        raise ConfigError(f'{where} ({ros_topic}): lazy must be true or false, got {lazy!r}')
    if raw.get('publish_optical_frame') and direction != GZ_TO_ROS:
        raise ConfigError(f'{where} ({ros_topic}): publish_optical_frame needs GZ_TO_ROS')
    return BridgeEntry(ros_topic, gz_topic, ros_type, gz_type, direction, lazy=lazy, **queues)


def parse_bridge_config(data: Any, *, source: str = '<bridge config>') -> BridgeConfig:
    """Validate parsed YAML (a list of maps) into a :class:`BridgeConfig`.

    Checks: allowed keys, topic-name keys, known ROS<->gz type pair, direction, queue sizes,
    no ROS or gz topic bridged twice in the same direction, ``/clock`` at most once and only
    Gazebo -> ROS.

    :raise ConfigError: naming ``source``, the entry index and the topic
    """
    if data is None:
        data = []
    if not isinstance(data, list):
        raise ConfigError(f'{source}: top level must be a YAML list of bridge entries, '
                          f'got {type(data).__name__}')
    entries = [_parse_entry(raw, f'{source}: entry {i}') for i, raw in enumerate(data)]
    seen: dict[tuple[str, str], int] = {}
    for i, entry in enumerate(entries):
        keys = [('ros', entry.ros_topic)] if entry.to_ros else []
        keys += [('gz', entry.gz_topic)] if entry.to_gz else []
        for side, name in keys:
            if (side, name) in seen:
                raise ConfigError(f'{source}: entry {i} bridges {name} towards {side.upper()} '
                                  f'again (already in entry {seen[(side, name)]})')
            seen[(side, name)] = i
    clocks = [i for i, e in enumerate(entries)
              if e.ros_topic == CLOCK_TOPIC or e.ros_type == CLOCK_TYPES[0]]
    if len(clocks) > 1:
        raise ConfigError(f'{source}: /clock is bridged {len(clocks)} times (entries {clocks}); '
                          'bridge it exactly once')
    for i in clocks:
        if entries[i].direction != GZ_TO_ROS:
            raise ConfigError(f'{source}: entry {i}: /clock must be bridged GZ_TO_ROS only '
                              '(Gazebo is the only clock source)')
    return BridgeConfig(tuple(entries))


def load_bridge_config(path: str | Path, *, robot: RobotDescription | None = None,
                       gz_topic_prefix: str = DEFAULT_GZ_TOPIC_PREFIX,
                       namespace: str = '') -> BridgeConfig:
    """Load and validate a bridge YAML file; with ``robot``, also require every topic the
    twin node's Gazebo backend uses (see :func:`required_bridge_config`).

    :raise ConfigError: naming the file and what is wrong or missing
    """
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except OSError as exc:
        raise ConfigError(f'{path}: cannot read bridge config: {exc}') from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path}: not valid YAML: {exc}') from exc
    config = parse_bridge_config(data, source=str(path))
    if robot is not None:
        missing = config.missing(required_bridge_config(
            robot, gz_topic_prefix=gz_topic_prefix, namespace=namespace))
        if missing:
            raise ConfigError(f'{path}: does not bridge what the twin needs: '
                              + '; '.join(missing))
    return config


def merge_services(config: BridgeConfig, services: Iterable[ServiceBridge]) -> BridgeConfig:
    """``config`` with ``services`` added (a loaded YAML has no services of its own)."""
    have = set(config.services)
    return BridgeConfig(config.entries,
                        config.services + tuple(s for s in services if s not in have))
