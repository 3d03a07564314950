"""core.name_value: the one name:=value parser (xacro args, node parameters, demo params)."""

import pytest

from twin_bridge.core.name_value import parse_name_value_args, parse_name_value_text
from twin_bridge.errors import ConfigError


def test_items_split_at_the_first_separator_and_empty_items_are_skipped():
    assert parse_name_value_args(['a:=1', 'b:=x:=y', '', 'empty:=']) == {
        'a': '1', 'b': 'x:=y', 'empty': ''}
    assert parse_name_value_args([]) == {} and parse_name_value_args(['']) == {}


def test_names_may_be_dotted_parameter_names():
    assert parse_name_value_args(['qos.depth:=5', '_x1:=a']) == {'qos.depth': '5', '_x1': 'a'}


def test_values_keep_blanks_and_quotes_as_given():
    assert parse_name_value_args(["title:= a 'b' "]) == {'title': " a 'b' "}


@pytest.mark.parametrize('item', ['prefix=r1_', ':=x', '1a:=x', ' a:=x', 'a b:=x', 'a.:=x',
                                  '.a:=x', 'a-b:=x', 'novalue'])
def test_a_malformed_item_is_named_with_where_it_came_from(item):
    with pytest.raises(ConfigError) as info:
        parse_name_value_args([item], 'robot_description_args')
    message = str(info.value)
    assert message.startswith('robot_description_args: ')
    assert f'{item!r} is not name:=value' in message


def test_a_repeated_name_is_an_error():
    with pytest.raises(ConfigError, match=r"--bridge-param: a given twice \(a:='1', 'a:=2'\)"):
        parse_name_value_args(['a:=1', 'a:=2'], '--bridge-param')


def test_text_is_split_as_a_shell_would():
    assert parse_name_value_text('') == {}
    assert parse_name_value_text("prefix:=r1_ lidar:=false  name:='a b' q:=\"c:=d\"") == {
        'prefix': 'r1_', 'lidar': 'false', 'name': 'a b', 'q': 'c:=d'}
    assert parse_name_value_text("empty:='' x:=1") == {'empty': '', 'x': '1'}


@pytest.mark.parametrize('text, words', [
    ("a:='unclosed", "xacro_args \"a:='unclosed\": No closing quotation"),
    ('prefix=r1_', "xacro_args: 'prefix=r1_' is not name:=value"),
    ('a:=1 a:=2', 'xacro_args: a given twice'),
])
def test_bad_text_names_the_argument_and_the_item(text, words):
    with pytest.raises(ConfigError) as info:
        parse_name_value_text(text, 'xacro_args')
    assert words in str(info.value)
