"""The first contact between the robot and the world along rolled-out states.

A cheap test for all members and steps at once (the robot's bounding sphere against the world
geoms' bounding boxes, numpy), then an exact ``mj_collision`` only for the states it flags,
member by member in time order, stopping at each member's first contact.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import mujoco
import numpy as np

__all__ = ['ContactFinder', 'PredictedContact']

_STATE_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS


@dataclass(frozen=True)
class PredictedContact:
    """A predicted contact: ``time`` (s ahead), ``member`` (ensemble index), the contact
    ``position`` (world frame), the two geoms' names and the penetration ``depth`` (m)."""

    time: float
    member: int
    position: np.ndarray
    robot_geom: str
    world_geom: str
    depth: float


class ContactFinder:
    """Find each rollout member's first contact between a robot geom and a world geom.

    Robot geoms are those of the bodies under ``robot_root``; world geoms are the others
    except planes and geoms whose top is within ``support_height`` of the robot's lowest
    point at the start (the floor it stands on).

    :param model: the rollout model
    :param robot_root: body id of the robot's root (its free joint's body)
    :param support_height: floor tolerance (m)
    """

    def __init__(self, model: mujoco.MjModel, robot_root: int, support_height: float) -> None:
        self.model = model
        self.support_height = float(support_height)
        self._data = mujoco.MjData(model)
        root_of_geom = model.body_rootid[model.geom_bodyid]
        self._robot = root_of_geom == robot_root
        self._robot_ids = np.flatnonzero(self._robot)
        self._world_ids = np.flatnonzero(~self._robot & (model.geom_type
                                                         != mujoco.mjtGeom.mjGEOM_PLANE))
        self.checks = 0  # exact collision checks run (for benchmarks)

    def _boxes(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World-frame AABB centres and half sizes of geoms ``ids`` in the scratch data."""
        d, m = self._data, self.model
        xmat = d.geom_xmat[ids].reshape(-1, 3, 3)
        aabb = m.geom_aabb[ids]
        centre = d.geom_xpos[ids] + np.einsum('kij,kj->ki', xmat, aabb[:, :3])
        half = np.einsum('kij,kj->ki', np.abs(xmat), aabb[:, 3:])
        return centre, half

    def first_contacts(self, traj: np.ndarray, times: np.ndarray, base_qpos: int
                       ) -> tuple[np.ndarray, PredictedContact | None]:
        """Per-member first contact times ``(members,)`` (``inf``: none) and the earliest
        contact over all members.

        :param traj: full physics states ``(members, n, nstate)``, time 0 first
        :param times: ``(n,)`` seconds of the states
        :param base_qpos: state column of the robot's base position x
        """
        m, d = self.model, self._data
        members = traj.shape[0]
        result = np.full(members, math.inf)
        if len(self._world_ids) == 0:
            return result, None
        mujoco.mj_setState(m, d, traj[0, 0], _STATE_SPEC)
        mujoco.mj_kinematics(m, d)
        r_centre, r_half = self._boxes(self._robot_ids)
        base = traj[0, 0, base_qpos:base_qpos + 3]
        radius = float(np.max(np.linalg.norm(r_centre - base, axis=1)
                              + np.linalg.norm(r_half, axis=1)))
        ground = float(np.min(r_centre[:, 2] - r_half[:, 2]))
        w_centre, w_half = self._boxes(self._world_ids)
        keep = w_centre[:, 2] + w_half[:, 2] > ground + self.support_height
        world = self._world_ids[keep]
        if len(world) == 0:
            return result, None
        w_centre, w_half = w_centre[keep], w_half[keep]
        # Sphere-box overlap for every (member, step, world geom) at once.
        pos = traj[:, :, base_qpos:base_qpos + 3]                      # (members, n, 3)
        gap = np.maximum(np.abs(pos[:, :, None, :] - w_centre) - w_half, 0.0)
        near = np.einsum('mngk,mngk->mn', gap, gap) <= radius * radius  # (members, n)
        is_world = np.zeros(m.ngeom, dtype=bool)
        is_world[world] = True
        best: PredictedContact | None = None
        for i in np.flatnonzero(near.any(axis=1)):
            for k in np.flatnonzero(near[i]):
                found = self._contact_at(traj[i, k], is_world)
                if found is not None:
                    result[i] = times[k]
                    if best is None or times[k] < best.time:
                        best = PredictedContact(float(times[k]), int(i), *found)
                    break
        return result, best

    def _contact_at(self, state: np.ndarray, is_world: np.ndarray
                    ) -> tuple[np.ndarray, str, str, float] | None:
        """The deepest robot-world contact in ``state``, or ``None``."""
        m, d = self.model, self._data
        self.checks += 1
        mujoco.mj_setState(m, d, state, _STATE_SPEC)
        mujoco.mj_kinematics(m, d)
        mujoco.mj_collision(m, d)
        if d.ncon == 0:
            return None
        geoms = d.contact.geom[:d.ncon]
        robot = self._robot[geoms]
        world = is_world[geoms]
        hit = (robot[:, 0] & world[:, 1]) | (robot[:, 1] & world[:, 0])
        hit &= d.contact.dist[:d.ncon] <= 0.0
        if not hit.any():
            return None
        rows = np.flatnonzero(hit)
        j = int(rows[np.argmin(d.contact.dist[rows])])
        g1, g2 = (int(g) for g in geoms[j])
        robot_geom, world_geom = (g1, g2) if self._robot[g1] else (g2, g1)
        return (d.contact.pos[j].copy(), _name(m, robot_geom), _name(m, world_geom),
                float(-d.contact.dist[j]))


def _name(model: mujoco.MjModel, geom: int) -> str:
    return model.geom(geom).name or f'geom {geom}'
