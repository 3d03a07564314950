"""Short quotes of input data (names, frame ids) for log lines and rejection texts.

Input strings can be arbitrarily long; a message quoting them verbatim copies a megabyte name
into every log and ``/rosout`` line. These helpers bound what a message repeats.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ['MAX_QUOTED_CHARS', 'MAX_QUOTED_NAMES', 'quote_names', 'shorten']

#: Characters of one string a message repeats before it is cut.
MAX_QUOTED_CHARS = 64
#: Names a message lists before it says how many more there are.
MAX_QUOTED_NAMES = 5


def shorten(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` if at most ``limit`` characters, else its start, an ellipsis and its length:
    ``'aaaa…(1048576 chars)'``."""
    if len(text) <= limit:
        return text
    return f'{text[:limit]}…({len(text)} chars)'


def quote_names(names: Iterable[str], limit: int = MAX_QUOTED_NAMES) -> str:
    """A list of at most ``limit`` shortened names, then how many more: ``"['a', 'b'] and 3
    more"``."""
    names = list(names)
    shown = [shorten(name) for name in names[:limit]]
    more = len(names) - len(shown)
    return f'{shown}' + (f' and {more} more' if more > 0 else '')
