"""SDF links: a ``<link>`` read into a :class:`Link` with its collisions and inertial."""

from __future__ import annotations

from dataclasses import dataclass, field
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.core.transforms import Pose
from twin_bridge.description.sdf_elements import (
    ElementContext,
    ParseState,
    read_bool,
    read_float,
    read_floats,
    read_pose,
)
from twin_bridge.description.sdf_frames import RawLink
from twin_bridge.description.sdf_geometry import Geometry, read_geometry

__all__ = ['Collision', 'Inertial', 'Link', 'read_link']


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


def read_link(raw: RawLink, pose: Pose, state: ParseState) -> Link:
    """The :class:`Link` of ``raw`` at world ``pose``; unsimulated children go to ``state``."""
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
        geometry = read_geometry(col, cctx, state, static=scope.static, base_dir=scope.base_dir)
        if geometry is None:
            continue
        cpose, rel = read_pose(col.find('pose'), cctx)
        # A collision pose relative to another frame of the model: express it in the link.
        cpose = scope.in_frame(raw.local, cpose, rel, cctx)
        mu_elem = col.find('surface/friction/ode/mu')
        if mu_elem is None:
            mu_elem = col.find('surface/friction/bullet/friction')
        mu = read_floats(mu_elem, cctx, 1)[0] if mu_elem is not None else None
        density = read_float(col, 'density', cctx, 1000.0, positive=True)
        collisions.append(Collision(f'{name}::{local}', cpose, geometry, mu, density,
                                    cctx.source()))
    for tag in ('projector', 'audio_source', 'particle_emitter'):
        for extra in elem.findall(tag):
            state.ignore(ctx.child(extra), f'<{tag}> is not simulated')
    if read_bool(elem.find('kinematic'), ctx, False) and not scope.static:
        state.ignore(ctx, '<kinematic> (simulated as a dynamic link)')
    model = scope.parent.name if scope.merged and scope.parent is not None else scope.name
    return Link(name=name, model=model, pose=pose, static=scope.static,
                inertial=_inertial(elem, ctx, scope.static, state),
                collisions=tuple(collisions),
                gravity=read_bool(elem.find('gravity'), ctx, True),
                source=ctx.source())


def _inertial(elem: ET.Element, ctx: ElementContext, static: bool, state: ParseState) -> Inertial:
    inertial = elem.find('inertial')
    if inertial is None:
        return Inertial()
    ictx = ctx.child(inertial)
    if inertial.get('auto', '').strip().lower() in ('true', '1'):
        if inertial.find('mass') is not None and not static:
            state.ignore(ictx, '<mass> with auto="true" (mass follows the collision densities)')
        return Inertial(auto=True)
    mass = read_float(inertial, 'mass', ictx, 1.0)
    pose, _ = read_pose(inertial.find('pose'), ictx)
    matrix = np.eye(3)
    inertia = inertial.find('inertia')
    if inertia is not None:
        tctx = ictx.child(inertia)
        ixx, iyy, izz = (read_float(inertia, t, tctx, 1.0) for t in ('ixx', 'iyy', 'izz'))
        ixy, ixz, iyz = (read_float(inertia, t, tctx, 0.0) for t in ('ixy', 'ixz', 'iyz'))
        matrix = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
    if not static:
        if mass <= 0:
            raise ictx.error(f'<mass> must be positive for a non-static link, got {mass:g}')
        moments = np.linalg.eigvalsh(matrix)
        if moments.min() <= 0:
            raise ictx.error('<inertia> is not positive definite')
        if moments[2] > (moments[0] + moments[1]) * (1 + 1e-9):
            state.ignore(ictx, 'principal moments break the triangle inequality; the two '
                               'smaller ones are raised to satisfy it')
    return Inertial(mass, pose, matrix)
