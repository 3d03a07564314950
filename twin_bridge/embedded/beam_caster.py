"""Cast arbitrary planar beams against the world geoms of an embedded MuJoCo model."""

from __future__ import annotations

import copy
from dataclasses import dataclass
import math

import mujoco
import numpy as np

from twin_bridge.embedded.embedded_backend import CULLED_GEOM_GROUP, EmbeddedBackend
from twin_bridge.embedded.mujoco_robot import ROBOT_GEOM_GROUP
from twin_bridge.embedded.mujoco_world import CONTACT_GEOM_GROUP
from twin_bridge.embedded.scan_scene import ScanScene
from twin_bridge.errors import BackendError

__all__ = ['BeamCaster', 'BeamHits', 'rep117']

# Smallest cell edge (m) of a caster's scene (its cutoff is often far beyond the lidar's range).
_SCENE_CELL = 25.0
_UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class BeamHits:
    """What a batch of beams met.

    ``ranges`` (float64) are raw distances, ``+inf`` for a miss (no REP-117 clamping: see
    :func:`rep117`); ``geom_ids`` is ``-1`` for a miss; ``normals`` are the unit world-frame
    surface normals at the hits (zero for a miss); ``directions`` the world-frame unit beams.
    """

    ranges: np.ndarray
    geom_ids: np.ndarray
    normals: np.ndarray
    directions: np.ndarray


def rep117(ranges: np.ndarray, range_min: float, range_max: float) -> np.ndarray:
    """Raw distances as REP-117 scan ranges: ``+inf`` beyond ``range_max`` (or a miss),
    ``-inf`` closer than ``range_min``; a new float array."""
    out = np.array(ranges, dtype=float)
    np.putmask(out, ~(out <= range_max), np.inf)
    np.putmask(out, out < range_min, -np.inf)
    return out


class BeamCaster:
    """One batched ``mj_multiRay`` per call, from any origin, along any beam angles.

    The caster keeps a private copy of the model (it edits geom groups to skip geoms out of
    the scan plane) and its own ``MjData`` holding the world's geom poses, so it never races
    with the backend it came from; :meth:`sync` refreshes the world from a backend after
    world bodies moved. Geoms in ``exclude_groups`` (by default the robot's own) are never
    hit. Buffers are allocated once for up to ``max_beams`` beams.

    With ``scene``, beams are cast into a :class:`ScanScene` of the world (spatial cells: the
    cost follows the geometry in range, not the world's size; the same hits). The scene
    follows bodies that :meth:`sync` moves, not in-place edits of :attr:`model`'s static
    geometry (leave ``scene`` off to edit the model, as obstacle shifting does).

    :param model: the compiled model (copied)
    :param qpos: joint positions placing the world bodies (default: the model's ``qpos0``)
    :param exclude_groups: geom groups never cast against
    :param max_beams: the largest batch :meth:`cast` accepts
    :param cutoff: no geom farther than this is reported (m)
    :param scene: cast into a cell-split copy of the world (see above)
    """

    def __init__(self, model: mujoco.MjModel, qpos: np.ndarray | None = None, *,
                 exclude_groups: tuple[int, ...] = (ROBOT_GEOM_GROUP, CULLED_GEOM_GROUP,
                                                    CONTACT_GEOM_GROUP),
                 max_beams: int = 4096, cutoff: float = 100.0, scene: bool = False) -> None:
        if max_beams < 1:
            raise BackendError(f'max_beams must be >= 1, got {max_beams}')
        self.model = copy.deepcopy(model)
        self.data = mujoco.MjData(self.model)
        self._cutoff = float(cutoff)
        self._geomgroup = np.ones(mujoco.mjNGROUP, dtype=np.uint8)
        for group in exclude_groups:
            self._geomgroup[group] = 0
        self._geomgroup[CULLED_GEOM_GROUP] = 0
        self._group0 = self.model.geom_group.copy()
        enabled = self._geomgroup[self._group0].astype(bool)
        self._bounded = np.flatnonzero(enabled & (self.model.geom_rbound > 0))
        self._vec = np.zeros((max_beams, 3))
        self._dist = np.zeros(max_beams)
        self._geom = np.zeros(max_beams, dtype=np.int32)
        self._normal = np.zeros((max_beams, 3))
        self._pnt = np.zeros(3)
        self._plane_z: float | None = None
        self._scene: ScanScene | None = None
        self.sync(qpos)
        if scene:
            self._scene = ScanScene(self.model, self.data, np.flatnonzero(enabled),
                                    cell_size=min(self._cutoff, _SCENE_CELL))
            self._scene_ids = np.append(self._scene.source_ids, -1).astype(np.int32)

    @classmethod
    def from_backend(cls, backend: EmbeddedBackend, **kwargs: object) -> BeamCaster:
        """A caster for ``backend``'s world as it is now (robot geoms excluded)."""
        return cls(backend.model, backend.data.qpos.copy(), **kwargs)  # type: ignore[arg-type]

    @property
    def max_beams(self) -> int:
        """The largest number of beams one call casts."""
        return len(self._dist)

    def sync(self, qpos: np.ndarray | None = None) -> None:
        """Place the world bodies at ``qpos`` (default ``qpos0``) and refresh geom poses.

        :raise BackendError: ``qpos`` has the wrong size or is not finite
        """
        if qpos is None:
            qpos = self.model.qpos0
        qpos = np.asarray(qpos, dtype=float)
        if qpos.shape != (self.model.nq,) or not np.all(np.isfinite(qpos)):
            raise BackendError(f'qpos: expected {self.model.nq} finite values, got shape '
                               f'{qpos.shape}')
        self.data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.data)
        if self._scene is not None:
            self._scene.sync(self.data)
        ids = self._bounded
        xmat = self.data.geom_xmat[ids].reshape(-1, 3, 3)
        aabb = self.model.geom_aabb[ids]
        self._centre_z = self.data.geom_xpos[ids, 2] + np.einsum('kj,kj->k', xmat[:, 2, :],
                                                                 aabb[:, :3])
        self._half_z = np.einsum('kj,kj->k', np.abs(xmat[:, 2, :]), aabb[:, 3:])
        self._plane_z = None

    def _cull(self, z: float) -> None:
        """Skip bounded geoms whose bounding box does not cross the horizontal plane ``z``."""
        if self._plane_z is not None and abs(z - self._plane_z) < 1e-4:
            return
        ids = self._bounded
        off = np.abs(self._centre_z - z) > self._half_z
        self.model.geom_group[ids] = np.where(off, CULLED_GEOM_GROUP, self._group0[ids])
        self._plane_z = z

    def cast(self, origin: np.ndarray, yaw: float, angles: np.ndarray) -> BeamHits:
        """Cast horizontal beams from ``origin`` (world, 3) at ``yaw + angles`` (rad).

        :raise BackendError: a non-finite origin/yaw/angle, or more than :attr:`max_beams`
        """
        angles = np.asarray(angles, dtype=float)
        n = angles.shape[0] if angles.ndim == 1 else -1
        if n < 0 or n > self.max_beams:
            raise BackendError(f'angles: expected a 1-D array of at most {self.max_beams} '
                               f'values, got shape {angles.shape}')
        origin = np.asarray(origin, dtype=float)
        if origin.shape != (3,) or not np.all(np.isfinite(origin)) or not math.isfinite(yaw):
            raise BackendError(f'origin must be 3 finite values and yaw finite, got {origin}, '
                               f'{yaw}')
        heading = angles + yaw
        if not np.all(np.isfinite(heading)):
            raise BackendError('angles: not finite')
        vec = self._vec[:n]
        vec[:, 0] = np.cos(heading)
        vec[:, 1] = np.sin(heading)
        vec[:, 2] = 0.0
        return self._cast(origin, vec)

    def cast_directions(self, origin: np.ndarray, directions: np.ndarray) -> BeamHits:
        """Cast along arbitrary world-frame unit ``directions`` (n, 3) from ``origin``.

        Geoms are culled against the horizontal plane through ``origin`` only when every
        direction is horizontal.

        :raise BackendError: bad shapes, non-finite values, or more than :attr:`max_beams`
        """
        directions = np.asarray(directions, dtype=float)
        origin = np.asarray(origin, dtype=float)
        if (directions.ndim != 2 or directions.shape[1] != 3
                or directions.shape[0] > self.max_beams):
            raise BackendError(f'directions: expected shape (n <= {self.max_beams}, 3), got '
                               f'{directions.shape}')
        if origin.shape != (3,) or not (np.all(np.isfinite(origin))
                                        and np.all(np.isfinite(directions))):
            raise BackendError('origin and directions must be finite (origin: 3 values)')
        vec = self._vec[:directions.shape[0]]
        vec[:] = directions
        return self._cast(origin, vec)

    def _cast(self, origin: np.ndarray, vec: np.ndarray) -> BeamHits:
        n = vec.shape[0]
        if self._scene is not None:
            return self._cast_scene(origin, vec)
        if np.all(vec[:, 2] == 0.0):
            self._cull(float(origin[2]))
        else:
            self.model.geom_group[self._bounded] = self._group0[self._bounded]
            self._plane_z = None
        self._pnt[:] = origin
        dist, geom, normal = self._dist[:n], self._geom[:n], self._normal[:n]
        mujoco.mj_multiRay(self.model, self.data, self._pnt, vec.reshape(-1), self._geomgroup,
                           1, -1, geom, dist, normal.reshape(-1), n, self._cutoff)
        ranges = dist.copy()
        miss = geom < 0
        ranges[miss] = np.inf
        normals = normal.copy()
        normals[miss] = 0.0
        return BeamHits(ranges=ranges, geom_ids=geom.copy(), normals=normals,
                        directions=vec.copy())

    def _cast_scene(self, origin: np.ndarray, vec: np.ndarray) -> BeamHits:
        n = vec.shape[0]
        self._pnt[:] = origin
        dist, geom, normal = self._dist[:n], self._geom[:n], self._normal[:n]
        horizontal = bool(np.all(vec[:, 2] == 0.0))
        self._scene.cast(self._pnt, vec, geom, dist, self._cutoff,
                         plane_normal=_UP if horizontal else None, normal=normal)
        miss = geom < 0
        ranges = dist.copy()
        ranges[miss] = np.inf
        normals = normal.copy()
        normals[miss] = 0.0
        ids = self._scene_ids[geom]  # -1 (a miss) picks the appended -1
        return BeamHits(ranges=ranges, geom_ids=ids, normals=normals, directions=vec.copy())
