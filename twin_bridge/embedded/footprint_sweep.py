"""The robot's full collision footprint swept along a constant twist's exact arc.

Every collision geom of the robot, posed as its joints are now (they are held over the
sweep), moves rigidly along the arc of a constant body twist ``(v, omega)`` from the current
base pose, rotation included. Two kinds of obstacle:

- the world's geoms (collidable, not planes, not the floor the robot stands on): exact 3D
  signed distances from MuJoCo's own collision geometry (``mj_geomDistance`` between one robot
  geom and one world geom, in a scratch ``MjData`` where the robot geoms' poses are written
  directly for the time asked: no ``mj_kinematics``, no broad phase);
- obstacle points (world frame, e.g. a scan's returns the world lacks), taken as vertical
  columns: exact planar distances to the robot's ground-plane cross-sections
  (:class:`~twin_bridge.embedded.footprint_shapes.Footprint2D`).

The search is conservative advancement, exact in continuous time (no sampling gaps; a
rectangular base's corners swinging outside its inscribed circle are seen):

1. prefilter, numpy, every time step at once: each robot geom's bounding sphere against each
   world geom's bounding box, and the robot's bounding circle against every point, on a grid
   of ``time_step``; a pair is flagged at a step when the bound is within ``margin`` plus the
   distance its geom can travel in half a step (``|v| + |omega| rho``, ``rho`` its farthest
   point from the base's axis);
2. from ``t = 0``, the exact distances of the pairs flagged at ``t``; no pair can come within
   the margin before ``t + (d - margin) / speed`` (a distance shrinks no faster than the
   geom's points move), so the search jumps there (never past a step where another pair
   becomes flagged), until some distance is within ``margin + resolution`` (the contact) or
   the horizon ends.

A pair already within the margin at ``t = 0`` counts only once it comes ``resolution``
closer than it starts (the robot may back out of a tight spot, never further in).
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import mujoco
import numpy as np

from twin_bridge.core.arcs import arc_pose, arc_poses
from twin_bridge.core.state import JointStateSample
from twin_bridge.embedded.embedded_backend import ROBOT_PREFIX, EmbeddedBackend
from twin_bridge.embedded.footprint_search import ContactSearch, world_boxes
from twin_bridge.embedded.footprint_shapes import Footprint2D
from twin_bridge.errors import BackendError

__all__ = ['FootprintSweep', 'SCAN_OBSTACLE', 'SweepResult']

#: ``SweepResult.obstacle`` of an obstacle point.
SCAN_OBSTACLE = 'scan point'


@dataclass(frozen=True)
class SweepResult:
    """What a sweep found.

    ``time``: the earliest time (s) the footprint comes within the margin (``inf``: not
    within the horizon); ``clearance``: the smallest robot-obstacle distance met up to then
    (exact for pairs the prefilter flagged, else the prefilter's lower bound; ``inf`` with
    nothing near); ``obstacle``/``robot_geom``: the names at the contact (``''`` without one;
    :data:`SCAN_OBSTACLE` for a point, then ``point`` is it); ``checks``: exact distance
    evaluations.
    """

    time: float
    clearance: float
    horizon: float
    obstacle: str = ''
    robot_geom: str = ''
    point: np.ndarray | None = None
    checks: int = 0

    @property
    def free(self) -> bool:
        """No contact within the horizon."""
        return not math.isfinite(self.time)


class FootprintSweep:
    """Sweep a robot's collision geoms along constant-twist arcs (see the module doc).

    :param model: a compiled model holding the world and the robot (only read)
    :param robot_root: body id of the robot's root (the free joint's body)
    :param qpos: joint positions placing the world and the robot (default ``qpos0``)
    :param time_step: prefilter grid step (s)
    :param resolution: distance tolerance of the contact search (m)
    :param support_height: world geoms whose top is this close above the robot's lowest point
        are the floor it stands on (m)
    :param joint_names: robot joint names as :class:`JointStateSample` names them, to model
        joint names (default: the same)
    :raise BackendError: bad parameters, or a root without a free joint
    """

    def __init__(self, model: mujoco.MjModel, robot_root: int, qpos: np.ndarray | None = None,
                 *, time_step: float = 0.05, resolution: float = 0.002,
                 support_height: float = 0.02, joint_names: dict[str, str] | None = None
                 ) -> None:
        if not (time_step > 0 and resolution > 0 and support_height >= 0):
            raise BackendError(f'time_step and resolution must be > 0, support_height >= 0; '
                               f'got {time_step}, {resolution}, {support_height}')
        self.model, self.time_step = model, float(time_step)
        self.resolution, self.support_height = float(resolution), float(support_height)
        self.data = mujoco.MjData(model)
        jnt = int(model.body_jntadr[robot_root])
        if jnt < 0 or model.jnt_type[jnt] != mujoco.mjtJoint.mjJNT_FREE:
            raise BackendError(f'body {robot_root} has no free joint')
        self._free = int(model.jnt_qposadr[jnt])
        collide = (model.geom_contype != 0) | (model.geom_conaffinity != 0)
        robot = model.body_rootid[model.geom_bodyid] == robot_root
        #: Ids of the robot's collision geoms (the swept footprint).
        self.robot_ids = np.flatnonzero(robot & collide)
        self._world_ids = np.flatnonzero(~robot & collide
                                         & (model.geom_type != mujoco.mjtGeom.mjGEOM_PLANE))
        self._robot_rbound = model.geom_rbound[self.robot_ids].copy()
        self._joint_qpos: dict[str, int] = {}
        joint_root = model.body_rootid[model.jnt_bodyid]
        for j in np.flatnonzero(joint_root == robot_root):
            kind = int(model.jnt_type[j])
            if j != jnt and kind in (int(mujoco.mjtJoint.mjJNT_HINGE),
                                     int(mujoco.mjtJoint.mjJNT_SLIDE)):
                self._joint_qpos[model.joint(j).name] = int(model.jnt_qposadr[j])
        self._alias = dict(joint_names or {})
        self._shape_key: tuple[np.ndarray, np.ndarray, float] | None = None
        self._outlines: list[tuple[np.ndarray, float]] = [
            (np.zeros((1, 2)), 0.0)] * len(self.robot_ids)
        self._reach = np.zeros(len(self.robot_ids))   # per geom, from the base axis (m)
        self._stale = np.zeros(len(self.robot_ids), dtype=bool)   # outline not redone
        self.sync_world(qpos)

    @classmethod
    def from_backend(cls, backend: EmbeddedBackend, **kwargs: object) -> FootprintSweep:
        """A sweep of ``backend``'s robot in its world as it is now."""
        root = backend.model.body(ROBOT_PREFIX + backend.robot.root_link).id
        names = {n: ROBOT_PREFIX + n for n in backend.joint_names}
        return cls(backend.model, root, backend.data.qpos.copy(), joint_names=names,
                   **kwargs)  # type: ignore[arg-type]

    # -- state --------------------------------------------------------------------------
    def sync_world(self, qpos: np.ndarray | None = None) -> None:
        """Place the world (and the robot) at ``qpos`` (default ``qpos0``).

        :raise BackendError: ``qpos`` of the wrong size or not finite
        """
        qpos = self.model.qpos0 if qpos is None else np.asarray(qpos, dtype=float)
        if qpos.shape != (self.model.nq,) or not np.all(np.isfinite(qpos)):
            raise BackendError(f'qpos: expected {self.model.nq} finite values, got shape '
                               f'{qpos.shape}')
        self.data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.data)
        lo, hi = world_boxes(self.model, self.data, self._world_ids)
        self._world_lo, self._world_hi = lo, hi
        self._shape_key = None
        self._update_robot()

    def set_state(self, position: np.ndarray, orientation: np.ndarray,
                  joints: JointStateSample | None = None) -> None:
        """Put the robot's base at ``position`` with ``(x, y, z, w)`` ``orientation`` (world
        frame) and the named joints at their positions (others keep theirs).

        :raise BackendError: non-finite values or a joint the robot lacks
        """
        position = np.asarray(position, dtype=float)
        quat = np.asarray(orientation, dtype=float)
        if position.shape != (3,) or quat.shape != (4,) or not (
                np.all(np.isfinite(position)) and np.all(np.isfinite(quat))):
            raise BackendError('robot pose: expected 3 + 4 finite values')
        qpos = self.data.qpos
        a = self._free
        qpos[a:a + 3] = position
        qpos[a + 3:a + 7] = quat[[3, 0, 1, 2]]
        if joints is not None:
            if len(joints.names) != len(joints.positions):
                raise BackendError(f'joints: {len(joints.names)} names, '
                                   f'{len(joints.positions)} positions')
            for name, value in zip(joints.names, joints.positions, strict=True):
                adr = self._joint_qpos.get(self._alias.get(name, name))
                if adr is None:
                    raise BackendError(f'joint "{name[:64]}" is not a robot joint')
                if not math.isfinite(value):
                    raise BackendError(f'joint "{name[:64]}" position is not finite')
                qpos[adr] = value
        mujoco.mj_kinematics(self.model, self.data)
        self._update_robot()

    def _update_robot(self) -> None:
        d, ids = self.data, self.robot_ids
        a = self._free
        self._base = d.qpos[a:a + 3].copy()
        w, x, y, z = d.qpos[a + 3:a + 7]
        self._yaw0 = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
        self._cos0, self._sin0 = math.cos(self._yaw0), math.sin(self._yaw0)
        self._offset = d.geom_xpos[ids] - self._base                  # (g, 3), world axes
        self._mat0 = d.geom_xmat[ids].reshape(-1, 3, 3).copy()
        c, s = math.cos(-self._yaw0), math.sin(-self._yaw0)
        unyaw = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        rel_pos, rel_mat = self._offset @ unyaw.T, unyaw @ self._mat0
        key = self._shape_key
        if (key is None or float(np.max(np.abs(key[0] - rel_pos), initial=0.0)) > 1e-9
                or float(np.max(np.abs(key[1] - rel_mat), initial=0.0)) > 1e-9
                or abs(key[2] - self._base[2]) > 1e-9):
            # Rebuilt only when the robot's shape changes (joints, tilt, height), not as it
            # drives and turns; then only the geoms that moved.
            self._rebuild_shapes(key, rel_pos, rel_mat)
            self._shape_key = (rel_pos, rel_mat, float(self._base[2]))
            lo, hi = world_boxes(self.model, d, ids)
            self._robot_zlo, self._robot_zhi = lo[:, 2], hi[:, 2]
            self._rho = np.hypot(rel_pos[:, 0], rel_pos[:, 1]) + self._robot_rbound
            ground = float(lo[:, 2].min()) if len(ids) else 0.0
            self._world_active = ~(self._world_hi[:, 2] <= ground + self.support_height)

    def _rebuild_shapes(self, key: tuple[np.ndarray, np.ndarray, float] | None,
                        rel_pos: np.ndarray, rel_mat: np.ndarray) -> None:
        """Outline the geoms that moved. Points are columns: a footprint inside another
        never is the nearest, so points are tested against the outermost footprints only;
        a geom that moved with its bounding disc (or outline) inside an unmoved outermost
        footprint changes nothing for them and is outlined only when that set is redone."""
        ids, rbound = self.robot_ids, self._robot_rbound
        if key is None or abs(key[2] - self._base[2]) > 1e-9:
            moved = np.ones(len(ids), dtype=bool)
        else:
            moved = (np.max(np.abs(key[0] - rel_pos), axis=1, initial=0.0) > 1e-9) | (
                np.max(np.abs(key[1] - rel_mat).reshape(len(ids), -1), axis=1,
                       initial=0.0) > 1e-9)
        kept = not moved.all() and not np.isin(np.flatnonzero(moved), self._point_rows).any()
        for i in np.flatnonzero(moved):
            if kept and self._point_shapes.contains(rel_pos[i, None, :2], float(rbound[i])):
                self._stale[i] = True
                self._reach[i] = float(np.hypot(*rel_pos[i, :2])) + float(rbound[i])
                continue
            self._outline(i, rel_pos, rel_mat)
            kept = kept and self._point_shapes.contains(*self._outlines[i])
        if kept:
            return
        for i in np.flatnonzero(self._stale):
            self._outline(i, rel_pos, rel_mat)
        shapes = Footprint2D([v for v, _ in self._outlines],
                             np.array([r for _, r in self._outlines]))
        self._point_rows = shapes.outermost()
        self._point_shapes = shapes.subset(self._point_rows)

    def _outline(self, i: int, rel_pos: np.ndarray, rel_mat: np.ndarray) -> None:
        verts, radius = Footprint2D.geom_outline(self.model, int(self.robot_ids[i]),
                                                 rel_pos[i], rel_mat[i])
        self._outlines[i] = (verts, radius)
        self._reach[i] = float(np.max(np.linalg.norm(verts, axis=1))) + radius
        self._stale[i] = False

    @property
    def base_pose(self) -> tuple[np.ndarray, float]:
        """The base position and yaw the next sweep starts from."""
        return self._base.copy(), self._yaw0

    @property
    def base_yaw(self) -> float:
        """The yaw (rad) the next sweep starts from."""
        return self._yaw0

    # -- the sweep ----------------------------------------------------------------------
    def sweep(self, linear: float, angular: float, horizon: float, margin: float = 0.0,
              points: np.ndarray | None = None) -> SweepResult:
        """Sweep the footprint at body twist ``(linear, angular)`` for ``horizon`` s.

        :param margin: the distance that counts as contact (m, >= 0)
        :param points: obstacle points ``(n, 2)`` or ``(n, 3)`` in the world frame
        :raise BackendError: non-finite inputs, ``horizon <= 0`` or ``margin < 0``
        """
        if not all(math.isfinite(x) for x in (linear, angular, horizon, margin)) or (
                horizon <= 0 or margin < 0):
            raise BackendError(f'sweep: expected finite twist, horizon > 0, margin >= 0; got '
                               f'{linear}, {angular}, {horizon}, {margin}')
        dt = min(self.time_step, horizon)
        n = int(math.ceil(horizon / dt - 1e-9))
        times = np.minimum(np.arange(n + 1) * dt, horizon)
        dx, dy, turn = arc_poses(linear, angular, times)
        c0, s0 = math.cos(self._yaw0), math.sin(self._yaw0)
        base = np.column_stack([self._base[0] + c0 * dx - s0 * dy,
                                self._base[1] + s0 * dx + c0 * dy])   # (n+1, 2)
        speed_g = abs(linear) + abs(angular) * self._rho                # (g,)
        reach = float(np.max(self._reach)) if len(self._rho) else 0.0
        speed_max = abs(linear) + abs(angular) * max(reach, float(np.max(self._rho, initial=0)))
        slack = self.resolution + 0.5 * dt * speed_max
        lo_box, hi_box = base.min(axis=0), base.max(axis=0)
        grow = max(float(np.max(self._rho, initial=0.0)), reach) + margin + slack
        pairs_g, pairs_w, lb_w = self._world_bounds(times, turn, base, margin, slack,
                                                    lo_box - grow, hi_box + grow)
        pts, lb_p = self._point_bounds(points, base, reach, lo_box - grow, hi_box + grow)
        lb = np.hstack([lb_w, lb_p])                                     # (n+1, channels)
        speed = np.maximum(np.concatenate([speed_g[pairs_g], np.full(len(pts), speed_max)]),
                           1e-12)
        flagged = lb < margin + self.resolution + 0.5 * dt * speed
        search = ContactSearch(self, linear, angular, times, flagged, lb, speed, margin,
                               pairs_g, pairs_w, pts)
        return search.run(horizon)

    def _world_bounds(self, times: np.ndarray, turn: np.ndarray, base: np.ndarray,
                      margin: float, slack: float, lo: np.ndarray, hi: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Robot-world pairs near the path and their lower-bound distances per step."""
        near = (self._world_active & np.all(self._world_lo[:, :2] <= hi, axis=1)
                & np.all(self._world_hi[:, :2] >= lo, axis=1))
        world = np.flatnonzero(near)
        zgap = np.maximum(self._world_lo[world, 2][None] - self._robot_zhi[:, None],
                          self._robot_zlo[:, None] - self._world_hi[world, 2][None])
        keep = np.maximum(zgap, 0.0) <= margin + slack                   # (g, w)
        pg, pw = np.nonzero(keep)
        if len(pg) == 0:
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty, np.zeros((len(times), 0))
        c, s = np.cos(turn), np.sin(turn)
        off = self._offset[:, :2]
        cx = base[:, 0:1] + c[:, None] * off[None, :, 0] - s[:, None] * off[None, :, 1]
        cy = base[:, 1:2] + s[:, None] * off[None, :, 0] + c[:, None] * off[None, :, 1]
        wi = world[pw]
        gx = np.maximum(np.maximum(self._world_lo[wi, 0] - cx[:, pg],
                                   cx[:, pg] - self._world_hi[wi, 0]), 0.0)
        gy = np.maximum(np.maximum(self._world_lo[wi, 1] - cy[:, pg],
                                   cy[:, pg] - self._world_hi[wi, 1]), 0.0)
        cz = self._base[2] + self._offset[pg, 2]
        gz = np.maximum(np.maximum(self._world_lo[wi, 2] - cz, cz - self._world_hi[wi, 2]), 0.0)
        lb = np.sqrt(gx * gx + gy * gy + gz * gz) - self._robot_rbound[pg]
        return pg, self._world_ids[wi], lb

    def _point_bounds(self, points: np.ndarray | None, base: np.ndarray, reach: float,
                      lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points near the path and their lower-bound distances per step."""
        if points is None or len(points) == 0:
            return np.zeros((0, 2)), np.zeros((len(base), 0))
        pts = np.asarray(points, dtype=float)
        if pts.ndim != 2 or pts.shape[1] not in (2, 3) or not np.all(np.isfinite(pts)):
            raise BackendError(f'points: expected finite (n, 2) or (n, 3), got {pts.shape}')
        pts = pts[:, :2]
        pts = pts[np.all((pts >= lo) & (pts <= hi), axis=1)]
        diff = pts[None, :, :] - base[:, None, :]
        return pts, np.sqrt(np.einsum('npk,npk->np', diff, diff)) - reach

    def pose_geoms(self, linear: float, angular: float, t: float, rows: np.ndarray
                   ) -> tuple[float, float, float]:
        """Write the poses at time ``t`` of the robot geoms ``rows`` (indices into
        :attr:`robot_ids`) into :attr:`data`. :return: the base's ``(x, y, yaw)``"""
        dx, dy, turn = arc_pose(linear, angular, t)
        c0, s0 = self._cos0, self._sin0
        bx = self._base[0] + c0 * dx - s0 * dy
        by = self._base[1] + s0 * dx + c0 * dy
        if len(rows):
            c, s = math.cos(turn), math.sin(turn)
            rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
            pos = self._offset[rows] @ rot.T
            pos += (bx, by, self._base[2])
            ids = self.robot_ids[rows]
            self.data.geom_xpos[ids] = pos
            self.data.geom_xmat[ids] = (rot @ self._mat0[rows]).reshape(-1, 9)
        return bx, by, self._yaw0 + turn

    def _local(self, pts: np.ndarray, pose: tuple) -> np.ndarray:
        bx, by, yaw = pose
        c, s = np.cos(yaw), np.sin(yaw)
        rx, ry = pts[:, 0] - bx, pts[:, 1] - by
        return np.column_stack([c * rx + s * ry, c * ry - s * rx])

    def point_distances(self, pts: np.ndarray, pose: tuple[float | np.ndarray,
                                                            float | np.ndarray,
                                                            float | np.ndarray]
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Planar distances of world points ``(m, 2)`` to the footprint with the base at
        ``pose`` ``(x, y, yaw)`` (floats, or one value per point), and the nearest robot geom
        (index into :attr:`robot_ids`)."""
        dist = self._point_shapes.distances(self._local(pts, pose))
        nearest = np.argmin(dist, axis=1)
        return dist[np.arange(len(pts)), nearest], self._point_rows[nearest]

    def point_geometry(self, pts: np.ndarray, pose: tuple[float, float, float]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                  np.ndarray]:
        """:meth:`point_distances` plus, per point and outermost geom, the signed distance
        ``(m, k)``, the unit distance gradient in the base frame ``(m, k, 2)``, whether the
        point is outside that geom's polygon ``(m, k)``, and the points in the base frame
        ``(m, 2)``."""
        local = self._local(pts, pose)
        dist, grad, outside = self._point_shapes.distances_and_gradients(local)
        nearest = np.argmin(dist, axis=1)
        rows = np.arange(len(pts))
        return dist[rows, nearest], self._point_rows[nearest], dist, grad, outside, local

    def geom_name(self, geom: int) -> str:
        """A geom's name without the robot prefix; an unnamed geom is named after its body
        (``base_link#55``)."""
        g = int(geom)
        name = self.model.geom(g).name or f'{self.model.body(self.model.geom_bodyid[g]).name}#{g}'
        return name[len(ROBOT_PREFIX):] if name.startswith(ROBOT_PREFIX) else name
