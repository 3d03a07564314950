"""The MQTT bridge node's parameters: names, defaults, descriptions and validation (no ROS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
import re
from typing import Any

from twin_bridge.core.name_value import parse_name_value_args
from twin_bridge.errors import ConfigError
from twin_bridge.mqtt.broker_settings import BrokerSettings
from twin_bridge.mqtt.topics import mqtt_qos, robot_topics

__all__ = ['PARAMETERS', 'MqttBridgeConfig', 'ros_topic']

#: name -> (default, description): the single source for the node's declarations and --help.
PARAMETERS: dict[str, tuple[Any, str]] = {
    'broker_host': ('127.0.0.1', 'MQTT broker host'),
    'broker_port': (1883, 'MQTT broker port (8883 is the usual TLS port)'),
    'username': ('', 'broker user name ("" = anonymous)'),
    'password': ('', 'broker password (prefer password_file: parameters are visible to '
                     'anyone on the ROS graph)'),
    'password_file': ('', 'file whose first line is the broker password; wins over password'),
    'tls': (False, 'connect over TLS (also on when a tls_* file is given)'),
    'tls_ca_file': ('', 'CA certificate (PEM) to trust ("" = the system\'s)'),
    'tls_cert_file': ('', 'client certificate (PEM), with tls_key_file'),
    'tls_key_file': ('', 'client private key (PEM)'),
    'tls_insecure': (False, 'skip the broker host-name check (throwaway certificates only)'),
    'client_id': ('', 'MQTT client id ("" = twin_mqtt_<pid>)'),
    'keepalive': (10, 's between MQTT keep-alive pings (a dead broker is noticed in 1.5x)'),
    'reconnect_min_delay': (0.1, 's before the first reconnect attempt; doubles per failure'),
    'reconnect_max_delay': (5.0, 's at most between reconnect attempts'),
    'prefix': ('twin', 'MQTT topic prefix: robots publish <prefix>/<robot>/state and read '
                       '<prefix>/<robot>/virtual/{odom,joint_states,scan}'),
    'robots': (['robot1'], 'MQTT robot names (one topic level each)'),
    'namespaces': ([''], 'ROS namespace per robot as robot:=/namespace (default /<robot>; '
                         '/ = no namespace)'),
    'state_qos': ('sensor_data', 'MQTT QoS of the robots\' state and scan subscriptions: '
                                 'sensor_data (QoS 0) | reliable (QoS 1)'),
    'qos_depth': (10, 'history depth of the ROS publishers and subscriptions'),
    'stale_timeout': (0.5, 's without a good state message before a robot is stale (at once '
                           'while the broker is away)'),
    'diagnostics_period': (1.0, 's between /diagnostics messages'),
    'forward_commands': (False, 'ALSO send each robot the twin\'s gated command '
                                '(/<ns>/virtual/cmd_vel_safe) on <prefix>/<robot>/virtual/'
                                'cmd_vel_safe (off: robots get only the virtual state)'),
    'cmd_vel_stamped': (False, 'the gated command is geometry_msgs/TwistStamped (as the twin\'s '
                               'cmd_vel_stamped), else Twist'),
}

_NAMESPACE = re.compile(r'/|(/[A-Za-z_][A-Za-z0-9_]*)+')


def ros_topic(namespace: str, name: str) -> str:
    """``name`` under ``namespace`` (``'/robot1', 'odom'`` -> ``'/robot1/odom'``)."""
    return f'{namespace.rstrip("/")}/{name}'


@dataclass(frozen=True)
class MqttBridgeConfig:
    """Validated values of every parameter in :data:`PARAMETERS`."""

    broker: BrokerSettings
    client_id: str
    prefix: str
    namespaces: dict[str, str]  # robot -> ROS namespace, in the order given
    state_qos: int
    qos_depth: int
    stale_timeout: float
    diagnostics_period: float
    forward_commands: bool = False
    cmd_vel_stamped: bool = False

    @property
    def robots(self) -> list[str]:
        """The robot names, in the order given."""
        return list(self.namespaces)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> MqttBridgeConfig:
        """Check every value (unknown names included) and build the config.

        :raise ConfigError: naming the parameter and the bad value
        """
        unknown = sorted(set(values) - set(PARAMETERS))
        if unknown:
            raise ConfigError(f'unknown parameters {unknown}')
        v = {name: values.get(name, default) for name, (default, _) in PARAMETERS.items()}
        broker = BrokerSettings(
            host=str(v['broker_host']), port=int(v['broker_port']), username=str(v['username']),
            password=str(v['password']), password_file=str(v['password_file']),
            tls=bool(v['tls']), tls_ca_file=str(v['tls_ca_file']),
            tls_cert_file=str(v['tls_cert_file']), tls_key_file=str(v['tls_key_file']),
            tls_insecure=bool(v['tls_insecure']), keepalive=int(v['keepalive']),
            reconnect_min_delay=float(v['reconnect_min_delay']),
            reconnect_max_delay=float(v['reconnect_max_delay']))
        robots = [str(r) for r in v['robots'] if str(r)]
        if not robots:
            raise ConfigError('robots: name at least one robot')
        if len(set(robots)) != len(robots):
            raise ConfigError(f'robots: a name is given twice in {robots}')
        for robot in robots:
            robot_topics(str(v['prefix']), robot)  # raises naming a bad prefix or robot
        given = parse_name_value_args(v['namespaces'], 'namespaces')
        strays = sorted(set(given) - set(robots))
        if strays:
            raise ConfigError(f'namespaces: {strays} not among robots {robots}')
        namespaces = {robot: given.get(robot, f'/{robot}') for robot in robots}
        for robot, namespace in namespaces.items():
            if not _NAMESPACE.fullmatch(namespace):
                raise ConfigError(f'namespaces: {robot}:={namespace!r} is not an absolute ROS '
                                  'namespace (/ or /name[/name...])')
        if len(set(namespaces.values())) != len(namespaces):
            raise ConfigError(f'namespaces: two robots share a namespace in {namespaces}')
        for key in ('stale_timeout', 'diagnostics_period'):
            if not (math.isfinite(float(v[key])) and float(v[key]) > 0):
                raise ConfigError(f'{key}: must be a number > 0, got {v[key]!r}')
        if int(v['qos_depth']) < 1:
            raise ConfigError(f'qos_depth: must be >= 1, got {v["qos_depth"]}')
        try:
            state_qos = mqtt_qos(str(v['state_qos']))
        except ConfigError as exc:
            raise ConfigError(f'state_qos: {exc}') from None
        for key in ('forward_commands', 'cmd_vel_stamped'):
            if not isinstance(v[key], bool):
                raise ConfigError(f'{key}: must be true or false, got {v[key]!r}')
        return cls(broker, str(v['client_id']), str(v['prefix']), namespaces,
                   state_qos, int(v['qos_depth']),
                   float(v['stale_timeout']), float(v['diagnostics_period']),
                   v['forward_commands'], v['cmd_vel_stamped'])
