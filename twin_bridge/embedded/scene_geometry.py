"""The collision geometry of a compiled twin model (world and robot), for views and markers."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from twin_bridge.embedded.mujoco_robot import ROBOT_GEOM_GROUP
from twin_bridge.embedded.mujoco_world import WORLD_GEOM_GROUP

__all__ = ['GeomShape', 'SceneGeometry']

_G = mujoco.mjtGeom


@dataclass(frozen=True)
class GeomShape:
    """One geom: its MuJoCo type (``mjtGeom``), size, mesh triangles (mesh only) and pose in
    its parent frame (the world for world geoms, the robot's root body for the robot's)."""

    kind: int
    size: np.ndarray
    position: np.ndarray
    rotation: np.ndarray  # 3x3
    triangles: np.ndarray | None = None  # (3n, 3) vertices in the geom frame


class SceneGeometry:
    """The collision geometry of a compiled twin model, ready to be drawn (Foxglove
    entities, ROS markers).

    World geoms (group :data:`WORLD_GEOM_GROUP`, planes skipped) are placed where ``data``
    has them; the robot's colliding geoms (group :data:`ROBOT_GEOM_GROUP`) are kept relative
    to the robot's root body and placed at a given base pose (the mirrored one). Boxes become
    cubes, spheres and ellipsoids spheres, cylinders and capsules cylinders (a capsule's caps
    as spheres), meshes triangle lists; height fields are skipped.

    :param model: the compiled model (e.g. ``EmbeddedBackend.model``)
    :param data: its data, with kinematics computed (world geom poses)
    :param robot_root: the robot's root body id (``None``: no robot entity)
    """

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData,
                 robot_root: int | None = None) -> None:
        self._model = model
        world = np.flatnonzero((model.geom_group == WORLD_GEOM_GROUP)
                               & (model.geom_type != _G.mjGEOM_PLANE))
        self.world_shapes = [s for s in (self._shape(g, data.geom_xpos[g],
                                                     data.geom_xmat[g].reshape(3, 3))
                                         for g in world) if s is not None]
        self.robot_shapes: list[GeomShape] = []
        if robot_root is not None:
            root_pos = data.xpos[robot_root]
            root_rot = data.xmat[robot_root].reshape(3, 3)
            colliding = (model.geom_contype != 0) | (model.geom_conaffinity != 0)
            robot = np.flatnonzero((model.geom_group == ROBOT_GEOM_GROUP) & colliding
                                   & (model.body_rootid[model.geom_bodyid] == robot_root))
            for g in robot:
                rel_pos = root_rot.T @ (data.geom_xpos[g] - root_pos)
                rel_rot = root_rot.T @ data.geom_xmat[g].reshape(3, 3)
                shape = self._shape(g, rel_pos, rel_rot)
                if shape is not None:
                    self.robot_shapes.append(shape)

    def _shape(self, geom: int, position: np.ndarray, rotation: np.ndarray) -> GeomShape | None:
        m = self._model
        kind = int(m.geom_type[geom])
        triangles = None
        if kind == _G.mjGEOM_MESH:
            mesh = int(m.geom_dataid[geom])
            v0, f0, nf = m.mesh_vertadr[mesh], m.mesh_faceadr[mesh], m.mesh_facenum[mesh]
            faces = m.mesh_face[f0:f0 + nf] + v0
            triangles = m.mesh_vert[faces.reshape(-1)].astype(float)
        elif kind not in (_G.mjGEOM_BOX, _G.mjGEOM_SPHERE, _G.mjGEOM_ELLIPSOID,
                          _G.mjGEOM_CYLINDER, _G.mjGEOM_CAPSULE):
            return None
        return GeomShape(kind, m.geom_size[geom].copy(), np.array(position, dtype=float),
                      np.array(rotation, dtype=float), triangles)
