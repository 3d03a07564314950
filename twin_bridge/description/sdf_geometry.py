"""SDF collision geometry: a ``<geometry>`` element read into a :class:`Geometry` (meshes too)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import xml.etree.ElementTree as ET

import numpy as np

from twin_bridge.description.sdf_elements import (
    ElementContext,
    ParseState,
    read_float,
    read_floats,
    read_text,
    required_child,
)

__all__ = ['IGNORED_GEOMETRY', 'SUPPORTED_GEOMETRY', 'Geometry', 'read_geometry']

# SDF geometry elements this loader turns into shapes.
SUPPORTED_GEOMETRY = ('box', 'cylinder', 'sphere', 'capsule', 'ellipsoid', 'cone', 'plane',
                      'mesh')
# SDF geometry elements that exist in the specification but are not simulated here.
IGNORED_GEOMETRY = ('heightmap', 'polyline', 'image')


@dataclass(frozen=True)
class Geometry:
    """One collision shape, in SDF terms (full lengths, not half sizes).

    ``size`` per ``kind``: box ``(x, y, z)``; cylinder, capsule and cone ``(radius, length)``
    (capsule length excludes the caps; a cone's base is at ``-length / 2``, its apex above);
    sphere ``(radius,)``; ellipsoid ``(a, b, c)`` radii;
    plane ``(size_x, size_y)`` with ``normal``; mesh ``()`` with ``mesh_path`` and ``scale``.
    """

    kind: str
    size: tuple[float, ...] = ()
    normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    mesh_path: Path | None = None
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)


def read_geometry(col: ET.Element, ctx: ElementContext, state: ParseState, *, static: bool,
                  base_dir: Path) -> Geometry | None:
    """The shape of ``<collision>`` ``col``; ``None`` for an empty or ignored one.

    :param static: whether the collision's model is static (a plane must be)
    :param base_dir: directory a relative mesh URI is resolved against
    :raise WorldLoadError: a missing, malformed or unsupported shape
    :raise ResourceNotFoundError: a mesh file that does not exist
    """
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
        state.ignore(sctx, f'<{kind}> geometry is not supported')
        return None
    if kind == 'box':
        size = read_floats(required_child(shape, 'size', sctx), sctx, 3)
        if min(size) <= 0:
            raise sctx.error(f'box <size> must be positive, got {size}')
        return Geometry('box', tuple(size))
    if kind in ('cylinder', 'capsule', 'cone'):
        radius = read_float(shape, 'radius', sctx, 0.5 if kind == 'capsule' else 1.0,
                            positive=True)
        length = read_float(shape, 'length', sctx, 1.0, positive=True)
        return Geometry(kind, (radius, length))
    if kind == 'sphere':
        return Geometry('sphere', (read_float(shape, 'radius', sctx, 1.0, positive=True),))
    if kind == 'ellipsoid':
        radii = read_floats(required_child(shape, 'radii', sctx), sctx, 3)
        if min(radii) <= 0:
            raise sctx.error(f'ellipsoid <radii> must be positive, got {radii}')
        return Geometry('ellipsoid', tuple(radii))
    if kind == 'plane':
        normal = (read_floats(shape.find('normal'), sctx, 3) if shape.find('normal') is not None
                  else [0.0, 0.0, 1.0])
        if np.linalg.norm(normal) < 1e-9:
            raise sctx.error('plane <normal> is zero')
        size = (read_floats(shape.find('size'), sctx, 2) if shape.find('size') is not None
                else [1.0, 1.0])
        if not static:
            raise sctx.error('a <plane> collision is only supported in a static model')
        return Geometry('plane', tuple(size), normal=tuple(normal))
    if kind == 'mesh':
        return _mesh(shape, sctx, state, base_dir)
    raise sctx.error(f'unsupported geometry <{kind}> (supported: '
                     f'{", ".join(SUPPORTED_GEOMETRY)})')


def _mesh(shape: ET.Element, sctx: ElementContext, state: ParseState,
          base_dir: Path) -> Geometry:
    """A ``<mesh>``: its file (which must exist) and scale; a ``<submesh>`` is ignored."""
    uri = read_text(shape.find('uri'))
    if not uri:
        raise sctx.error('<mesh> without <uri>')
    mesh_path = state.resolve(uri, base_dir, sctx)
    if not mesh_path.is_file():
        raise sctx.not_found(f'mesh "{uri}" is not a file')
    scale = (read_floats(shape.find('scale'), sctx, 3) if shape.find('scale') is not None
             else [1.0, 1.0, 1.0])
    if any(abs(s) < 1e-12 for s in scale):
        raise sctx.error(f'mesh <scale> has a zero component: {scale}')
    if shape.find('submesh') is not None:
        state.ignore(sctx.child(shape.find('submesh')),
                     '<submesh> selection (the whole mesh is used)')
    return Geometry('mesh', (), mesh_path=mesh_path, scale=tuple(scale))
