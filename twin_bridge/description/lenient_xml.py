"""Reading XML as leniently as Gazebo's parser (tinyxml2) does, with errors that say where.

tinyxml2 accepts what ``xml.etree`` (expat) refuses: ``--`` inside comments, prefixed names
whose namespace is never declared (``<gz:policies>``, ``<gz::system_priority>``, a ``gz:``
attribute), undefined entities, and leading blank lines before the XML declaration. Gazebo has
no notion of XML namespaces (a prefixed name is just a name), so :func:`sanitize_xml` rewrites
those spots into what expat reads: comment bodies lose their dashes, a prefixed name's ``:``
become ``_`` (``gz::system_priority`` reads as ``gz__system_priority``), a stray ``&`` is
escaped. Line numbers are kept, so a real error still points at the right line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ['parse_xml_text', 'read_xml_file', 'sanitize_xml', 'xml_error']

# Markup that is not an element tag (left alone, except comment bodies), or a tag whose body is
# made of names and quoted values (a '>' inside quotes does not end it).
_TOKEN = re.compile(
    r'<!--(?P<comment>.*?)-->'
    r'|(?P<keep><!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>)'
    r'|<(?P<tag>/?[A-Za-z_:][^<>"\']*(?:(?:"[^"]*"|\'[^\']*\')[^<>"\']*)*)>',
    re.S)
# Inside a tag: a quoted value (kept) or a name with a ':' (rewritten).
_NAME_OR_VALUE = re.compile(r'"[^"]*"|\'[^\']*\'|[A-Za-z_][\w.\-]*(?::+[\w.\-]+)+')
# '&' that does not start one of XML's five entities or a character reference.
_BARE_AMPERSAND = re.compile(r'&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);)')
_DECLARATION = re.compile(r'^(\s+)(<\?xml[^>]*\?>)')
# A prefixed element or attribute name anywhere (then expat would read a namespace, or fail).
_PREFIXED = re.compile(r'</?[A-Za-z_][\w.\-]*:|\s[A-Za-z_][\w.\-]*:[\w.\-:]*\s*=')

# expat's messages, explained (what a user can look for at that line).
_HINTS = {
    'mismatched tag': 'an end tag does not match the element it closes',
    'no element found': 'the file ends before every element is closed (is it truncated?)',
    'not well-formed (invalid token)': "a character that cannot be there (an unescaped '<' or "
                                       "'&', a stray quote, or a name that starts badly)",
    'junk after document element': 'something follows the root element (two root elements?)',
    'unclosed token': 'a tag, comment or quoted value is never closed',
    'duplicate attribute': 'an element has the same attribute twice',
    'syntax error': 'this is not XML here',
}


def _tag(match: re.Match[str]) -> str:
    body = match.group('tag')
    if ':' not in body and '&' not in body:  # most tags: nothing to rewrite
        return match.group(0)
    body = _NAME_OR_VALUE.sub(
        lambda m: m.group(0) if m.group(0)[0] in '"\'' else m.group(0).replace(':', '_'), body)
    return f'<{_BARE_AMPERSAND.sub("&amp;", body)}>'


def _token(match: re.Match[str]) -> str:
    if match.group('comment') is not None:
        return '<!--' + match.group('comment').replace('-', ' ') + '-->'
    if match.group('keep') is not None:
        return match.group('keep')
    return _tag(match)


def sanitize_xml(text: str) -> str:
    """``text`` with what tinyxml2 accepts and expat does not rewritten (see the module
    docstring); the number of lines does not change."""
    text = _DECLARATION.sub(lambda m: m.group(1) + ' ' * len(m.group(2)), text, count=1)
    out = []
    last = 0
    for match in _TOKEN.finditer(text):
        between = text[last:match.start()]
        out.append(_BARE_AMPERSAND.sub('&amp;', between) if '&' in between else between)
        out.append(_token(match))
        last = match.end()
    out.append(_BARE_AMPERSAND.sub('&amp;', text[last:]))
    return ''.join(out)


def xml_error(source: str, text: str, exc: ET.ParseError) -> str:
    """One sentence: where (``source``, line, column) the XML ``text`` is broken, what expat
    found, what that usually means, and the line itself."""
    line, column = getattr(exc, 'position', (0, 0))
    reason = str(exc).split(':', 1)[0].strip()
    hint = _HINTS.get(reason, '')
    lines = text.splitlines()
    shown = lines[line - 1].strip() if 0 < line <= len(lines) else ''
    if len(shown) > 80:
        shown = shown[:77] + '...'
    return (f'{source}: malformed XML: {reason}' + (f' ({hint})' if hint else '')
            + f' at line {line}, column {column + 1}' + (f': "{shown}"' if shown else '')
            + '; fix the file (Gazebo cannot read it either)')


def parse_xml_text(text: str, source: str) -> ET.Element:
    """The root element of ``text``, read leniently (:func:`sanitize_xml`).

    :param source: the file name (or ``<string>``) for the error message
    :raise ValueError: with :func:`xml_error`'s message when the XML is really broken
    """
    if _PREFIXED.search(text) is None:
        try:  # plain XML (most files): expat alone reads it the same way, several times faster
            return ET.fromstring(text)
        except ET.ParseError:
            pass  # something tinyxml2 accepts and expat does not: the lenient way below
    clean = sanitize_xml(text)
    try:
        return ET.fromstring(clean)
    except ET.ParseError as exc:
        raise ValueError(xml_error(source, clean, exc)) from None


def read_xml_file(data: bytes, source: str) -> ET.Element:
    """The root element of a file's ``data`` (UTF-8, with or without BOM; Latin-1 if it is
    not UTF-8), read leniently.

    :raise ValueError: the XML is broken (the message names ``source``, line and column)
    """
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError:
        text = data.decode('latin-1')
    text = re.sub(r'^(\s*<\?xml[^>]*?)\sencoding=(["\'])[^"\']*\2', r'\1', text, count=1)
    return parse_xml_text(text, source)
