"""MQTT topic names of one robot, and the QoS each stream uses (the ROS <-> MQTT mapping)."""

from __future__ import annotations

from dataclasses import dataclass

from twin_bridge.errors import ConfigError

__all__ = ['COMMAND_STREAM', 'VIRTUAL_STREAMS', 'RobotTopics', 'mqtt_qos', 'robot_topics']

#: The twin's outputs sent to the robot: stream -> (ROS reliability, retained on the broker).
#: The latest virtual state is retained, so a robot that (re)connects has it at once; scans
#: are a stream (best effort, not retained).
VIRTUAL_STREAMS: dict[str, tuple[str, bool]] = {
    'odom': ('reliable', True),
    'joint_states': ('reliable', True),
    'scan': ('sensor_data', False),
}

#: The gated command, sent only with ``forward_commands``: QoS 0 and NEVER retained (a robot
#: that reconnects must not find an old command waiting for it).
COMMAND_STREAM = 'cmd_vel_safe'

_QOS = {'reliable': 1, 'sensor_data': 0, 'best_effort': 0}


def mqtt_qos(reliability: str) -> int:
    """The MQTT QoS of a ROS reliability: reliable -> 1 (at least once), best effort
    (``sensor_data``) -> 0 (at most once).

    :raise ConfigError: for another name
    """
    try:
        return _QOS[reliability]
    except KeyError:
        raise ConfigError(f'unknown reliability {reliability!r}; expected reliable or '
                          'sensor_data') from None


@dataclass(frozen=True)
class RobotTopics:
    """Where one robot's messages go: it publishes ``state`` (and ``scan``) and reads the
    twin's outputs on ``virtual/<stream>`` (and, only if the twin's side forwards commands,
    the gated command on ``command``, ``virtual/cmd_vel_safe``)."""

    state: str
    scan: str
    virtual: dict[str, str]
    command: str

    def inputs(self) -> tuple[str, str]:
        """The topics the robot publishes (what the twin subscribes to)."""
        return self.state, self.scan


def _check_level(text: str, what: str) -> None:
    if not text or any(c in text for c in '+#\0') or text.startswith('$'):
        raise ConfigError(f'{what} {text!r}: an MQTT topic level must be non-empty, without '
                          '"+", "#" or NUL and not start with "$"')


def robot_topics(prefix: str, robot: str) -> RobotTopics:
    """The topics of ``robot`` under ``prefix`` (``twin`` -> ``twin/<robot>/state``).

    :raise ConfigError: a wildcard or empty level in ``prefix``, or a ``/`` in ``robot``
    """
    for level in prefix.split('/'):
        _check_level(level, 'prefix')
    _check_level(robot, 'robot name')
    if '/' in robot:
        raise ConfigError(f'robot name {robot!r}: must be one topic level (no "/")')
    base = f'{prefix}/{robot}'
    return RobotTopics(f'{base}/state', f'{base}/scan',
                       {stream: f'{base}/virtual/{stream}' for stream in VIRTUAL_STREAMS},
                       f'{base}/virtual/{COMMAND_STREAM}')
