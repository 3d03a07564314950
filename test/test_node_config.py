"""Tests for node_config: defaults, coercion, validation, the shipped YAML, help."""

from pathlib import Path

import pytest
import yaml

from twin_bridge.core.lidar import LidarSpec
from twin_bridge.errors import ConfigError
from twin_bridge.twin.node_config import (
    COMMAND_INPUT_TOPICS,
    FORWARD_TOPIC,
    INPUT_TOPICS,
    OUTPUT_TOPICS,
    PARAMETERS,
    TwinNodeConfig,
    check_topic_loops,
    help_text,
    parameter_help,
)

CONFIG_YAML = Path(__file__).resolve().parent.parent / 'config' / 'twin_bridge.yaml'

CONTRACT = {
    'backend', 'world', 'robot_description_file', 'robot_description_args',
    'robot_description', 'model_name', 'input_joint_states_topic', 'input_odom_topic',
    'output_joint_states_topic', 'output_odom_topic', 'output_scan_topic', 'output_points_topic',
    'scan_rate',
    'odom_rate', 'joint_states_rate', 'odom_frame', 'base_frame', 'lidar_frame', 'scan_qos',
    'input_qos', 'state_qos', 'qos_depth', 'stale_timeout', 'diagnostics_period',
    'max_future_stamp', 'gz_world_name', 'gz_topic_prefix',
    'unknown_joints',                   # added: ignore joints the twin lacks (H6 finding N2)
    # the drift check and prediction (issue 9)
    'input_scan_topic', 'drift_check', 'drift_false_alarm_rate', 'scan_noise_stddev',
    'output_pose_correction_topic', 'output_world_changes_topic', 'output_scan_residual_topic',
    'output_predicted_path_topic', 'prediction_horizon', 'prediction_rate', 'ensemble_rate',
    'ensemble_members',
    'viewer', 'viewer_port',            # the live view for Foxglove (issue 13)
    'lidar_sensor',                     # the lidar among several ray sensors (issue 10)
    'record',                           # record into an MCAP bag (issue 13)
    # the command gate (issue 11)
    'gate', 'cmd_vel_topic', 'cmd_vel_stamped', 'e_stop_topic', 'stop_horizon', 'safety_margin',
    'source_timeout', 'forward_commands', 'forward_topic',
}


def test_parameters_are_exactly_the_contract_and_defaults_validate():
    assert set(PARAMETERS) == CONTRACT
    config = TwinNodeConfig.from_values({})
    assert config.backend == 'embedded' and config.world == 'warehouse'
    assert config.output_scan_topic == 'virtual/scan'          # relative: namespaces apply
    assert config.scan_qos == 'sensor_data' and config.state_qos == 'reliable'
    assert config.stale_timeout == 0.5 and config.xacro_args == {}
    assert config.base_frame == ''       # the frame whose pose /virtual/odom carries
    assert config.unknown_joints == 'reject'
    assert TwinNodeConfig.from_values({'unknown_joints': 'ignore',
                                       'base_frame': 'chassis'}).base_frame == 'chassis'


def test_shipped_yaml_sets_every_parameter_to_a_valid_value():
    doc = yaml.safe_load(CONFIG_YAML.read_text(encoding='utf-8'))
    params = doc['/**']['ros__parameters']
    assert set(params) == CONTRACT
    config = TwinNodeConfig.from_values(params)
    defaults = TwinNodeConfig.from_values({})
    assert config == defaults


def test_integers_coerced_to_float_and_xacro_args_parsed():
    config = TwinNodeConfig.from_values({'scan_rate': 20, 'robot_description_args': [
        'prefix:=r1_', 'lidar_samples:=360', '']})
    assert config.scan_rate == 20.0 and isinstance(config.scan_rate, float)
    assert config.xacro_args == {'prefix': 'r1_', 'lidar_samples': '360'}


@pytest.mark.parametrize('values, words', [
    ({'backend': 'unreal'}, "backend is 'unreal'"),
    ({'world': ' '}, 'world is empty'),
    ({'scan_qos': 'fast'}, "scan_qos is 'fast'"),
    ({'state_qos': 'best_effort'}, "state_qos is 'best_effort'"),
    ({'scan_rate': -1.0}, 'scan_rate must be >= 0'),
    ({'stale_timeout': 0.0}, 'stale_timeout must be > 0'),
    ({'diagnostics_period': -1}, 'diagnostics_period must be > 0'),
    ({'qos_depth': 0}, 'qos_depth must be >= 1'),
    ({'qos_depth': 2.5}, 'qos_depth must be an integer'),
    ({'scan_rate': 'fast'}, 'scan_rate must be a number'),
    ({'scan_rate': float('nan')}, 'scan_rate must be finite'),
    ({'world': 3}, 'world must be a string'),
    ({'robot_description_args': 'a:=b'}, 'must be a list of strings'),
    ({'drift_check': 1}, 'drift_check must be true or false'),
    ({'drift_false_alarm_rate': 0.0}, 'drift_false_alarm_rate must be in (0, 0.5)'),
    ({'prediction_rate': -1.0}, 'prediction_rate must be >= 0'),
    ({'ensemble_members': 0}, 'ensemble_members must be within 1..1024'),
    ({'viewer_port': 70000}, 'viewer_port must be within 0..65535'),
    ({'viewer': 'yes'}, 'viewer must be true or false'),
    ({'prediction_horizon': 0.0}, 'prediction_horizon must be > 0'),
    ({'output_scan_residual_topic': ''}, 'output_scan_residual_topic must not be empty'),
    ({'robot_description_args': ['novalue']}, "'novalue' is not"),
    ({'output_odom_topic': ''}, 'output_odom_topic must not be empty'),
    ({'odom_frame': ' '}, 'odom_frame must not be empty'),
    ({'unknown_joints': 'drop'}, "unknown_joints is 'drop'; expected one of reject, ignore"),
    ({'colour': 'red'}, "unknown parameter(s) ['colour']"),
    ({'stop_horizon': 0.0}, 'stop_horizon must be > 0'),
    ({'source_timeout': -1.0}, 'source_timeout must be > 0'),
    ({'safety_margin': -0.1}, 'safety_margin must be >= 0'),
    ({'forward_topic': ''}, 'forward_topic must not be empty'),
    ({'forward_commands': 'yes'}, 'forward_commands must be true or false'),
])
def test_bad_values_raise_config_error_naming_the_parameter(values, words):
    with pytest.raises(ConfigError) as info:
        TwinNodeConfig.from_values(values)
    assert words in str(info.value)


def test_xacro_args_follow_the_shared_parser():
    config = TwinNodeConfig.from_values({'robot_description_args': ['a:=1', 'b:=x:=y', '']})
    assert config.xacro_args == {'a': '1', 'b': 'x:=y'}
    with pytest.raises(ConfigError, match='robot_description_args: a given twice'):
        TwinNodeConfig.from_values({'robot_description_args': ['a:=1', 'a:=2']})


def _resolve(namespace: str):
    """A stand-in for Node.resolve_topic_name: relative names go into ``namespace``."""
    return lambda topic: topic if topic.startswith('/') else f'{namespace}/{topic}'


def test_topic_parameters_are_the_inputs_and_outputs():
    topics = {name for name in PARAMETERS if name.endswith('_topic')}
    assert set(INPUT_TOPICS) | set(OUTPUT_TOPICS) | set(COMMAND_INPUT_TOPICS) | {
        FORWARD_TOPIC} == topics
    assert all(name.startswith('input_') for name in INPUT_TOPICS)
    assert all(name.startswith('output_') for name in OUTPUT_TOPICS)


def test_default_topics_pass_in_any_namespace():
    TwinNodeConfig.from_values({}).check_topics(_resolve(''))
    TwinNodeConfig.from_values({}).check_topics(_resolve('/robot1'))


def test_an_output_on_an_input_topic_is_refused():
    config = TwinNodeConfig.from_values({'output_odom_topic': 'odom'})
    with pytest.raises(ConfigError) as info:
        config.check_topics(_resolve(''))
    assert str(info.value) == ('output_odom_topic resolves to /odom, which is the '
                               'input_odom_topic: the twin would feed itself')


def test_resolution_decides_not_spelling():
    # relative 'odom' in /r1 is /r1/odom: the absolute spelling of the same topic loops too
    config = TwinNodeConfig.from_values({'output_joint_states_topic': '/r1/joint_states'})
    with pytest.raises(ConfigError, match='output_joint_states_topic resolves to '
                                          '/r1/joint_states, which is the '
                                          'input_joint_states_topic'):
        config.check_topics(_resolve('/r1'))
    config.check_topics(_resolve('/r2'))  # another namespace: different topics


@pytest.mark.parametrize('inputs, outputs, words', [
    ({'input_odom_topic': '/odom'}, {'output_scan_topic': '/odom'},
     'output_scan_topic resolves to /odom, which is the input_odom_topic'),
    ({}, {'output_odom_topic': '/v', 'output_scan_topic': '/v'},
     'output_odom_topic and output_scan_topic both resolve to /v: each output needs a topic '
     'of its own'),
    ({'input_joint_states_topic': '/in', 'input_odom_topic': '/in'}, {},
     'input_joint_states_topic and input_odom_topic both resolve to /in: each input'),
])
def test_check_topic_loops(inputs, outputs, words):
    with pytest.raises(ConfigError) as info:
        check_topic_loops(inputs, outputs)
    assert words in str(info.value)
    check_topic_loops({'input_odom_topic': '/odom'}, {'output_odom_topic': '/virtual/odom'})


def test_help_lists_every_parameter_with_default():
    text = help_text()
    for name in PARAMETERS:
        assert f'  {name} ' in text
    assert "('warehouse')" in text and '--ros-args' in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_parameter_help_wraps_under_the_description():
    lines = parameter_help({'a': (1.5, 'word ' * 30), 'long_name': ([''], 'xacro args')},
                           width=60)
    assert lines[0].startswith('  a          word') and all(len(line) <= 60 for line in lines)
    assert all(line.startswith(' ' * 13 + 'word') for line in lines[1:-1])
    assert ' '.join(lines[:-1]).split() == ['a', *['word'] * 30, '(1.5)']  # nothing lost
    assert lines[-1] == '  long_name  xacro args ([])'


def test_scan_rate_and_session_config_follow_the_parameters():
    lidar = LidarSpec('lidar', 'lidar_link', 'lidar_link', 360, -3.1, 3.1, 0.1, 10.0,
                      update_rate=20.0)
    default = TwinNodeConfig.from_values({})
    assert default.scan_rate_for(lidar) == 20.0          # 0 = the lidar's own rate
    assert default.scan_rate_for(None) == 0.0            # no lidar: no scan output
    config = TwinNodeConfig.from_values({'scan_rate': 5, 'unknown_joints': 'ignore',
                                         'stale_timeout': 0.8, 'max_future_stamp': 0.1})
    assert config.scan_rate_for(lidar) == 5.0
    session = config.session_config(config.scan_rate_for(lidar))
    assert session.scan_period == pytest.approx(0.2)
    assert (session.stale_timeout, session.max_future_stamp) == (0.8, 0.1)
    assert session.ignore_unknown_joints and not default.session_config(20.0).ignore_unknown_joints
    assert config.session_config(0.0).scan_period == 0.0


def test_the_physical_scan_input_is_optional_and_checked_for_loops():
    config = TwinNodeConfig.from_values({'input_scan_topic': ''})
    config.check_topics(_resolve(''))  # no scan input: nothing to collide with
    assert not config.session_config(20.0).scan_input
    assert TwinNodeConfig.from_values({}).session_config(20.0).scan_input
    assert not TwinNodeConfig.from_values({'drift_check': False}).session_config(20.0).scan_input
    looping = TwinNodeConfig.from_values({'input_scan_topic': 'virtual/scan'})
    with pytest.raises(ConfigError, match='output_scan_topic resolves to /virtual/scan'):
        looping.check_topics(_resolve(''))


def test_gate_defaults_send_nothing_to_the_robot_and_make_its_config():
    config = TwinNodeConfig.from_values({})
    assert config.gate and not config.forward_commands     # the rule that does not bend
    assert (config.cmd_vel_topic, config.forward_topic) == ('cmd_vel', 'cmd_vel_out')
    gate = config.gate_config()
    assert (gate.stop_horizon, gate.safety_margin, gate.source_timeout) == (1.5, 0.1, 0.5)
    assert gate.scan_source                                 # input_scan_topic is set
    assert not TwinNodeConfig.from_values({'input_scan_topic': ''}).gate_config().scan_source
    assert TwinNodeConfig.from_values({'gate': False}).gate_config() is None


@pytest.mark.parametrize('values, words', [
    ({'forward_topic': 'cmd_vel'}, 'forward_topic resolves to /cmd_vel, which is the '
                                   'cmd_vel_topic: the twin would feed itself'),
    ({'forward_topic': 'virtual/cmd_vel_safe'}, 'both resolve to /virtual/cmd_vel_safe'),
    ({'cmd_vel_topic': 'virtual/cmd_vel_safe'}, 'which is the cmd_vel_topic'),
    ({'e_stop_topic': 'odom'}, 'input_odom_topic and e_stop_topic both resolve to /odom'),
])
def test_gate_topics_are_checked(values, words):
    with pytest.raises(ConfigError) as info:
        TwinNodeConfig.from_values(values).check_topics(_resolve(''))
    assert words in str(info.value)
