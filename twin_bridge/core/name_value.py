"""``name:=value`` arguments (xacro arguments, node parameters): the one parser for them all.

One rule set, whoever the caller: a name is a ROS parameter / xacro argument name (letters,
digits and ``_``, not starting with a digit; ``.`` between such parts); the value is
everything after the first ``:=`` (so it may hold ``:=`` itself) and may be empty; empty items
are skipped; a name given twice is an error. :func:`parse_name_value_text` also splits a
shell-quoted string (``prefix:=r1_ title:='a b'``), as ``xacro`` and launch's ``Command``
substitution do.
"""

from __future__ import annotations

from collections.abc import Iterable
import re
import shlex

from twin_bridge.errors import ConfigError

__all__ = ['parse_name_value_args', 'parse_name_value_text']

_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*')


def parse_name_value_args(items: Iterable[str], what: str = 'argument') -> dict[str, str]:
    """``['prefix:=r1_', 'b:=x:=y', '']`` -> ``{'prefix': 'r1_', 'b': 'x:=y'}``.

    :param what: where the items come from, for error messages (``'xacro_args'``)
    :raise ConfigError: naming ``what`` and the bad item: no ``:=``, a bad name, a repeat
    """
    args: dict[str, str] = {}
    for item in items:
        if not item:
            continue
        name, sep, value = item.partition(':=')
        if not sep or not _NAME.fullmatch(name):
            raise ConfigError(f'{what}: {item!r} is not name:=value (name: letters, digits, '
                              '"_", not starting with a digit)')
        if name in args:
            raise ConfigError(f'{what}: {name} given twice ({name}:={args[name]!r}, {item!r})')
        args[name] = value
    return args


def parse_name_value_text(text: str, what: str = 'argument') -> dict[str, str]:
    """``"prefix:=r1_ title:='a b'"`` -> ``{'prefix': 'r1_', 'title': 'a b'}``: the string split
    as a shell would (quotes group, then go), each word parsed by :func:`parse_name_value_args`.

    :raise ConfigError: naming ``what``: unbalanced quotes, or as :func:`parse_name_value_args`
    """
    try:
        words = shlex.split(text or '')
    except ValueError as exc:
        raise ConfigError(f'{what} {text!r}: {exc}') from None
    return parse_name_value_args(words, what)
