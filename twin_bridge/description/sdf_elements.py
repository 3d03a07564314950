"""SDF element reading: an element's location for error messages, its typed values, parse state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import xml.etree.ElementTree as ET

from twin_bridge.core.transforms import Pose
from twin_bridge.description.lenient_xml import read_xml_file
from twin_bridge.description.resources import resolve_uri
from twin_bridge.description.sdf_pose import parse_numbers, sdf_pose
from twin_bridge.errors import ResourceNotFoundError, WorldLoadError


def _label(elem: ET.Element) -> str:
    name = elem.get('name')
    return f'<{elem.tag} name="{name}">' if name is not None else f'<{elem.tag}>'


@dataclass
class ElementContext:
    """Where an element is: its file, the element path inside it, and (for an included model
    file) where it was included from."""

    file: Path
    path: str = ''
    origin: str = ''

    def child(self, elem: ET.Element) -> ElementContext:
        """The context of ``elem``, a child of this element."""
        label = _label(elem)
        return ElementContext(self.file, f'{self.path}/{label}' if self.path else label,
                              self.origin)

    def where(self) -> str:
        """``file: element path`` (just the file at the root)."""
        return f'{self.file}: {self.path}' if self.path else str(self.file)

    def source(self) -> str:
        """:meth:`where`, plus where the file was included from."""
        return self.where() + (f' (included from {self.origin})' if self.origin else '')

    def message(self, text: str) -> str:
        """``text`` prefixed with :meth:`where` and followed by the include origin."""
        suffix = f' (included from {self.origin})' if self.origin else ''
        return f'{self.where()}: {text}{suffix}'

    def error(self, text: str) -> WorldLoadError:
        """A :class:`WorldLoadError` naming this element."""
        return WorldLoadError(self.message(text))

    def not_found(self, text: str) -> ResourceNotFoundError:
        """A :class:`ResourceNotFoundError` naming this element."""
        return ResourceNotFoundError(self.message(text))


@dataclass
class ParseState:
    """What one parse shares: the ``model://`` search path and the elements not simulated."""

    search_path: list[Path]
    ignored: list[str] = field(default_factory=list)

    def ignore(self, ctx: ElementContext, what: str) -> None:
        """Record that the element at ``ctx`` is not simulated (``what`` says why)."""
        self.ignored.append(f'{ctx.source()}: {what}')

    def resolve(self, uri: str, base_dir: Path, ctx: ElementContext) -> Path:
        """``uri`` as referenced from a file in ``base_dir``; a failure names the file and
        element."""
        try:
            return resolve_uri(uri, base_dir=base_dir, search_path=self.search_path)
        except ResourceNotFoundError as exc:
            raise ctx.not_found(str(exc)) from None


def read_text(elem: ET.Element | None) -> str:
    """The stripped text of ``elem``; ``''`` if it is ``None``."""
    return (elem.text or '').strip() if elem is not None else ''


def read_floats(elem: ET.Element, ctx: ElementContext,
                count: int | tuple[int, ...]) -> list[float]:
    """The ``count`` numbers (or one of the counts) in ``elem``'s text."""
    try:
        return parse_numbers(read_text(elem), (count,) if isinstance(count, int) else count)
    except ValueError as exc:
        raise ctx.child(elem).error(str(exc)) from None


def read_float(parent: ET.Element, tag: str, ctx: ElementContext, default: float | None = None,
               *, positive: bool = False) -> float:
    """The number in child ``tag`` of ``parent``; ``default`` if absent (required if ``None``)."""
    elem = parent.find(tag)
    if elem is None:
        if default is None:
            raise ctx.error(f'missing <{tag}>')
        return default
    value = read_floats(elem, ctx, 1)[0]
    if positive and value <= 0:
        raise ctx.child(elem).error(f'must be positive, got {value:g}')
    return value


def read_bool(elem: ET.Element | None, ctx: ElementContext, default: bool) -> bool:
    """``elem``'s text as a boolean (``true``/``false``/``1``/``0``); ``default`` if ``None``."""
    if elem is None:
        return default
    text = read_text(elem).lower()
    if text in ('1', 'true'):
        return True
    if text in ('0', 'false'):
        return False
    raise ctx.child(elem).error(f'expected true/false, got "{read_text(elem)}"')


def required_child(parent: ET.Element, tag: str, ctx: ElementContext) -> ET.Element:
    """Child ``tag`` of ``parent``; an error naming ``ctx`` if there is none."""
    elem = parent.find(tag)
    if elem is None:
        raise ctx.error(f'missing <{tag}>')
    return elem


def read_pose(elem: ET.Element | None, ctx: ElementContext) -> tuple[Pose, str]:
    """``(pose, relative_to)`` of a ``<pose>`` child; 1.6's ``frame`` is read as ``relative_to``."""
    if elem is None:
        return Pose(), ''
    relative_to = elem.get('relative_to', elem.get('frame', '')).strip()
    try:
        return sdf_pose(elem), relative_to
    except ValueError as exc:
        raise ctx.child(elem).error(str(exc)) from None


def read_xml(file: Path, ctx: ElementContext | None = None) -> ET.Element:
    """The root element of XML ``file``, read as leniently as Gazebo reads it
    (:mod:`twin_bridge.description.lenient_xml`); ``ctx`` (the referring element) prefixes
    errors, which name the file, line and column."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ResourceNotFoundError(f'cannot read {file}: {exc.strerror}') from None
    try:
        return read_xml_file(data, str(file))
    except ValueError as exc:
        where = f'{ctx.where()}: ' if ctx is not None and ctx.path else ''
        raise WorldLoadError(f'{where}{exc}') from None
