"""The world's lidar-visible geometry as a ray-casting model of its own, in spatial cells, so a
scan costs what the geometry near the lidar costs, not what the whole world costs."""

from __future__ import annotations

import mujoco
import numpy as np

__all__ = ['MAX_CELLS', 'ScanScene']

#: Most cells a scene is split into (each cell is one body ``mj_multiRay`` visits per ray).
MAX_CELLS = 128
# Geom group (in the scene model) of geoms skipped for one call: off the scan plane.
_SKIPPED_GROUP = 5


def world_boxes(xpos: np.ndarray, xmat: np.ndarray, aabb: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """World-frame axis-aligned boxes ``(centre, half)`` of geoms at ``xpos`` (n, 3) and
    ``xmat`` (n, 9) with local boxes ``aabb`` (n, 6: centre, half-size)."""
    rot = xmat.reshape(-1, 3, 3)
    centre = xpos + np.einsum('kij,kj->ki', rot, aabb[:, :3])
    half = np.einsum('kij,kj->ki', np.abs(rot), aabb[:, 3:])
    return centre, half


class ScanScene:
    """A static copy of chosen world geoms, grouped into cells, cast with ``mj_multiRay``.

    ``mj_multiRay`` visits every body for every ray (a bounding-sphere test per body): in a
    world of 3,000 free bodies that, not the geometry in range, is the cost of a scan. Here
    the geoms are copied, at their world poses, into a model of their own whose bodies are
    cells of a uniform grid in x-y (at most :data:`MAX_CELLS`, each at least ``cell_size``
    wide). A cast first drops the cells farther than the cutoff from the origin (and, for a
    planar fan, the cells and geoms whose box misses the scan plane) for that one call, then
    casts the exact geometry of the rest: the same ``mj_ray*`` intersections as casting the
    world itself, on the same triangles and primitives.

    Geoms on moving bodies follow them: :meth:`sync` copies their current world poses in
    (comparing with the last ones, so calling it before every cast costs little) and widens
    their cells' bounding boxes. Meshes are copied from the compiled model (vertices and
    faces as compiled); planes (unbounded) sit on the scene's world body and are never
    dropped. Not thread-safe: the caller serialises casts.

    :param model: the compiled world (and robot) model
    :param data: its data, with geom poses up to date (``mj_kinematics``)
    :param geom_ids: the geoms rays may hit
    :param cell_size: the smallest cell edge (m); the lidar's range is a good choice
    """

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, geom_ids: np.ndarray,
                 cell_size: float) -> None:
        geom_ids = np.asarray(geom_ids, dtype=np.intp)
        bounded = geom_ids[model.geom_rbound[geom_ids] > 0]
        planes = geom_ids[model.geom_rbound[geom_ids] <= 0]
        centre, _ = world_boxes(data.geom_xpos[bounded], data.geom_xmat[bounded],
                                model.geom_aabb[bounded])
        cell_of = _cells(centre[:, :2], max(float(cell_size), 1e-3))
        self.model = _build(model, data, planes, bounded, cell_of)
        self.data = mujoco.MjData(self.model)
        mujoco.mj_kinematics(self.model, self.data)
        m = self.model
        # Scene geom -> source geom, from the names given in _build.
        self.source_ids = np.array([int(m.geom(i).name[1:]) for i in range(m.ngeom)],
                                   dtype=np.intp)
        self._cells = np.arange(1, m.nbody, dtype=np.intp)          # body 0 holds the planes
        self._geomnum0 = m.body_geomnum[self._cells].copy()
        self._bvhadr0 = m.body_bvhadr[self._cells].copy()
        self._bounded = np.flatnonzero(m.geom_rbound > 0)
        self._group0 = m.geom_group.copy()
        self._box_centre, self._box_half = world_boxes(
            self.data.geom_xpos[self._bounded], self.data.geom_xmat[self._bounded],
            m.geom_aabb[self._bounded])
        self._cell_of_box = m.geom_bodyid[self._bounded]            # body id of each box
        self._cell_rows = {int(c): np.flatnonzero(self._cell_of_box == c) for c in self._cells}
        self._cell_centre = np.zeros((m.nbody, 3))
        self._cell_half = np.zeros((m.nbody, 3))
        self._refresh_cells(self._cells)
        # Geoms on bodies that move (not welded to the world) and their fixed offsets from
        # the source geom's frame (a mesh is re-centred when the scene compiles).
        source = self.source_ids
        moving = model.body_weldid[model.geom_bodyid[source]] != 0
        self._moving = np.flatnonzero(moving)
        self._moving_source = source[self._moving]
        src_rot = data.geom_xmat[self._moving_source].reshape(-1, 3, 3)
        own_rot = self.data.geom_xmat[self._moving].reshape(-1, 3, 3)
        self._rot_offset = np.einsum('kji,kjl->kil', src_rot, own_rot)
        self._pos_offset = np.einsum('kji,kj->ki', src_rot,
                                     self.data.geom_xpos[self._moving]
                                     - data.geom_xpos[self._moving_source])
        self._synced_xpos = data.geom_xpos[self._moving_source].copy()
        self._synced_xmat = data.geom_xmat[self._moving_source].copy()
        self._box_row = np.full(m.ngeom, -1, dtype=np.intp)
        self._box_row[self._bounded] = np.arange(len(self._bounded))
        self._geomgroup = np.ones(mujoco.mjNGROUP, dtype=np.uint8)
        self._geomgroup[_SKIPPED_GROUP] = 0

    @property
    def cell_count(self) -> int:
        """Cells the scene is split into."""
        return len(self._cells)

    def sync(self, data: mujoco.MjData) -> int:
        """Copy the current poses of geoms on moving bodies from the source ``data``
        (kinematics up to date); return how many geoms moved."""
        if not len(self._moving):
            return 0
        src = self._moving_source
        xpos, xmat = data.geom_xpos[src], data.geom_xmat[src]
        moved = np.any(xpos != self._synced_xpos, axis=1) | np.any(xmat != self._synced_xmat,
                                                                    axis=1)
        if not moved.any():
            return 0
        rows = np.flatnonzero(moved)
        self._synced_xpos[rows] = xpos[rows]
        self._synced_xmat[rows] = xmat[rows]
        rot = xmat[rows].reshape(-1, 3, 3)
        own = self._moving[rows]
        self.data.geom_xmat[own] = np.einsum('kij,kjl->kil', rot,
                                             self._rot_offset[rows]).reshape(-1, 9)
        self.data.geom_xpos[own] = xpos[rows] + np.einsum('kij,kj->ki', rot,
                                                          self._pos_offset[rows])
        boxes = self._box_row[own]
        boxes = boxes[boxes >= 0]
        ids = self._bounded[boxes]
        self._box_centre[boxes], self._box_half[boxes] = world_boxes(
            self.data.geom_xpos[ids], self.data.geom_xmat[ids], self.model.geom_aabb[ids])
        self._refresh_cells(np.unique(self._cell_of_box[boxes]))
        return len(rows)

    def _refresh_cells(self, cells: np.ndarray) -> None:
        """Bounding boxes of ``cells`` (body ids) from their geoms' boxes, written into the
        root node of each cell's bounding-volume hierarchy (what ``mj_multiRay`` tests)."""
        m = self.model
        for body in cells:
            rows = self._cell_rows[int(body)]
            low = (self._box_centre[rows] - self._box_half[rows]).min(axis=0)
            high = (self._box_centre[rows] + self._box_half[rows]).max(axis=0)
            self._cell_centre[body] = (low + high) / 2
            self._cell_half[body] = (high - low) / 2
            root = m.body_bvhadr[body]
            if root >= 0:  # cell bodies sit at the origin, unrotated, inertia at the origin
                m.bvh_aabb[root, :3] = self._cell_centre[body] - self.data.xipos[body]
                m.bvh_aabb[root, 3:] = self._cell_half[body]

    def cast(self, origin: np.ndarray, vec: np.ndarray, geomid: np.ndarray, dist: np.ndarray,
             cutoff: float, plane_normal: np.ndarray | None = None,
             normal: np.ndarray | None = None) -> None:
        """Cast ``len(dist)`` rays from ``origin`` along ``vec`` (n, 3) into ``geomid`` (scene
        geom ids, -1: miss) and ``dist`` (and unit ``normal`` (n, 3) if given), as
        ``mj_multiRay`` does; geoms beyond ``cutoff`` may be missed.

        :param plane_normal: for a planar fan, the unit normal of its plane: cells and geoms
            whose box does not cross the plane are skipped
        """
        m = self.model
        cells = self._cells
        offset = self._cell_centre[cells] - origin
        gap = np.maximum(np.abs(offset) - self._cell_half[cells], 0.0)
        drop = np.einsum('ij,ij->i', gap, gap) > cutoff * cutoff
        skipped = None
        if plane_normal is not None:
            drop |= np.abs(offset @ plane_normal) > self._cell_half[cells] @ np.abs(plane_normal)
            kept = [self._cell_rows[c] for c in cells[~drop]]
            if kept:  # geoms of the kept cells whose box misses the plane
                rows = np.concatenate(kept)
                off = (np.abs((self._box_centre[rows] - origin) @ plane_normal)
                       > self._box_half[rows] @ np.abs(plane_normal))
                skipped = self._bounded[rows[off]]
                m.geom_group[skipped] = _SKIPPED_GROUP
        dropped = cells[drop]
        m.body_geomnum[dropped] = 0   # mj_multiRay loops over a body's geoms by this count
        m.body_bvhadr[dropped] = -1   # and skips the body's bounding-sphere test with -1
        try:
            mujoco.mj_multiRay(m, self.data, origin, vec.reshape(-1), self._geomgroup, 1, -1,
                               geomid, dist, None if normal is None else normal.reshape(-1),
                               len(dist), cutoff)
        finally:
            m.body_geomnum[cells] = self._geomnum0
            m.body_bvhadr[cells] = self._bvhadr0
            if skipped is not None:
                m.geom_group[skipped] = self._group0[skipped]


def _cells(xy: np.ndarray, size: float) -> np.ndarray:
    """Cell index of each point on a uniform grid of edge ``size`` or more (doubled until at
    most :data:`MAX_CELLS` cells are occupied)."""
    if not len(xy):
        return np.zeros(0, dtype=np.intp)
    while True:
        keys = np.floor(xy / size).astype(np.int64)
        _, cell_of = np.unique(keys, axis=0, return_inverse=True)
        if cell_of.max() < MAX_CELLS:
            return cell_of.reshape(-1)
        size *= 2.0


def _build(model: mujoco.MjModel, data: mujoco.MjData, planes: np.ndarray,
           bounded: np.ndarray, cell_of: np.ndarray) -> mujoco.MjModel:
    """Compile the scene: planes on the world body, each cell a static body at the origin
    holding its geoms at their world poses. Geoms are named ``g<source id>``."""
    spec = mujoco.MjSpec()
    spec.modelname = 'scan_scene'
    meshes: dict[int, str] = {}
    quat = np.zeros(4)

    def add(body: mujoco.MjsBody, g: int) -> None:
        mujoco.mju_mat2Quat(quat, data.geom_xmat[g])
        geom = body.add_geom(name=f'g{g}', type=mujoco.mjtGeom(model.geom_type[g]),
                             size=model.geom_size[g], pos=data.geom_xpos[g], quat=quat,
                             )
        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH:
            geom.meshname = _mesh(spec, model, int(model.geom_dataid[g]), meshes)

    for g in planes:
        add(spec.worldbody, int(g))
    order = np.argsort(cell_of, kind='stable')
    body = None
    last = -1
    for row in order:
        if cell_of[row] != last:
            last = int(cell_of[row])
            body = spec.worldbody.add_body(name=f'cell{last}', mass=1.0, inertia=[1.0, 1.0, 1.0],
                                           explicitinertial=True)
        add(body, int(bounded[row]))
    return spec.compile()


def _mesh(spec: mujoco.MjSpec, model: mujoco.MjModel, mesh_id: int,
          meshes: dict[int, str]) -> str:
    """The scene's copy of compiled mesh ``mesh_id`` (added once)."""
    name = meshes.get(mesh_id)
    if name is None:
        vert0, nvert = model.mesh_vertadr[mesh_id], model.mesh_vertnum[mesh_id]
        face0, nface = model.mesh_faceadr[mesh_id], model.mesh_facenum[mesh_id]
        name = meshes[mesh_id] = f'mesh{mesh_id}'
        spec.add_mesh(name=name, uservert=model.mesh_vert[vert0:vert0 + nvert].ravel(),
                      userface=model.mesh_face[face0:face0 + nface].ravel(),
                      inertia=mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL,
                      maxhullvert=4)  # nothing collides here: a token hull is enough
    return name
