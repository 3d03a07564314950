"""Planar geometry of the footprint sweep: constant-twist arcs and 2D robot cross-sections.

The arcs the footprint follows are :mod:`twin_bridge.core.arcs`'s (the prediction's too).
A robot geom's footprint is the convex hull of its projection onto the ground plane, grown by
a radius (a "rounded polygon"): spheres, capsules and upright cylinders are exact; other geoms
use the corners of their bounding box (exact for boxes and for cylinders lying down, a hull
that contains the geom otherwise). Points are tested against all geoms at once.
"""

from __future__ import annotations

import mujoco
import numpy as np

__all__ = ['Footprint2D', 'convex_hull']

# An axis this close to vertical makes a cylinder's footprint a disc.
_UPRIGHT = 1.0 - 1e-9
_CORNER_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)],
                         dtype=float)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise hull vertices of 2D ``points`` (Andrew's monotone chain); one or two
    points for degenerate input."""
    pts = np.unique(np.round(np.asarray(points, dtype=float), 12), axis=0)
    if len(pts) <= 2:
        return pts

    def half(seq: np.ndarray) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for p in seq:
            while len(out) >= 2 and _cross(out[-2], out[-1], p) <= 1e-15:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    hull = np.array(lower[:-1] + upper[:-1])
    return hull if len(hull) else pts[:1]


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


class Footprint2D:
    """The ground-plane cross-sections of a set of geoms, as rounded convex polygons.

    :param vertices: per geom, the hull vertices ``(k, 2)`` (counter-clockwise; ``k`` >= 1)
    :param radii: per geom, the radius the polygon is grown by (m)
    """

    def __init__(self, vertices: list[np.ndarray], radii: np.ndarray) -> None:
        count = len(vertices)
        edges = max(max(len(v) for v in vertices), 1) if count else 1
        self._a = np.zeros((count, edges, 2))
        self._e = np.zeros((count, edges, 2))
        self._n = np.zeros((count, edges, 2))
        self._polygon = np.zeros(count, dtype=bool)
        for g, verts in enumerate(vertices):
            k = len(verts)
            a = np.asarray(verts, dtype=float)
            b = np.roll(a, -1, axis=0)
            pad = edges - k  # repeat the first edge: no effect on min/max
            self._a[g] = np.vstack([a, np.repeat(a[:1], pad, axis=0)])
            self._e[g] = np.vstack([b - a, np.repeat((b - a)[:1], pad, axis=0)])
            self._polygon[g] = k >= 3
        length = np.linalg.norm(self._e, axis=2, keepdims=True)
        safe = np.where(length > 0, length, 1.0)
        self._n[..., 0] = self._e[..., 1] / safe[..., 0]
        self._n[..., 1] = -self._e[..., 0] / safe[..., 0]
        self._ee = np.einsum('gek,gek->ge', self._e, self._e)
        self._ee_safe = np.where(self._ee > 0, self._ee, 1.0)
        self.radii = np.asarray(radii, dtype=float)
        verts_all = [np.asarray(v, dtype=float) for v in vertices]
        self._vertices = verts_all
        #: Per geom, the largest distance of its footprint from the origin (m).
        self.reach = np.array([float(np.max(np.linalg.norm(v, axis=1))) + r
                               for v, r in zip(verts_all, self.radii, strict=True)])

    @classmethod
    def from_geoms(cls, model: mujoco.MjModel, ids: np.ndarray, positions: np.ndarray,
                   matrices: np.ndarray) -> Footprint2D:
        """Footprints of geoms ``ids`` posed at ``positions`` ``(n, 3)`` and rotation
        ``matrices`` ``(n, 3, 3)`` (any frame with a vertical z axis)."""
        outlines = [cls.geom_outline(model, int(g), pos, rot)
                    for g, pos, rot in zip(ids, positions, matrices, strict=True)]
        return cls([v for v, _ in outlines], np.array([r for _, r in outlines]))

    @staticmethod
    def geom_outline(model: mujoco.MjModel, geom: int, pos: np.ndarray, rot: np.ndarray
                     ) -> tuple[np.ndarray, float]:
        """One geom's footprint posed at ``pos`` with rotation ``rot``: its hull vertices
        ``(k, 2)`` (counter-clockwise) and the radius they are grown by."""
        kind, size = model.geom_type[geom], model.geom_size[geom]
        axis = rot[:, 2]
        if kind == mujoco.mjtGeom.mjGEOM_SPHERE:
            verts, radius = pos[None, :2], size[0]
        elif kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
            verts = np.array([pos + axis * size[1], pos - axis * size[1]])[:, :2]
            radius = size[0]
        elif kind == mujoco.mjtGeom.mjGEOM_CYLINDER and abs(axis[2]) >= _UPRIGHT:
            verts, radius = pos[None, :2], size[0]
        else:
            aabb = model.geom_aabb[geom]
            corners = pos + (aabb[:3] + _CORNER_SIGNS * aabb[3:]) @ rot.T
            verts, radius = corners[:, :2], 0.0
        return convex_hull(verts), float(radius)

    def outline(self, geom: int) -> tuple[np.ndarray, float]:
        """Geom ``geom``'s hull vertices and radius (as :meth:`geom_outline` gave them)."""
        return self._vertices[geom], float(self.radii[geom])

    def contains(self, vertices: np.ndarray, radius: float) -> bool:
        """Whether the rounded polygon ``vertices`` grown by ``radius`` lies inside one of
        these footprints."""
        inside = self.distances(np.asarray(vertices, dtype=float)) + radius <= 1e-12
        return bool(np.any(np.all(inside, axis=0)))

    def outermost(self) -> np.ndarray:
        """Indices of the geoms whose footprint is not inside another's (the nearest geom to
        an outside point is always among them, so points need only be tested against these).
        Of two equal footprints the first is kept."""
        count = len(self._vertices)
        keep = np.ones(count, dtype=bool)
        for g, verts in enumerate(self._vertices):
            # Inside another when every vertex disc is: that footprint is convex.
            inside = self.distances(verts) + self.radii[g] <= 1e-12      # (k, geoms)
            for other in np.flatnonzero(np.all(inside, axis=0)):
                if other != g and keep[other] and (
                        other < g or not np.all(self.distances(self._vertices[other])[:, g]
                                                + self.radii[other] <= 1e-12)):
                    keep[g] = False
                    break
        return np.flatnonzero(keep)

    def subset(self, rows: np.ndarray) -> Footprint2D:
        """The footprints of the geoms ``rows`` only (in that order)."""
        return Footprint2D([self._vertices[int(g)] for g in rows], self.radii[rows])

    def distances(self, points: np.ndarray) -> np.ndarray:
        """Signed distances ``(m, geoms)`` from 2D ``points`` ``(m, 2)`` to each footprint
        (negative inside)."""
        w = points[:, None, None, :] - self._a[None]                       # (m, g, e, 2)
        h = np.clip(np.einsum('mgek,gek->mge', w, self._e) / self._ee_safe, 0.0, 1.0)
        off = w - h[..., None] * self._e
        seg = np.sqrt(np.einsum('mgek,mgek->mge', off, off)).min(axis=2)   # (m, g)
        side = np.einsum('mgek,gek->mge', w, self._n).max(axis=2)
        inside = self._polygon[None] & (side <= 0.0)
        return np.where(inside, side, seg) - self.radii[None]

    def distances_and_gradients(self, points: np.ndarray
                                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`distances`, the unit (sub)gradient ``(m, geoms, 2)`` of each distance (outside:
        from the nearest point towards the point; inside a polygon: the normal of the nearest
        edge) and where it is meaningful ``(m, geoms)`` (not on a point or segment itself).
        The signed distance to a convex set is convex, so ``d(q) >= d(p) + gradient . (q - p)``
        for every ``q``."""
        w = points[:, None, None, :] - self._a[None]                       # (m, g, e, 2)
        h = np.clip(np.einsum('mgek,gek->mge', w, self._e) / self._ee_safe, 0.0, 1.0)
        off = w - h[..., None] * self._e
        seg_all = np.sqrt(np.einsum('mgek,mgek->mge', off, off))
        near = np.argmin(seg_all, axis=2)[..., None]                       # (m, g, 1)
        seg = np.take_along_axis(seg_all, near, axis=2)[..., 0]
        out_grad = np.take_along_axis(off, near[..., None], axis=2)[:, :, 0, :]
        sides = np.einsum('mgek,gek->mge', w, self._n)
        edge = np.argmax(sides, axis=2)[..., None]
        side = np.take_along_axis(sides, edge, axis=2)[..., 0]
        inside = self._polygon[None] & (side <= 0.0)
        in_grad = self._n[np.arange(len(self._n))[None, :], edge[..., 0]]  # (m, g, 2)
        valid = inside | (seg > 1e-12)
        grad = np.where(inside[..., None], in_grad,
                        out_grad / np.where(valid, seg, 1.0)[..., None])
        return np.where(inside, side, seg) - self.radii[None], grad, valid
