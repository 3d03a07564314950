"""twin_mqtt's parameters: the shipped YAML, namespaces, and bad values named."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from twin_bridge.errors import ConfigError
from twin_bridge.mqtt.bridge_config import PARAMETERS, MqttBridgeConfig, ros_topic
from twin_bridge.mqtt.broker_settings import BrokerSettings
from twin_bridge.mqtt.schema import VelocityCommand
from twin_bridge.mqtt.topics import COMMAND_STREAM, VIRTUAL_STREAMS, mqtt_qos, robot_topics
from twin_bridge.mqtt.twin_adapter import MqttTwinAdapter

CONFIG_YAML = Path(__file__).resolve().parent.parent / 'config' / 'twin_mqtt.yaml'


def test_shipped_yaml_sets_every_parameter_to_a_valid_value():
    values = yaml.safe_load(CONFIG_YAML.read_text(encoding='utf-8'))['/**']['ros__parameters']
    assert set(values) == set(PARAMETERS)
    for name, value in values.items():
        assert type(value) is type(PARAMETERS[name][0]), name
    config = MqttBridgeConfig.from_values(values)
    assert config.namespaces == {'robot1': '/robot1'}
    assert config.state_qos == 0
    assert config.forward_commands is False  # robots get only the virtual state


def test_namespaces_default_to_the_robot_name_and_map_explicitly():
    config = MqttBridgeConfig.from_values(
        {'robots': ['a', 'b', 'c'], 'namespaces': ['b:=/fleet/b2', 'c:=/'],
         'state_qos': 'reliable'})
    assert config.namespaces == {'a': '/a', 'b': '/fleet/b2', 'c': '/'}
    assert [ros_topic(ns, 'virtual/odom') for ns in config.namespaces.values()] == [
        '/a/virtual/odom', '/fleet/b2/virtual/odom', '/virtual/odom']
    assert config.state_qos == 1


@pytest.mark.parametrize(('values', 'match'), [
    ({'robots': ['']}, 'robots: name at least one'),
    ({'robots': ['a', 'a']}, 'given twice'),
    ({'robots': ['a/b']}, 'one topic level'),
    ({'robots': ['a+']}, 'robot name'),
    ({'prefix': 'twin/#'}, 'prefix'),
    ({'namespaces': ['zz:=/z']}, r"\['zz'\] not among robots"),
    ({'namespaces': ['robot1:=relative']}, 'not an absolute ROS namespace'),
    ({'robots': ['a', 'b'], 'namespaces': ['a:=/x', 'b:=/x']}, 'share a namespace'),
    ({'state_qos': 'exactly_once'}, 'state_qos'),
    ({'stale_timeout': 0.0}, 'stale_timeout'),
    ({'broker_port': 70000}, 'port'),
    ({'password': 'secret'}, 'without a username'),
    ({'nonsense': 1}, 'unknown parameters'),
    ({'forward_commands': 'yes'}, 'forward_commands'),
])
def test_bad_values_are_named(values, match):
    with pytest.raises(ConfigError, match=match):
        MqttBridgeConfig.from_values(values)


def test_topics_and_qos_mapping():
    topics = robot_topics('site/twin', 'r7')
    assert topics.inputs() == ('site/twin/r7/state', 'site/twin/r7/scan')
    assert topics.virtual == {stream: f'site/twin/r7/virtual/{stream}'
                              for stream in VIRTUAL_STREAMS}
    assert (mqtt_qos('reliable'), mqtt_qos('sensor_data')) == (1, 0)
    assert VIRTUAL_STREAMS['odom'] == ('reliable', True)  # latest virtual state retained
    assert VIRTUAL_STREAMS['scan'] == ('sensor_data', False)
    assert topics.command == 'site/twin/r7/virtual/cmd_vel_safe'
    assert COMMAND_STREAM not in VIRTUAL_STREAMS  # never sent with the state


def test_the_adapter_refuses_to_send_commands_unless_enabled():
    adapter = MqttTwinAdapter(BrokerSettings(), 'twin', ['r1'], on_received=print)
    command = VelocityCommand(np.zeros(3), np.zeros(3), 0)
    with pytest.raises(PermissionError, match='forward_commands'):
        adapter.send_command('r1', command)
