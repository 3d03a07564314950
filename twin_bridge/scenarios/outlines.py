"""Ground-plane outlines of MuJoCo geoms (for the scenario plots)."""

from __future__ import annotations

import mujoco
import numpy as np

from twin_bridge.embedded.footprint_shapes import convex_hull

__all__ = ['geom_outline', 'outlines_near']

_ROUND = (int(mujoco.mjtGeom.mjGEOM_CYLINDER), int(mujoco.mjtGeom.mjGEOM_SPHERE),
          int(mujoco.mjtGeom.mjGEOM_CAPSULE))
_CIRCLE = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)


def geom_outline(model: mujoco.MjModel, data: mujoco.MjData, geom: int) -> np.ndarray:
    """The convex outline ``(k, 2)`` of geom ``geom`` projected on the ground plane, from its
    current pose: round geoms from their circles, others from their local bounding box."""
    pos, mat = data.geom_xpos[geom], data.geom_xmat[geom].reshape(3, 3)
    kind, size = int(model.geom_type[geom]), model.geom_size[geom]
    if kind in _ROUND:
        r = size[0]
        half = 0.0 if kind == int(mujoco.mjtGeom.mjGEOM_SPHERE) else size[1]
        ring = np.column_stack([r * np.cos(_CIRCLE), r * np.sin(_CIRCLE),
                                np.zeros_like(_CIRCLE)])
        local = np.vstack([ring + (0, 0, half), ring - (0, 0, half)])
        if kind == int(mujoco.mjtGeom.mjGEOM_CAPSULE):
            local = np.vstack([local, local[:, [2, 1, 0]], local[:, [0, 2, 1]]])
    else:
        centre, half = model.geom_aabb[geom, :3], model.geom_aabb[geom, 3:]
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
        local = centre + signs * half
    world = pos + local @ mat.T
    return convex_hull(world[:, :2])


def outlines_near(model: mujoco.MjModel, data: mujoco.MjData, ids: np.ndarray,
                  lo: np.ndarray, hi: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``(name, outline)`` of the geoms ``ids`` whose outline meets the box ``lo``-``hi``."""
    out = []
    for g in ids:
        poly = geom_outline(model, data, int(g))
        if len(poly) and np.all(poly.max(axis=0) >= lo) and np.all(poly.min(axis=0) <= hi):
            out.append((model.geom(int(g)).name, poly))
    return out
