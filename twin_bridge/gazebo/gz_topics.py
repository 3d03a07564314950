"""Gazebo topic and service naming shared by the robot description, bridge config and backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re
import xml.etree.ElementTree as ET

from twin_bridge.errors import ConfigError, WorldLoadError

__all__ = [
    'DEFAULT_GZ_TOPIC_PREFIX',
    'GzTopics',
    'normalize_prefix',
    'ros_name',
    'validate_name',
    'world_name_from_sdf',
    'world_service',
]

DEFAULT_GZ_TOPIC_PREFIX = '/twin'
# The subset of names valid as both a gz-transport topic and a ROS 2 topic: slash-separated
# tokens of letters, digits and underscores, no token starting with a digit.
_TOKEN = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def validate_name(name: str, what: str = 'topic') -> str:
    """Check that ``name`` is an absolute name usable on both the gz and the ROS side.

    :param name: e.g. ``/twin/joint/pan_joint/cmd_pos``
    :param what: what the name is, for the error message
    :return: ``name`` unchanged
    :raise ConfigError: naming the offending token
    """
    if not isinstance(name, str) or not name.startswith('/') or name == '/':
        raise ConfigError(f'{what} name {name!r} must be absolute (start with "/")')
    for token in name[1:].split('/'):
        if not _TOKEN.match(token):
            raise ConfigError(
                f'{what} name {name!r}: token {token!r} is not letters, digits and underscores '
                '(not starting with a digit)')
    return name


def normalize_prefix(prefix: str) -> str:
    """``'twin/'`` -> ``'/twin'``; ``''`` or ``'/'`` -> ``''`` (no prefix).

    :raise ConfigError: when a token is not a valid topic token
    """
    stripped = prefix.strip().strip('/')
    if not stripped:
        return ''
    return validate_name('/' + stripped, 'gz topic prefix')


def ros_name(gz_name: str, namespace: str = '') -> str:
    """The ROS-side name a gz topic is bridged to: the gz name under the ROS ``namespace``.

    ``ros_name('/twin/scan', 'robot1')`` is ``'/robot1/twin/scan'``. A node running in that
    namespace reaches it with the relative name ``twin/scan``.
    """
    return normalize_prefix(namespace) + validate_name(gz_name)


def world_service(world_name: str, service: str) -> str:
    """Name of a world-scoped Gazebo service, e.g. ``/world/warehouse/set_pose``.

    :raise ConfigError: if the world name cannot be part of a topic name
    """
    if not _TOKEN.match(world_name or ''):
        raise ConfigError(
            f'world name {world_name!r} cannot be used in Gazebo service names '
            '(letters, digits, underscores)')
    return validate_name(f'/world/{world_name}/{service}', 'service')


@dataclass(frozen=True)
class GzTopics:
    """The gz topics of one twin robot (xacro arg ``gz_topic_prefix``) and of its world.

    These must match ``urdf/twin_robot.urdf.xacro``: lidar ``<prefix>/scan``, OdometryPublisher
    ``<prefix>/odometry``, JointStatePublisher ``<prefix>/joint_states`` and one
    JointPositionController per movable joint on ``<prefix>/joint/<joint>/cmd_pos``.
    """

    prefix: str = DEFAULT_GZ_TOPIC_PREFIX
    scan_topic: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, 'prefix', normalize_prefix(self.prefix))
        if self.scan_topic is not None:
            validate_name(self.scan_topic, 'lidar topic')

    @classmethod
    def for_robot(cls, robot: object, prefix: str = DEFAULT_GZ_TOPIC_PREFIX) -> GzTopics:
        """Topics of ``robot`` (a ``RobotDescription``): the lidar's own absolute ``<topic>``
        wins over ``<prefix>/scan``, since that is where Gazebo publishes it."""
        lidar = getattr(robot, 'lidar', None)
        topic = getattr(lidar, 'topic', None)
        default = cls(prefix)
        if isinstance(topic, str) and topic.startswith('/') and topic != default.scan:
            return cls(prefix, validate_name(topic, 'lidar topic'))
        return default

    @property
    def scan(self) -> str:
        """Lidar scans (``gz.msgs.LaserScan``)."""
        return self.scan_topic or f'{self.prefix}/scan'

    @property
    def points(self) -> str:
        """A 3D lidar's point cloud (``gz.msgs.PointCloudPacked``): gz-sensors publishes it on
        the lidar's topic + ``/points``."""
        return f'{self.scan}/points'

    @property
    def odometry(self) -> str:
        """Model odometry (``gz.msgs.Odometry``)."""
        return f'{self.prefix}/odometry'

    @property
    def joint_states(self) -> str:
        """Joint states (``gz.msgs.Model``)."""
        return f'{self.prefix}/joint_states'

    def joint_command(self, joint: str) -> str:
        """Position command topic of one joint (``gz.msgs.Double``).

        :raise ConfigError: if the joint name cannot be part of a topic name
        """
        return validate_name(f'{self.prefix}/joint/{joint}/cmd_pos', f'joint {joint!r} command')

    def joint_commands(self, joints: tuple[str, ...] | list[str]) -> dict[str, str]:
        """``{joint: command topic}`` for every joint, in the given order."""
        return {joint: self.joint_command(joint) for joint in joints}


def world_name_from_sdf(path: str | Path) -> str:
    """The ``name`` of the (first) ``<world>`` in an SDF file: Gazebo's world service scope.

    :raise WorldLoadError: if the file is missing, not XML, or has no named ``<world>``
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError as exc:
        raise WorldLoadError(f'{path}: world file not found') from exc
    except (ET.ParseError, OSError) as exc:
        raise WorldLoadError(f'{path}: cannot read world file: {exc}') from exc
    world = root if root.tag == 'world' else root.find('world')
    if world is None:
        raise WorldLoadError(f'{path}: no <world> element under <{root.tag}>')
    name = (world.get('name') or '').strip()
    if not name:
        raise WorldLoadError(f'{path}: <world> has no name attribute')
    return name
