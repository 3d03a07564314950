"""Parse an SDFormat world (1.6 to 1.11) into a flat, simulator-neutral :class:`WorldDescription`.

Only what a ray-casting twin needs is kept: every link's world pose, its inertial, its
*collision* geometry, and the joints of non-static models (including SDF 1.8+ world-level
joints, whose ``<parent>``/``<child>`` are scoped names). Visual-only geometry is not read:
the embedded lidar hits collision shapes, so a world's visuals and collisions should agree
(Gazebo's ``gpu_lidar`` renders the visuals). Elements that would change what is simulated but
are not supported (heightmaps, polylines, actors, universal/screw joints, ...) are collected
in :attr:`WorldDescription.ignored` and reported in one warning on the
``twin_bridge.description.sdf_world`` logger; nothing is dropped silently.

This module holds the world and joint data classes and the parser that ties the rest together:
``sdf_elements`` (element locations, typed values), ``sdf_frames`` (scopes, the frame graph),
``sdf_includes`` (``<include>``, model files), ``sdf_geometry`` and ``sdf_links``.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.core.transforms import Pose, rotate
from twin_bridge.description.resources import find_world, model_search_path
from twin_bridge.description.sdf_elements import (
    ElementContext,
    ParseState,
    read_bool,
    read_float,
    read_floats,
    read_pose,
    read_text,
    read_xml,
)
from twin_bridge.description.sdf_frames import Scope, local_name
from twin_bridge.description.sdf_geometry import IGNORED_GEOMETRY, SUPPORTED_GEOMETRY, Geometry
from twin_bridge.description.sdf_includes import ModelOverride, read_include
from twin_bridge.description.sdf_joint_locks import lock_joints
from twin_bridge.description.sdf_links import Collision, Inertial, Link, read_link
from twin_bridge.description.sdf_state import read_state_poses
from twin_bridge.errors import WorldLoadError

__all__ = [
    'Collision',
    'Geometry',
    'IGNORED_GEOMETRY',
    'Inertial',
    'Joint',
    'Link',
    'SUPPORTED_GEOMETRY',
    'WorldDescription',
    'parse_world',
]

LOGGER = logging.getLogger('twin_bridge.description.sdf_world')

DEFAULT_GRAVITY = (0.0, 0.0, -9.8)
# World or model children that would be simulated by Gazebo but are not by this loader.
IGNORED_WORLD_CHILDREN = ('actor', 'population', 'road')
# SDF joint types simulated (ball has no axis; fixed welds the child to the parent).
SUPPORTED_JOINTS = ('revolute', 'continuous', 'prismatic', 'ball', 'fixed')
_UNLIMITED = 1e15


@dataclass(frozen=True)
class Joint:
    """A joint of a non-static world model, or a joint directly under ``<world>`` (SDF 1.8+).

    ``name`` is scoped (``model::joint``; a world-level joint's name has no scope);
    ``type`` is one of :data:`SUPPORTED_JOINTS`; ``parent`` is a scoped link name or
    ``'world'``; ``child`` a scoped link name (a ``<child>`` naming a model means its
    canonical link); ``pose`` is the joint frame in the world; ``axis`` a unit vector in the world
    (at the poses the file gives); ``lower``/``upper`` are ``None`` when unlimited. A locked
    joint (``lower == upper``) is read as ``fixed``, its child moved to the locked position.
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


class _WorldParser:
    """One parse of one world file (and everything it includes)."""

    def __init__(self, file: Path, search_path: list[Path]) -> None:
        self.file = file
        self.state = ParseState(search_path)
        self.state_poses: dict[str, Pose] = {}

    # ---- top level

    def parse(self) -> WorldDescription:
        root = read_xml(self.file)
        ctx = ElementContext(self.file)
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
            self.state.ignore(ctx.child(extra), 'additional world (only the first is loaded)')
        wctx = ctx.child(world_elem)
        self.state_poses = read_state_poses(world_elem, wctx, self.state)
        world = Scope('', wctx, None, False, self.file.parent)
        self._fill_scope(world, world_elem, wctx, depth=0)
        for name in self.state_poses.keys() - world.models.keys():
            self.state.ignore(wctx, f'<state> places model "{name}", which the world does not '
                                    'have (inserted at run time?)')
        links, joints = self._collect(world)
        gravity, step = self._physics(world_elem, wctx)
        models = tuple(world.model_names())
        ignored = self.state.ignored
        if ignored:
            LOGGER.warning('%s: %d element(s) not simulated:\n  %s', self.file, len(ignored),
                           '\n  '.join(ignored))
        return WorldDescription(
            name=world_elem.get('name', self.file.stem), path=self.file, version=version,
            links=tuple(links), models=models, joints=tuple(joints), gravity=gravity,
            max_step_size=step,
            ignored=tuple(ignored))

    def _physics(self, world_elem: ET.Element,
                 ctx: ElementContext) -> tuple[tuple[float, ...], float | None]:
        physics = world_elem.findall('physics')
        chosen = next((p for p in physics if p.get('default', '').strip().lower() in ('1', 'true')),
                      physics[0] if physics else None)
        step = None
        gravity_elem = world_elem.find('gravity')
        if chosen is not None:
            pctx = ctx.child(chosen)
            if chosen.find('max_step_size') is not None:
                step = read_float(chosen, 'max_step_size', pctx, positive=True)
            if gravity_elem is None:
                gravity_elem = chosen.find('gravity')  # where SDF 1.4 and older kept it
        gravity = (tuple(read_floats(gravity_elem, ctx, 3)) if gravity_elem is not None
                   else DEFAULT_GRAVITY)
        return gravity, step

    # ---- scopes

    def _fill_scope(self, scope: Scope, elem: ET.Element, ctx: ElementContext,
                    depth: int) -> None:
        """Read the children of a <world> or <model> element into ``scope``."""
        is_world = scope.parent is None
        for child in elem:
            cctx = ctx.child(child)
            tag = child.tag
            if tag == 'model':
                self._add_model(scope, child, cctx, depth, ModelOverride())
            elif tag == 'include':
                included = read_include(child, cctx, depth, scope.base_dir, self.state)
                if included is not None:
                    model_elem, mctx, override = included
                    self._add_model(scope, model_elem, mctx, depth + 1, override)
            elif tag == 'frame':
                scope.add_frame(child, cctx)
            elif tag == 'link' and not is_world:
                scope.add_link(child, cctx)
            elif tag == 'joint':
                self._add_joint(scope, child, cctx)  # in <world> too (SDF 1.8+)
            elif tag in IGNORED_WORLD_CHILDREN:
                self.state.ignore(cctx, f'<{tag}> is not simulated')

    def _add_joint(self, scope: Scope, elem: ET.Element, ctx: ElementContext) -> None:
        name = local_name(elem, ctx)
        scope.add_joint_frame(name, elem, ctx)
        if scope.static:
            return
        kind = elem.get('type', '').strip()
        if kind in SUPPORTED_JOINTS:
            scope.joints.append((name, elem, ctx))
        else:
            self.state.ignore(ctx, f'joint of type "{kind}" (its child link moves freely)')

    def _add_model(self, parent: Scope, elem: ET.Element, ctx: ElementContext, depth: int,
                   override: ModelOverride) -> None:
        """Add ``elem`` (a <model>) as a child scope; ``override`` comes from an <include>."""
        name = override.name or local_name(elem, ctx)
        if name in parent.models:
            raise ctx.error(f'duplicate model name "{name}"')
        static = read_bool(elem.find('static'), ctx, False)
        if override.static is not None:
            static = override.static
        static = static or parent.static
        merged = override.merge and parent.parent is not None
        if merged:
            name = f'_merged__{name}__model__'  # the proxy frame SDFormat gives a merged model
        scope = Scope(parent.scoped(name), ctx, parent, static,
                      override.base_dir or parent.base_dir, merged)
        scope.canonical = elem.get('canonical_link', '').strip()
        self._fill_scope(scope, elem, ctx, depth)
        pose, rel = override.pose or read_pose(elem.find('pose'), ctx)
        placement = override.placement_frame or elem.get('placement_frame', '').strip()
        if parent.parent is None and name in self.state_poses:
            pose, rel, placement = self.state_poses[name], '', ''  # a saved <state> moved it
        parent.add_model(name, scope, pose, rel, placement, ctx)

    # ---- links and joints

    def _collect(self, world: Scope) -> tuple[list[Link], list[Joint]]:
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
                self.state.ignored.append(f'{joint.source}: second joint to link '
                                          f'"{joint.child}" (closed kinematic loops are not '
                                          'simulated)')
                continue
            ancestor = joint.parent
            while ancestor in tree and ancestor != joint.child:
                ancestor = tree[ancestor].parent
            if ancestor == joint.child:
                self.state.ignored.append(f'{joint.source}: joint closes a kinematic loop')
                continue
            tree[joint.child] = joint
        return lock_joints(links, list(tree.values()))

    def _walk(self, scope: Scope, scope_pose: Pose, links: list[Link],
              joints: list[Joint]) -> None:
        for raw in scope.links:
            pose = scope_pose.compose(scope.resolve(raw.local, raw.ctx))
            links.append(read_link(raw, pose, self.state))
        for name, elem, ctx in scope.joints:
            joints.append(self._joint(scope, scope_pose, name, elem, ctx))
        for local, child in scope.models.items():
            self._walk(child, scope_pose.compose(scope.resolve(local, child.ctx)), links, joints)

    def _joint(self, scope: Scope, scope_pose: Pose, name: str, elem: ET.Element,
               ctx: ElementContext) -> Joint:
        kind = elem.get('type', '').strip()
        parent, child = read_text(elem.find('parent')), read_text(elem.find('child'))
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
            xyz = np.array(read_floats(xyz_elem, actx, 3) if xyz_elem is not None else [0, 0, 1.0])
            if np.linalg.norm(xyz) < 1e-12:
                raise actx.error('joint axis <xyz> is zero')
            expressed = xyz_elem.get('expressed_in', '').strip() if xyz_elem is not None else ''
            if read_bool(axis.find('use_parent_model_frame'), actx, False):
                expressed = scope.root_frame
            frame = (scope_pose.compose(scope.resolve(expressed, actx)) if expressed else pose)
            axis_world = rotate(frame.orientation, xyz / np.linalg.norm(xyz))
            limit = axis.find('limit')
            if limit is not None and kind != 'continuous':
                lctx = actx.child(limit)
                lower = read_float(limit, 'lower', lctx, -_UNLIMITED)
                upper = read_float(limit, 'upper', lctx, _UNLIMITED)
                if lower > upper:
                    raise lctx.error(f'<lower> {lower:g} is above <upper> {upper:g}')
                if lower <= -_UNLIMITED and upper >= _UNLIMITED:
                    lower = upper = None
            dynamics = axis.find('dynamics')
            if dynamics is not None:
                damping = read_float(dynamics, 'damping', actx.child(dynamics), 0.0)
        return Joint(scope.scoped(name), kind, scope.joint_link(parent),
                     scope.joint_link(child), pose,
                     tuple(float(v) for v in axis_world), lower, upper, damping, ctx.source())

    def _check_joint(self, joint: Joint, links: dict[str, Link]) -> bool:
        """Keep a joint whose links exist; a static parent counts as the world."""
        where = joint.source
        if joint.child not in links:
            raise WorldLoadError(f'{where}: <child> link "{joint.child}" does not exist')
        if joint.parent != 'world' and joint.parent not in links:
            raise WorldLoadError(f'{where}: <parent> link "{joint.parent}" does not exist')
        if links[joint.child].static:
            self.state.ignored.append(f'{where}: joint to a static link (nothing moves)')
            return False
        return True
