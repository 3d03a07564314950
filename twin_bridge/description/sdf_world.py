"""Parse an SDFormat world (1.6 to 1.11) into a flat, simulator-neutral :class:`WorldDescription`.

Only what a ray-casting twin needs is kept: every link's world pose, its inertial, its
*collision* geometry, and the joints of non-static models (including SDF 1.8+ world-level
joints, whose ``<parent>``/``<child>`` are scoped names). Visual-only geometry is not read:
the embedded lidar hits collision shapes, so a world's visuals and collisions should agree
(Gazebo's ``gpu_lidar`` renders the visuals). Elements that would change what is simulated but
are not supported (heightmaps, polylines, actors, universal/screw joints, ...) are collected
in :attr:`WorldDescription.ignored` and reported in one warning on the
``twin_bridge.description.sdf_world`` logger; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
from pathlib import Path
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.core.transforms import Pose, rotate
from twin_bridge.description.resources import find_world, model_search_path, resolve_uri
from twin_bridge.description.sdf_pose import parse_numbers, sdf_pose
from twin_bridge.errors import ResourceNotFoundError, WorldLoadError

__all__ = [
    'Collision',
    'Geometry',
    'Inertial',
    'Joint',
    'Link',
    'WorldDescription',
    'parse_world',
]

LOGGER = logging.getLogger('twin_bridge.description.sdf_world')

DEFAULT_GRAVITY = (0.0, 0.0, -9.8)
# SDF geometry elements this loader turns into shapes.
SUPPORTED_GEOMETRY = ('box', 'cylinder', 'sphere', 'capsule', 'ellipsoid', 'plane', 'mesh')
# SDF geometry elements that exist in the specification but are not simulated here.
IGNORED_GEOMETRY = ('heightmap', 'polyline', 'image', 'cone')
# World or model children that would be simulated by Gazebo but are not by this loader.
IGNORED_WORLD_CHILDREN = ('actor', 'population', 'road')
# SDF joint types simulated (ball has no axis; fixed welds the child to the parent).
SUPPORTED_JOINTS = ('revolute', 'continuous', 'prismatic', 'ball', 'fixed')
_UNLIMITED = 1e15
_MAX_INCLUDE_DEPTH = 32


@dataclass(frozen=True)
class Geometry:
    """One collision shape, in SDF terms (full lengths, not half sizes).

    ``size`` per ``kind``: box ``(x, y, z)``; cylinder and capsule ``(radius, length)``
    (capsule length excludes the caps); sphere ``(radius,)``; ellipsoid ``(a, b, c)`` radii;
    plane ``(size_x, size_y)`` with ``normal``; mesh ``()`` with ``mesh_path`` and ``scale``.
    """

    kind: str
    size: tuple[float, ...] = ()
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    mesh_path: Path | None = None
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Collision:
    """A link's collision: scoped ``name`` (``model::link::collision``), ``pose`` in the link
    frame, its geometry, Coulomb friction ``mu`` if given, ``density`` (kg/m^3, used only for
    an automatic inertial) and ``source`` (file and element path, for error messages)."""

    name: str
    pose: Pose
    geometry: Geometry
    mu: float | None = None
    density: float = 1000.0
    source: str = ''


@dataclass(frozen=True)
class Inertial:
    """Mass (kg), inertial frame ``pose`` in the link frame, and 3x3 ``inertia`` about it.

    ``auto`` (SDF 1.11 ``<inertial auto="true">``): computed by the simulator from the
    collisions and their densities instead; ``mass``, ``pose`` and ``inertia`` are then unused.
    """

    mass: float = 1.0
    pose: Pose = field(default_factory=Pose)
    inertia: np.ndarray = field(default_factory=lambda: np.eye(3))
    auto: bool = False


@dataclass(frozen=True)
class Link:
    """A world link: scoped ``name`` (``model::nested::link``), scoped ``model`` name, world
    ``pose``, whether it is ``static`` (welded to the world) and affected by ``gravity``."""

    name: str
    model: str
    pose: Pose
    static: bool
    inertial: Inertial
    collisions: tuple[Collision, ...]
    gravity: bool = True
    source: str = ''


@dataclass(frozen=True)
class Joint:
    """A joint of a non-static world model, or a joint directly under ``<world>`` (SDF 1.8+).

    ``name`` is scoped (``model::joint``; a world-level joint's name has no scope);
    ``type`` is one of :data:`SUPPORTED_JOINTS`; ``parent`` is a scoped link name or
    ``'world'``; ``child`` a scoped link name (a ``<child>`` naming a model means its
    canonical link); ``pose`` is the joint frame in the world; ``axis`` a unit vector in the world
    (at the poses the file gives); ``lower``/``upper`` are ``None`` when unlimited.
    """

    name: str
    type: str
    parent: str
    child: str
    pose: Pose
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0)
    lower: float | None = None
    upper: float | None = None
    damping: float = 0.0
    source: str = ''


@dataclass(frozen=True)
class WorldDescription:
    """Everything the simulators need from a world file.

    ``links`` is flat (nested models and includes already resolved) in file order;
    ``joints`` connects links of non-static models; ``ignored`` lists, one entry each, the
    elements that are not simulated.
    """

    name: str
    path: Path
    version: str
    links: tuple[Link, ...]
    models: tuple[str, ...]
    joints: tuple[Joint, ...] = ()
    gravity: tuple[float, float, float] = DEFAULT_GRAVITY
    max_step_size: float | None = None
    ignored: tuple[str, ...] = ()

    def link(self, name: str) -> Link:
        """The link with scoped ``name``; :class:`KeyError` if there is none."""
        for link in self.links:
            if link.name == name:
                return link
        raise KeyError(name)


def parse_world(path: str | Path, *, search_path: list[Path] | None = None) -> WorldDescription:
    """Parse an SDFormat world file (or a shipped world's name) into a :class:`WorldDescription`.

    A file whose root holds a ``<model>`` instead of a ``<world>`` is loaded as a world
    containing that model.

    :param path: world file, or the name of a world shipped in this package's ``worlds/``
    :param search_path: extra directories searched for ``model://`` before this package's
        ``models/`` and the ``GZ_SIM_RESOURCE_PATH``-style variables
    :raise ResourceNotFoundError: missing world file, unknown ``model://`` or mesh file
    :raise WorldLoadError: malformed XML, bad numbers, unsupported geometry, bad frames; the
        message names the file and the element
    """
    file = find_world(str(path))
    dirs = model_search_path([Path(p) for p in search_path or []])
    return _WorldParser(file, dirs).parse()


# --------------------------------------------------------------------------------------------
# Parsing


def _label(elem: ET.Element) -> str:
    name = elem.get('name')
    return f'<{elem.tag} name="{name}">' if name is not None else f'<{elem.tag}>'


@dataclass
class _Ctx:
    """Where an element is: its file, the element path inside it, and (for an included model
    file) where it was included from."""

    file: Path
    path: str = ''
    origin: str = ''

    def child(self, elem: ET.Element) -> '_Ctx':
        label = _label(elem)
        return _Ctx(self.file, f'{self.path}/{label}' if self.path else label, self.origin)

    def where(self) -> str:
        return f'{self.file}: {self.path}' if self.path else str(self.file)

    def source(self) -> str:
        return self.where() + (f' (included from {self.origin})' if self.origin else '')

    def message(self, text: str) -> str:
        suffix = f' (included from {self.origin})' if self.origin else ''
        return f'{self.where()}: {text}{suffix}'

    def error(self, text: str) -> WorldLoadError:
        return WorldLoadError(self.message(text))

    def not_found(self, text: str) -> ResourceNotFoundError:
        return ResourceNotFoundError(self.message(text))


def _text(elem: ET.Element | None) -> str:
    return (elem.text or '').strip() if elem is not None else ''


def _floats(elem: ET.Element, ctx: _Ctx, count: int | tuple[int, ...]) -> list[float]:
    try:
        return parse_numbers(_text(elem), (count,) if isinstance(count, int) else count)
    except ValueError as exc:
        raise ctx.child(elem).error(str(exc)) from None


def _float(parent: ET.Element, tag: str, ctx: _Ctx, default: float | None = None,
           *, positive: bool = False) -> float:
    elem = parent.find(tag)
    if elem is None:
        if default is None:
            raise ctx.error(f'missing <{tag}>')
        return default
    value = _floats(elem, ctx, 1)[0]
    if positive and value <= 0:
        raise ctx.child(elem).error(f'must be positive, got {value:g}')
    return value


def _bool(elem: ET.Element | None, ctx: _Ctx, default: bool) -> bool:
    if elem is None:
        return default
    text = _text(elem).lower()
    if text in ('1', 'true'):
        return True
    if text in ('0', 'false'):
        return False
    raise ctx.child(elem).error(f'expected true/false, got "{_text(elem)}"')


def _parse_pose(elem: ET.Element | None, ctx: _Ctx) -> tuple[Pose, str]:
    """``(pose, relative_to)`` of a ``<pose>`` child; 1.6's ``frame`` is read as ``relative_to``."""
    if elem is None:
        return Pose(), ''
    relative_to = elem.get('relative_to', elem.get('frame', '')).strip()
    try:
        return sdf_pose(elem), relative_to
    except ValueError as exc:
        raise ctx.child(elem).error(str(exc)) from None


def _read_xml(file: Path, ctx: _Ctx | None = None) -> ET.Element:
    try:
        return ET.parse(file).getroot()
    except ET.ParseError as exc:
        where = f'{ctx.where()}: ' if ctx is not None and ctx.path else ''
        raise WorldLoadError(f'{where}{file}: malformed XML: {exc}') from None
    except OSError as exc:
        raise ResourceNotFoundError(f'cannot read {file}: {exc.strerror}') from None


@dataclass
class _Entry:
    """A named frame of a scope: its pose relative to ``relative_to`` (same scope)."""

    pose: Pose
    relative_to: str
    ctx: _Ctx


@dataclass
class _RawLink:
    local: str
    scope: '_Scope'
    elem: ET.Element
    ctx: _Ctx


class _Scope:
    """A model (or the world): its named frames, nested models and links."""

    def __init__(self, name: str, ctx: _Ctx, parent: '_Scope | None', static: bool,
                 base_dir: Path, merged: bool = False) -> None:
        self.name = name  # scoped name; '' for the world
        self.merged = merged  # an <include merge="true">: its names live in the parent's scope
        self.ctx = ctx
        self.parent = parent
        self.static = static
        self.base_dir = base_dir
        self.entries: dict[str, _Entry] = {}
        self.models: dict[str, _Scope] = {}
        self.links: list[_RawLink] = []
        self.joints: list[tuple[str, ET.Element, _Ctx]] = []
        self.canonical = ''  # a <model canonical_link="..."> attribute
        self._resolved: dict[str, Pose] = {}
        self._resolving: set[str] = set()

    @property
    def root_frame(self) -> str:
        return 'world' if self.parent is None else '__model__'

    def scoped(self, local: str) -> str:
        if self.merged and self.parent is not None:
            return self.parent.scoped(local)
        return f'{self.name}::{local}' if self.name else local

    def add(self, kind: str, local: str, entry: _Entry) -> None:
        if local in self.entries or local in ('world', '__model__'):
            raise entry.ctx.error(f'duplicate or reserved {kind} name "{local}" in this scope')
        self.entries[local] = entry

    def has(self, name: str) -> bool:
        """Whether ``name`` is a frame of this scope (merged includes count)."""
        return name in self.entries or any(
            child.merged and child.has(name) for child in self.models.values())

    def resolve(self, name: str, ctx: _Ctx) -> Pose:
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


class _WorldParser:
    """One parse of one world file (and everything it includes)."""

    def __init__(self, file: Path, search_path: list[Path]) -> None:
        self.file = file
        self.search_path = search_path
        self.ignored: list[str] = []

    def ignore(self, ctx: _Ctx, what: str) -> None:
        self.ignored.append(f'{ctx.source()}: {what}')

    # ---- top level

    def parse(self) -> WorldDescription:
        root = _read_xml(self.file)
        ctx = _Ctx(self.file)
        if root.tag != 'sdf':
            raise ctx.error(f'root element is <{root.tag}>, expected <sdf>')
        version = root.get('version', '').strip()
        world_elem = root.find('world')
        if world_elem is None:
            model_elem = root.find('model')
            if model_elem is None:
                raise ctx.error('no <world> (or <model>) element')
            world_elem = ET.Element('world', name=model_elem.get('name', self.file.stem))
            world_elem.append(model_elem)
        for extra in root.findall('world')[1:]:
            self.ignore(ctx.child(extra), 'additional world (only the first is loaded)')
        wctx = ctx.child(world_elem)
        world = _Scope('', wctx, None, False, self.file.parent)
        self._fill_scope(world, world_elem, wctx, depth=0)
        links, joints = self._collect(world)
        gravity, step = self._physics(world_elem, wctx)
        models = tuple(self._model_names(world))
        if self.ignored:
            LOGGER.warning('%s: %d element(s) not simulated:\n  %s', self.file, len(self.ignored),
                           '\n  '.join(self.ignored))
        return WorldDescription(
            name=world_elem.get('name', self.file.stem), path=self.file, version=version,
            links=tuple(links), models=models, joints=tuple(joints), gravity=gravity,
            max_step_size=step,
            ignored=tuple(self.ignored))

    def _physics(self, world_elem: ET.Element, ctx: _Ctx) -> tuple[tuple[float, ...], float | None]:
        physics = world_elem.findall('physics')
        chosen = next((p for p in physics if p.get('default', '').strip().lower() in ('1', 'true')),
                      physics[0] if physics else None)
        step = None
        gravity_elem = world_elem.find('gravity')
        if chosen is not None:
            pctx = ctx.child(chosen)
            if chosen.find('max_step_size') is not None:
                step = _float(chosen, 'max_step_size', pctx, positive=True)
            if gravity_elem is None:
                gravity_elem = chosen.find('gravity')  # where SDF 1.4 and older kept it
        gravity = (tuple(_floats(gravity_elem, ctx, 3)) if gravity_elem is not None
                   else DEFAULT_GRAVITY)
        return gravity, step

    def _model_names(self, scope: _Scope) -> list[str]:
        names = []
        for child in scope.models.values():
            if not child.merged:
                names.append(child.name)
            names.extend(self._model_names(child))
        return names

    # ---- scopes

    def _fill_scope(self, scope: _Scope, elem: ET.Element, ctx: _Ctx, depth: int) -> None:
        """Read the children of a <world> or <model> element into ``scope``."""
        is_world = scope.parent is None
        link_names: set[str] = set()
        for child in elem:
            cctx = ctx.child(child)
            tag = child.tag
            if tag == 'model':
                self._add_model(scope, child, cctx, depth, None)
            elif tag == 'include':
                self._include(scope, child, cctx, depth)
            elif tag == 'frame':
                self._add_frame(scope, child, cctx)
            elif tag == 'link' and not is_world:
                name = self._name(child, cctx)
                if name in link_names:
                    raise cctx.error(f'duplicate link name "{name}"')
                link_names.add(name)
                pose, rel = _parse_pose(child.find('pose'), cctx)
                scope.add('link', name, _Entry(pose, rel, cctx))
                scope.links.append(_RawLink(name, scope, child, cctx))
            elif tag == 'joint':
                self._add_joint(scope, child, cctx)  # in <world> too (SDF 1.8+)
            elif tag in IGNORED_WORLD_CHILDREN:
                self.ignore(cctx, f'<{tag}> is not simulated')
            elif tag == 'state' and is_world:
                self.ignore(cctx, 'saved <state> (the models\' own <pose> elements are used)')

    def _name(self, elem: ET.Element, ctx: _Ctx) -> str:
        name = (elem.get('name') or '').strip()
        if not name:
            raise ctx.error(f'<{elem.tag}> without a name attribute')
        if '::' in name:
            raise ctx.error(f'name "{name}" must not contain "::"')
        return name

    def _add_frame(self, scope: _Scope, elem: ET.Element, ctx: _Ctx) -> None:
        name = self._name(elem, ctx)
        pose, rel = _parse_pose(elem.find('pose'), ctx)
        attached = elem.get('attached_to', '').strip()
        if not attached and elem.find('attached_to') is not None:
            attached = _text(elem.find('attached_to'))
        scope.add('frame', name, _Entry(pose, rel or attached, ctx))

    def _add_joint(self, scope: _Scope, elem: ET.Element, ctx: _Ctx) -> None:
        name = self._name(elem, ctx)
        pose, rel = _parse_pose(elem.find('pose'), ctx)
        child = _text(elem.find('child'))
        # A joint is a frame (defaults to its child link), so relative_to can name it.
        scope.entries.setdefault(name, _Entry(pose, rel or child, ctx))
        if scope.static:
            return
        kind = elem.get('type', '').strip()
        if kind in SUPPORTED_JOINTS:
            scope.joints.append((name, elem, ctx))
        else:
            self.ignore(ctx, f'joint of type "{kind}" (its child link moves freely)')

    def _add_model(self, parent: _Scope, elem: ET.Element, ctx: _Ctx, depth: int,
                   override: dict | None) -> None:
        """Add ``elem`` (a <model>) as a child scope; ``override`` comes from an <include>."""
        override = override or {}
        name = override.get('name') or self._name(elem, ctx)
        if name in parent.models:
            raise ctx.error(f'duplicate model name "{name}"')
        static = _bool(elem.find('static'), ctx, False)
        if 'static' in override:
            static = override['static']
        static = static or parent.static
        merged = bool(override.get('merge')) and parent.parent is not None
        if merged:
            name = f'_merged__{name}__model__'  # the proxy frame SDFormat gives a merged model
        scope = _Scope(parent.scoped(name), ctx, parent, static,
                       override.get('base_dir', parent.base_dir), merged)
        scope.canonical = elem.get('canonical_link', '').strip()
        self._fill_scope(scope, elem, ctx, depth)
        if 'pose' in override:
            pose, rel = override['pose']
        else:
            pose, rel = _parse_pose(elem.find('pose'), ctx)
        placement = override.get('placement_frame') or elem.get('placement_frame', '').strip()
        if placement:
            # The given pose is that of the placement frame, not of the model frame.
            pose = pose.compose(scope.resolve(placement, ctx).inverse())
        parent.models[name] = scope
        parent.add('model', name, _Entry(pose, rel, ctx))

    def _resolve(self, uri: str, scope: _Scope, ctx: _Ctx) -> Path:
        """``uri`` as referenced from ``scope``'s file; a failure names the file and element."""
        try:
            return resolve_uri(uri, base_dir=scope.base_dir, search_path=self.search_path)
        except ResourceNotFoundError as exc:
            raise ctx.not_found(str(exc)) from None

    def _include(self, parent: _Scope, elem: ET.Element, ctx: _Ctx, depth: int) -> None:
        if depth >= _MAX_INCLUDE_DEPTH:
            raise ctx.error(f'includes nested deeper than {_MAX_INCLUDE_DEPTH} (a cycle?)')
        uri = _text(elem.find('uri'))
        if not uri:
            raise ctx.error('<include> without <uri>')
        target = self._resolve(uri, parent, ctx)
        model_file = self._model_file(target, ctx) if target.is_dir() else target
        root = _read_xml(model_file, ctx)
        mctx = _Ctx(model_file, origin=ctx.where())
        model_elem = root.find('model') if root.tag == 'sdf' else None
        if model_elem is None:
            kinds = [c.tag for c in root] if root.tag == 'sdf' else [root.tag]
            if root.tag == 'sdf' and kinds and all(k in ('light', 'actor') for k in kinds):
                if 'actor' in kinds:
                    self.ignore(ctx, f'included <actor> from {uri} is not simulated')
                return  # a light (e.g. model://sun) has nothing to simulate
            raise mctx.error(f'no <model> in the file included as "{uri}"')
        override: dict = {'base_dir': model_file.parent}
        if elem.find('name') is not None and _text(elem.find('name')):
            override['name'] = _text(elem.find('name'))
        if elem.find('pose') is not None:
            override['pose'] = _parse_pose(elem.find('pose'), ctx)
        if elem.find('static') is not None:
            override['static'] = _bool(elem.find('static'), ctx, False)
        if elem.find('placement_frame') is not None:
            override['placement_frame'] = _text(elem.find('placement_frame'))
        override['merge'] = elem.get('merge', '').strip().lower() in ('1', 'true')
        self._add_model(parent, model_elem, mctx.child(model_elem), depth + 1, override)

    def _model_file(self, directory: Path, ctx: _Ctx) -> Path:
        """The SDF file of a model directory: model.config's newest <sdf>, else model.sdf."""
        config = directory / 'model.config'
        if config.is_file():
            root = _read_xml(config, ctx)
            best: tuple[tuple[int, ...], str] | None = None
            for sdf in root.findall('sdf'):
                try:
                    version = tuple(int(v) for v in sdf.get('version', '0').split('.'))
                except ValueError:
                    version = (0,)
                if _text(sdf) and (best is None or version > best[0]):
                    best = (version, _text(sdf))
            if best is not None:
                candidate = directory / best[1]
                if not candidate.is_file():
                    raise ctx.not_found(
                        f'{config} names <sdf>{best[1]}</sdf>, which does not exist')
                return candidate
        candidate = directory / 'model.sdf'
        if candidate.is_file():
            return candidate
        raise ctx.not_found(
            f'model directory {directory} has no model.config <sdf> and no model.sdf')

    # ---- links

    def _collect(self, world: _Scope) -> tuple[list[Link], list[Joint]]:
        links: list[Link] = []
        joints: list[Joint] = []
        self._walk(world, Pose(), links, joints)
        by_name = {link.name: link for link in links}
        if len(by_name) != len(links):
            seen: set[str] = set()
            for link in links:
                if link.name in seen:
                    raise WorldLoadError(f'{link.source}: link name "{link.name}" is used twice '
                                         '(e.g. by a merged include)')
                seen.add(link.name)
        tree: dict[str, Joint] = {}  # child -> the joint that carries it
        for joint in joints:
            if not self._check_joint(joint, by_name):
                continue
            if joint.child in tree:
                self.ignored.append(f'{joint.source}: second joint to link "{joint.child}" '
                                    '(closed kinematic loops are not simulated)')
                continue
            ancestor = joint.parent
            while ancestor in tree and ancestor != joint.child:
                ancestor = tree[ancestor].parent
            if ancestor == joint.child:
                self.ignored.append(f'{joint.source}: joint closes a kinematic loop')
                continue
            tree[joint.child] = joint
        return links, list(tree.values())

    def _walk(self, scope: _Scope, scope_pose: Pose, links: list[Link],
              joints: list[Joint]) -> None:
        for raw in scope.links:
            pose = scope_pose.compose(scope.resolve(raw.local, raw.ctx))
            links.append(self._link(raw, pose))
        for name, elem, ctx in scope.joints:
            joints.append(self._joint(scope, scope_pose, name, elem, ctx))
        for local, child in scope.models.items():
            self._walk(child, scope_pose.compose(scope.resolve(local, child.ctx)), links, joints)

    def _joint(self, scope: _Scope, scope_pose: Pose, name: str, elem: ET.Element,
               ctx: _Ctx) -> Joint:
        kind = elem.get('type', '').strip()
        parent, child = _text(elem.find('parent')), _text(elem.find('child'))
        if not parent or not child:
            raise ctx.error('joint needs <parent> and <child>')
        for role, link in (('child', child), ('parent', parent)):
            if link != 'world' and '::' not in link and not scope.has(link):
                raise ctx.error(f'<{role}> link "{link}" does not exist')
        pose = scope_pose.compose(scope.resolve(name, ctx))
        axis_world = np.array([0.0, 0.0, 1.0])
        lower = upper = None
        damping = 0.0
        axis = elem.find('axis')
        if axis is not None and kind in ('revolute', 'continuous', 'prismatic'):
            actx = ctx.child(axis)
            xyz_elem = axis.find('xyz')
            xyz = np.array(_floats(xyz_elem, actx, 3) if xyz_elem is not None else [0, 0, 1.0])
            if np.linalg.norm(xyz) < 1e-12:
                raise actx.error('joint axis <xyz> is zero')
            expressed = xyz_elem.get('expressed_in', '').strip() if xyz_elem is not None else ''
            if _bool(axis.find('use_parent_model_frame'), actx, False):
                expressed = scope.root_frame
            frame = (scope_pose.compose(scope.resolve(expressed, actx)) if expressed else pose)
            axis_world = rotate(frame.orientation, xyz / np.linalg.norm(xyz))
            limit = axis.find('limit')
            if limit is not None and kind != 'continuous':
                lctx = actx.child(limit)
                lower = _float(limit, 'lower', lctx, -_UNLIMITED)
                upper = _float(limit, 'upper', lctx, _UNLIMITED)
                if lower > upper:
                    raise lctx.error(f'<lower> {lower:g} is above <upper> {upper:g}')
                if lower <= -_UNLIMITED and upper >= _UNLIMITED:
                    lower = upper = None
            dynamics = axis.find('dynamics')
            if dynamics is not None:
                damping = _float(dynamics, 'damping', actx.child(dynamics), 0.0)
        return Joint(scope.scoped(name), kind, _joint_link(scope, parent),
                     _joint_link(scope, child), pose,
                     tuple(float(v) for v in axis_world), lower, upper, damping, ctx.source())

    def _check_joint(self, joint: Joint, links: dict[str, Link]) -> bool:
        """Keep a joint whose links exist; a static parent counts as the world."""
        where = joint.source
        if joint.child not in links:
            raise WorldLoadError(f'{where}: <child> link "{joint.child}" does not exist')
        if joint.parent != 'world' and joint.parent not in links:
            raise WorldLoadError(f'{where}: <parent> link "{joint.parent}" does not exist')
        if links[joint.child].static:
            self.ignored.append(f'{where}: joint to a static link (nothing moves)')
            return False
        return True

    def _link(self, raw: _RawLink, pose: Pose) -> Link:
        elem, ctx, scope = raw.elem, raw.ctx, raw.scope
        name = scope.scoped(raw.local)
        collisions = []
        seen: set[str] = set()
        for index, col in enumerate(elem.findall('collision')):
            cctx = ctx.child(col)
            local = (col.get('name') or '').strip() or f'collision_{index}'
            if local in seen:
                raise cctx.error(f'duplicate collision name "{local}"')
            seen.add(local)
            geometry = self._geometry(col, cctx, scope)
            if geometry is None:
                continue
            cpose, rel = _parse_pose(col.find('pose'), cctx)
            if rel and rel != raw.local:
                # Collision pose relative to another frame of the model: express in the link.
                link_in_model = scope.resolve(raw.local, cctx)
                cpose = link_in_model.inverse().compose(scope.resolve(rel, cctx)).compose(cpose)
            mu_elem = col.find('surface/friction/ode/mu')
            if mu_elem is None:
                mu_elem = col.find('surface/friction/bullet/friction')
            mu = _floats(mu_elem, cctx, 1)[0] if mu_elem is not None else None
            density = _float(col, 'density', cctx, 1000.0, positive=True)
            collisions.append(Collision(f'{name}::{local}', cpose, geometry, mu, density,
                                        cctx.source()))
        for tag in ('sensor', 'projector', 'audio_source', 'particle_emitter'):
            for extra in elem.findall(tag):
                if tag != 'sensor':
                    self.ignore(ctx.child(extra), f'<{tag}> is not simulated')
        if _bool(elem.find('kinematic'), ctx, False) and not scope.static:
            self.ignore(ctx, '<kinematic> (simulated as a dynamic link)')
        model = scope.parent.name if scope.merged and scope.parent is not None else scope.name
        return Link(name=name, model=model, pose=pose, static=scope.static,
                    inertial=self._inertial(elem, ctx, scope.static),
                    collisions=tuple(collisions),
                    gravity=_bool(elem.find('gravity'), ctx, True),
                    source=ctx.source())

    def _inertial(self, elem: ET.Element, ctx: _Ctx, static: bool) -> Inertial:
        inertial = elem.find('inertial')
        if inertial is None:
            return Inertial()
        ictx = ctx.child(inertial)
        if inertial.get('auto', '').strip().lower() in ('true', '1'):
            if inertial.find('mass') is not None and not static:
                self.ignore(ictx, '<mass> with auto="true" (mass follows the collision densities)')
            return Inertial(auto=True)
        mass = _float(inertial, 'mass', ictx, 1.0)
        pose, _ = _parse_pose(inertial.find('pose'), ictx)
        matrix = np.eye(3)
        inertia = inertial.find('inertia')
        if inertia is not None:
            tctx = ictx.child(inertia)
            ixx, iyy, izz = (_float(inertia, t, tctx, 1.0) for t in ('ixx', 'iyy', 'izz'))
            ixy, ixz, iyz = (_float(inertia, t, tctx, 0.0) for t in ('ixy', 'ixz', 'iyz'))
            matrix = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
        if not static:
            if mass <= 0:
                raise ictx.error(f'<mass> must be positive for a non-static link, got {mass:g}')
            moments = np.linalg.eigvalsh(matrix)
            if moments.min() <= 0:
                raise ictx.error('<inertia> is not positive definite')
            if moments[2] > (moments[0] + moments[1]) * (1 + 1e-9):
                self.ignore(ictx, 'principal moments break the triangle inequality; the two '
                                  'smaller ones are raised to satisfy it')
        return Inertial(mass, pose, matrix)

    def _geometry(self, col: ET.Element, ctx: _Ctx, scope: _Scope) -> Geometry | None:
        geom = col.find('geometry')
        if geom is None:
            raise ctx.error('<collision> without <geometry>')
        gctx = ctx.child(geom)
        shapes = list(geom)
        if not shapes:
            raise gctx.error('empty <geometry>')
        shape = shapes[0]
        sctx = gctx.child(shape)
        kind = shape.tag
        if kind == 'empty':
            return None
        if kind in IGNORED_GEOMETRY:
            self.ignore(sctx, f'<{kind}> geometry is not supported')
            return None
        if kind == 'box':
            size = _floats(_required(shape, 'size', sctx), sctx, 3)
            if min(size) <= 0:
                raise sctx.error(f'box <size> must be positive, got {size}')
            return Geometry('box', tuple(size))
        if kind in ('cylinder', 'capsule'):
            radius = _float(shape, 'radius', sctx, 1.0 if kind == 'cylinder' else 0.5,
                            positive=True)
            length = _float(shape, 'length', sctx, 1.0, positive=True)
            return Geometry(kind, (radius, length))
        if kind == 'sphere':
            return Geometry('sphere', (_float(shape, 'radius', sctx, 1.0, positive=True),))
        if kind == 'ellipsoid':
            radii = _floats(_required(shape, 'radii', sctx), sctx, 3)
            if min(radii) <= 0:
                raise sctx.error(f'ellipsoid <radii> must be positive, got {radii}')
            return Geometry('ellipsoid', tuple(radii))
        if kind == 'plane':
            normal = (_floats(shape.find('normal'), sctx, 3) if shape.find('normal') is not None
                      else [0.0, 0.0, 1.0])
            if np.linalg.norm(normal) < 1e-9:
                raise sctx.error('plane <normal> is zero')
            size = (_floats(shape.find('size'), sctx, 2) if shape.find('size') is not None
                    else [1.0, 1.0])
            if not scope.static:
                raise sctx.error('a <plane> collision is only supported in a static model')
            return Geometry('plane', tuple(size), normal=tuple(normal))
        if kind == 'mesh':
            uri = _text(shape.find('uri'))
            if not uri:
                raise sctx.error('<mesh> without <uri>')
            mesh_path = self._resolve(uri, scope, sctx)
            if not mesh_path.is_file():
                raise sctx.not_found(f'mesh "{uri}" is not a file')
            scale = (_floats(shape.find('scale'), sctx, 3) if shape.find('scale') is not None
                     else [1.0, 1.0, 1.0])
            if any(abs(s) < 1e-12 for s in scale):
                raise sctx.error(f'mesh <scale> has a zero component: {scale}')
            if shape.find('submesh') is not None:
                self.ignore(sctx.child(shape.find('submesh')),
                            '<submesh> selection (the whole mesh is used)')
            return Geometry('mesh', (), mesh_path=mesh_path, scale=tuple(scale))
        raise sctx.error(f'unsupported geometry <{kind}> (supported: '
                         f'{", ".join(SUPPORTED_GEOMETRY)})')


def _joint_link(scope: _Scope, name: str) -> str:
    """Scoped link named by a joint's ``<parent>``/``<child>`` in ``scope``: ``'world'``, a
    link (``link``, ``model::link``), or a model, which stands for its canonical link (its
    ``canonical_link`` attribute, else its first link, else that of its first nested model).
    A name that matches nothing is returned scoped, for the caller's "does not exist" error."""
    if name == 'world':
        return name
    target = scope
    parts = name.split('::')
    for part in parts[:-1]:
        if part not in target.models:
            return scope.scoped(name)
        target = target.models[part]
    last = parts[-1]
    if last in target.models and not any(raw.local == last for raw in target.links):
        model = target.models[last]
        while True:
            local = model.canonical or (model.links[0].local if model.links else '')
            if local or not model.models:
                break
            model = next(iter(model.models.values()))
        return model.scoped(local) if local else scope.scoped(name)
    return target.scoped(last)


def _required(parent: ET.Element, tag: str, ctx: _Ctx) -> ET.Element:
    elem = parent.find(tag)
    if elem is None:
        raise ctx.error(f'missing <{tag}>')
    return elem
