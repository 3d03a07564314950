"""demo.parse_bridge_params: --bridge-param NAME:=VALUE through the shared parser, YAML values."""

import pytest

from twin_bridge.demo.demo import main, parse_bridge_params
from twin_bridge.errors import ConfigError


def test_values_are_yaml_as_with_ros_args():
    assert parse_bridge_params(['scan_rate:=10.0', 'qos_depth:=5', 'world:=warehouse',
                                'unknown_joints:=ignore', 'robot_description_args:=[a:=1]']) == {
        'scan_rate': 10.0, 'qos_depth': 5, 'world': 'warehouse', 'unknown_joints': 'ignore',
        'robot_description_args': ['a:=1']}
    assert parse_bridge_params([]) == {}


@pytest.mark.parametrize('item, words', [
    ('scan_rate=10', "--bridge-param: 'scan_rate=10' is not name:=value"),
    (':=1', "--bridge-param: ':=1' is not name:=value"),
    ('a:=[1', '--bridge-param a:=[1: not a YAML value'),
])
def test_bad_items_are_named(item, words):
    with pytest.raises(ConfigError) as info:
        parse_bridge_params([item])
    assert words in str(info.value)


def test_a_repeated_name_is_refused():
    with pytest.raises(ConfigError, match='scan_rate given twice'):
        parse_bridge_params(['scan_rate:=1', 'scan_rate:=2'])


def test_the_command_line_refuses_a_bad_item_before_anything_starts(capsys):
    with pytest.raises(SystemExit) as info:
        main(['--bridge-param', 'scan_rate=10'])
    assert info.value.code == 2
    assert "'scan_rate=10' is not name:=value" in capsys.readouterr().err


def test_view_turns_the_twins_live_view_on_and_a_bridge_param_sets_its_port():
    from twin_bridge.demo.demo import _node_params, build_parser
    _, bridge = _node_params(build_parser().parse_args(['--view', '--bridge-param',
                                                        'viewer_port:=9000']))
    assert bridge['viewer'] is True and bridge['viewer_port'] == 9000
    _, plain = _node_params(build_parser().parse_args([]))
    assert 'viewer' not in plain  # off unless asked for
