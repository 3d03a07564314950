"""The SDF frame graph: model scopes, named frames, ``relative_to`` chains, placement frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import xml.etree.ElementTree as ET

from twin_bridge.core.transforms import Pose
from twin_bridge.description.sdf_elements import ElementContext, read_pose, read_text


@dataclass
class FrameEntry:
    """A named frame of a scope: its pose relative to ``relative_to`` (same scope)."""

    pose: Pose
    relative_to: str
    ctx: ElementContext


@dataclass
class RawLink:
    """A ``<link>`` element of a scope, read into a link once every frame is known."""

    local: str
    scope: Scope
    elem: ET.Element
    ctx: ElementContext


def local_name(elem: ET.Element, ctx: ElementContext) -> str:
    """The ``name`` attribute of ``elem``: required, and without ``::``."""
    name = (elem.get('name') or '').strip()
    if not name:
        raise ctx.error(f'<{elem.tag}> without a name attribute')
    if '::' in name:
        raise ctx.error(f'name "{name}" must not contain "::"')
    return name


class Scope:
    """A model (or the world): its named frames, nested models and links."""

    def __init__(self, name: str, ctx: ElementContext, parent: Scope | None, static: bool,
                 base_dir: Path, merged: bool = False) -> None:
        self.name = name  # scoped name; '' for the world
        self.merged = merged  # an <include merge="true">: its names live in the parent's scope
        self.ctx = ctx
        self.parent = parent
        self.static = static
        self.base_dir = base_dir
        self.entries: dict[str, FrameEntry] = {}
        self.models: dict[str, Scope] = {}
        self.links: list[RawLink] = []
        self.joints: list[tuple[str, ET.Element, ElementContext]] = []
        self.canonical = ''  # a <model canonical_link="..."> attribute
        self._resolved: dict[str, Pose] = {}
        self._resolving: set[str] = set()

    @property
    def root_frame(self) -> str:
        """The frame poses in this scope resolve to: ``world`` or ``__model__``."""
        return 'world' if self.parent is None else '__model__'

    def scoped(self, local: str) -> str:
        """The world-wide name (``model::nested::local``) of ``local`` in this scope."""
        if self.merged and self.parent is not None:
            return self.parent.scoped(local)
        return f'{self.name}::{local}' if self.name else local

    def add(self, kind: str, local: str, entry: FrameEntry) -> None:
        """Add frame ``local`` (a ``kind``: link, frame, model); names are unique per scope."""
        if local in self.entries or local in ('world', '__model__'):
            raise entry.ctx.error(f'duplicate or reserved {kind} name "{local}" in this scope')
        self.entries[local] = entry

    def add_link(self, elem: ET.Element, ctx: ElementContext) -> None:
        """Add a ``<link>``: its frame, and the element to read later."""
        name = local_name(elem, ctx)
        if any(raw.local == name for raw in self.links):
            raise ctx.error(f'duplicate link name "{name}"')
        pose, rel = read_pose(elem.find('pose'), ctx)
        self.add('link', name, FrameEntry(pose, rel, ctx))
        self.links.append(RawLink(name, self, elem, ctx))

    def add_frame(self, elem: ET.Element, ctx: ElementContext) -> None:
        """Add a ``<frame>``; ``attached_to`` (attribute or 1.6 element) is its default
        ``relative_to``."""
        name = local_name(elem, ctx)
        pose, rel = read_pose(elem.find('pose'), ctx)
        attached = elem.get('attached_to', '').strip()
        if not attached and elem.find('attached_to') is not None:
            attached = read_text(elem.find('attached_to'))
        self.add('frame', name, FrameEntry(pose, rel or attached, ctx))

    def add_joint_frame(self, name: str, elem: ET.Element, ctx: ElementContext) -> None:
        """Add joint ``name``'s frame (relative to its child link unless told otherwise)."""
        pose, rel = read_pose(elem.find('pose'), ctx)
        # A joint is a frame (defaults to its child link), so relative_to can name it.
        self.entries.setdefault(name, FrameEntry(pose, rel or read_text(elem.find('child')), ctx))

    def add_model(self, name: str, model: Scope, pose: Pose, relative_to: str, placement: str,
                  ctx: ElementContext) -> None:
        """Add nested ``model`` at ``pose``; with a ``placement`` frame of the model, ``pose``
        is that frame's pose, not the model frame's."""
        if placement:
            pose = pose.compose(model.resolve(placement, ctx).inverse())
        self.models[name] = model
        self.add('model', name, FrameEntry(pose, relative_to, ctx))

    def has(self, name: str) -> bool:
        """Whether ``name`` is a frame of this scope (merged includes count)."""
        return name in self.entries or any(
            child.merged and child.has(name) for child in self.models.values())

    def resolve(self, name: str, ctx: ElementContext) -> Pose:
        """Pose of frame ``name`` (possibly ``a::b``) in this scope's root frame."""
        if name in ('', self.root_frame):
            return Pose()
        if name in self._resolved:
            return self._resolved[name]
        if name not in self.entries and '::' in name:
            head, rest = name.split('::', 1)
            if head in self.models:
                return self.resolve(head, ctx).compose(self.models[head].resolve(rest, ctx))
        if name not in self.entries:
            for proxy, child in self.models.items():
                if child.merged and name in child.entries:
                    return self.resolve(proxy, ctx).compose(child.resolve(name, ctx))
        entry = self.entries.get(name)
        if entry is None:
            raise ctx.error(f'unknown frame "{name}" (relative_to / attached_to)')
        if name in self._resolving:
            raise ctx.error(f'cycle in relative_to through frame "{name}"')
        self._resolving.add(name)
        try:
            pose = self.resolve(entry.relative_to, entry.ctx).compose(entry.pose)
        finally:
            self._resolving.discard(name)
        self._resolved[name] = pose
        return pose

    def in_frame(self, frame: str, pose: Pose, relative_to: str, ctx: ElementContext) -> Pose:
        """``pose``, given relative to ``relative_to`` (``''``: to ``frame``), in ``frame``."""
        if not relative_to or relative_to == frame:
            return pose
        return self.resolve(frame, ctx).inverse().compose(self.resolve(relative_to, ctx)).compose(
            pose)

    def model_names(self) -> list[str]:
        """Scoped names of the nested models, depth first (merged includes left out)."""
        names = []
        for child in self.models.values():
            if not child.merged:
                names.append(child.name)
            names.extend(child.model_names())
        return names

    def joint_link(self, name: str) -> str:
        """Scoped link named by a joint's ``<parent>``/``<child>`` in this scope: ``'world'``, a
        link (``link``, ``model::link``), or a model, which stands for its canonical link (its
        ``canonical_link`` attribute, else its first link, else that of its first nested
        model). A name that matches nothing is returned scoped, for the caller's "does not
        exist" error."""
        if name == 'world':
            return name
        target: Scope = self
        parts = name.split('::')
        for part in parts[:-1]:
            if part not in target.models:
                return self.scoped(name)
            target = target.models[part]
        last = parts[-1]
        if last in target.models and not any(raw.local == last for raw in target.links):
            model = target.models[last]
            while True:
                local = model.canonical or (model.links[0].local if model.links else '')
                if local or not model.models:
                    break
                model = next(iter(model.models.values()))
            return model.scoped(local) if local else self.scoped(name)
        return target.scoped(last)
