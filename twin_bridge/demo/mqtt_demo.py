"""``twin_demo --mqtt``: the stand-in robot speaks MQTT instead of ROS.

A mosquitto broker (password required, a free loopback port), the stand-in MQTT robot and
``twin_mqtt`` are started in the demo's process group before the twin; ``twin_mqtt`` maps the
robot to the root namespace, so the twin and the demo's observer see ``/joint_states`` and
``/odom`` as from any ROS robot. The broker is a child: it is stopped with the others.
"""

from __future__ import annotations

import argparse
import secrets
import sys

from twin_bridge.demo.process_group import ProcessGroup
from twin_bridge.errors import ConfigError
from twin_bridge.mqtt.local_broker import (
    free_port,
    mosquitto_path,
    wait_for_port,
    write_broker_files,
)

__all__ = ['MQTT_ROBOT', 'check_mqtt_options', 'mqtt_robot_line', 'start_mqtt_robot']

MQTT_ROBOT = 'robot1'
_PREFIX = 'twin'
_BROKER_TIMEOUT_S = 10.0
_NO_MOSQUITTO = '--mqtt needs mosquitto (Debian: apt-get install mosquitto; ./run.sh installs it)'


def check_mqtt_options(options: argparse.Namespace) -> None:
    """:raise ConfigError: ``--mqtt`` with an option it cannot serve"""
    if not options.mqtt:
        return
    clashes = [flag for flag, on in (('--live', options.live), ('--fault', options.fault),
                                     ('--physical-scan', options.physical_scan),
                                     ('--robots', getattr(options, 'robots', 1) > 1)) if on]
    if clashes:
        raise ConfigError(f'--mqtt cannot be combined with {", ".join(clashes)}')
    if options.joint_states_topic != 'joint_states' or options.odom_topic != 'odom':
        raise ConfigError('--mqtt publishes joint_states and odom: leave --joint-states-topic '
                          'and --odom-topic at their defaults')
    if mosquitto_path() is None:
        raise ConfigError(_NO_MOSQUITTO)


def start_mqtt_robot(group: ProcessGroup, options: argparse.Namespace) -> str:
    """Start the broker, the stand-in MQTT robot (at ``--odom-rate``) and ``twin_mqtt``.

    :return: a line saying where the broker listens and what flows
    :raise ConfigError: mosquitto is missing or does not come up
    """
    exe = mosquitto_path()
    if exe is None:
        raise ConfigError(_NO_MOSQUITTO)
    # A fresh password per run: the files sit in the report's log folder.
    files = write_broker_files(group.log_dir / 'broker', free_port(),
                               password=secrets.token_urlsafe(16))
    broker = group.spawn('mosquitto', [exe, '-c', str(files.config)])
    if not wait_for_port('127.0.0.1', files.port, _BROKER_TIMEOUT_S) or not broker.running():
        raise ConfigError(f'mosquitto did not start:\n{broker.tail()}')
    login = ['--port', str(files.port), '--username', files.username,
             '--password-file', str(files.password_file)]
    group.spawn('mqtt_robot', [sys.executable, '-u', '-m', 'twin_bridge.mqtt.stand_in_robot',
                               *login, '--prefix', _PREFIX, '--robot', MQTT_ROBOT,
                               '--rate', str(options.odom_rate), '--motion', options.motion,
                               '--speed', str(options.speed)])
    group.spawn_node('twin_mqtt', 'twin_bridge.ros.mqtt_bridge_node', {
        'broker_port': files.port, 'username': files.username,
        'password_file': str(files.password_file), 'prefix': _PREFIX,
        'robots': [MQTT_ROBOT], 'namespaces': [f'{MQTT_ROBOT}:=/']})
    return (f'MQTT broker mqtt://{files.username}@127.0.0.1:{files.port} (password required): '
            f'{_PREFIX}/{MQTT_ROBOT}/state at {options.odom_rate:g} Hz -> twin_mqtt -> '
            f'/joint_states + /odom -> twin -> /virtual/* -> {_PREFIX}/{MQTT_ROBOT}/virtual/*')


def mqtt_robot_line(group: ProcessGroup) -> str:
    """The stand-in MQTT robot's closing line (what it sent, what it read back), or ''."""
    robot = group.processes.get('mqtt_robot')
    lines = [line for line in (robot.output() if robot else '').splitlines()
             if line.startswith('stand_in_robot: sent')]
    return lines[-1] if lines else ''
