"""Triangle meshes of SDF shapes MuJoCo has no primitive for (the cone)."""

from __future__ import annotations

import math

import numpy as np

from twin_bridge.description.meshes import TriangleMesh

__all__ = ['CONE_TOLERANCE', 'cone_mesh']

#: Largest distance (m) between a cone's surface and its triangulation.
CONE_TOLERANCE = 1e-4
_MAX_SEGMENTS = 2048


def cone_segments(radius: float, tolerance: float = CONE_TOLERANCE) -> int:
    """Segments of the base circle so that no point of the surface is further than
    ``tolerance`` from the inscribed polygon (the sagitta ``r (1 - cos(pi / n))``)."""
    if radius <= tolerance:
        return 8
    return int(min(_MAX_SEGMENTS, max(8, math.ceil(math.pi / math.acos(1 - tolerance / radius)))))


def cone_mesh(radius: float, length: float, tolerance: float = CONE_TOLERANCE) -> TriangleMesh:
    """A closed, outward-facing cone as SDF (and gz-common) define it: axis +z, base circle of
    ``radius`` at ``z = -length / 2``, apex at ``z = +length / 2``.

    :raise ValueError: a radius or length that is not positive
    """
    if not (radius > 0 and length > 0):
        raise ValueError(f'cone radius and length must be positive, got {radius}, {length}')
    n = cone_segments(radius, tolerance)
    angles = 2 * math.pi * np.arange(n) / n
    ring = np.column_stack([radius * np.cos(angles), radius * np.sin(angles),
                            np.full(n, -length / 2)])
    apex, centre = n, n + 1
    vertices = np.vstack([ring, [[0.0, 0.0, length / 2], [0.0, 0.0, -length / 2]]])
    index = np.arange(n)
    following = (index + 1) % n
    sides = np.column_stack([index, following, np.full(n, apex)])
    base = np.column_stack([following, index, np.full(n, centre)])
    faces = np.vstack([sides, base]).astype(np.int32)
    return TriangleMesh(vertices, faces)
