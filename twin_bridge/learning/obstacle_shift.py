"""Shift named world obstacles in a compiled model, without recompiling.

The same selection and result as :func:`twin_bridge.embedded.world_edits.move_body` on the
spec followed by a compile (a test checks the casts agree), at the cost of a few array
writes: static geoms on the world body and top-level bodies whose name is the model or
starts with ``model::`` move; a free body's joint position moves with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mujoco
import numpy as np

from twin_bridge.errors import ConfigError

__all__ = ['ObstacleShifter']


def _matches(element_name: str, name: str) -> bool:
    return element_name == name or element_name.startswith(name + '::')


class ObstacleShifter:
    """Moves obstacles ``names`` of ``model`` (and of copies of it) by ``(dx, dy)``.

    Positions are remembered at construction; :meth:`apply` sets them to those plus the
    shifts, so successive layouts never accumulate.

    :param model: the compiled world (+ robot) model
    :param names: models (``shelf_hall_0``), scoped links or collisions, as ``move_body``
    :raise ConfigError: a name matching nothing (the message lists the world's models)
    """

    def __init__(self, model: mujoco.MjModel, names: Sequence[str]) -> None:
        self.names = tuple(names)
        geom_names = [model.geom(i).name for i in range(model.ngeom)]
        body_names = [model.body(i).name for i in range(model.nbody)]
        world_geoms = np.flatnonzero(model.geom_bodyid == 0)
        top_bodies = [b for b in range(1, model.nbody) if model.body_parentid[b] == 0]
        geoms_of: list[np.ndarray] = []
        bodies_of: list[np.ndarray] = []
        free_of: list[np.ndarray] = []
        for name in self.names:
            geoms = np.array([g for g in world_geoms if _matches(geom_names[g], name)],
                             dtype=np.intp)
            bodies = np.array([b for b in top_bodies if _matches(body_names[b], name)],
                              dtype=np.intp)
            if not len(geoms) and not len(bodies):
                scopes = sorted({n.split('::', 1)[0] for n in
                                 [geom_names[g] for g in world_geoms]
                                 + [body_names[b] for b in top_bodies] if n})
                raise ConfigError(f'no obstacle {name!r} in the world; its models: '
                                  f'{", ".join(scopes)}')
            adr = [int(model.jnt_qposadr[j]) for b in bodies
                   for j in range(model.body_jntadr[b],
                                  model.body_jntadr[b] + model.body_jntnum[b])
                   if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
            geoms_of.append(geoms)
            bodies_of.append(bodies)
            free_of.append(np.array(adr, dtype=np.intp))
        # Flattened for one fancy-indexed write per array: element -> index of its name.
        self._geom_ids = np.concatenate([*geoms_of, np.zeros(0, dtype=np.intp)])
        self._geom_owner = np.repeat(np.arange(len(self.names)), [len(g) for g in geoms_of])
        self._body_ids = np.concatenate([*bodies_of, np.zeros(0, dtype=np.intp)])
        self._body_owner = np.repeat(np.arange(len(self.names)),
                                     [len(b) for b in bodies_of])
        free = np.concatenate([*free_of, np.zeros(0, dtype=np.intp)])
        self._qpos_ids = (free[:, None] + np.arange(3)).ravel()
        self._qpos_owner = np.repeat(np.arange(len(self.names)), [3 * len(a) for a in free_of])
        self._qpos_axis = np.tile(np.arange(3), len(free))
        self._geom_pos0 = model.geom_pos[self._geom_ids].copy()
        self._body_pos0 = model.body_pos[self._body_ids].copy()
        self._qpos0 = model.qpos0[self._qpos_ids].copy()

    def apply(self, model: mujoco.MjModel, qpos: np.ndarray | None,
              shifts: Mapping[str, tuple[float, float]]) -> None:
        """Place the obstacles at their original positions plus ``shifts`` (name -> dx, dy;
        absent names: unshifted) in ``model`` and in the joint positions ``qpos`` (free
        bodies), which must come from the same compiled model as the constructor's.
        Sleeping is switched off in ``model``: with it, ``mj_kinematics`` leaves static geoms
        where they were (call :func:`mujoco.mj_kinematics` after this, as usual).

        :raise ConfigError: a shift for a name not given at construction
        """
        unknown = set(shifts) - set(self.names)
        if unknown:
            raise ConfigError(f'shift for unknown obstacle(s) {sorted(unknown)}')
        model.opt.enableflags &= ~int(mujoco.mjtEnableBit.mjENBL_SLEEP)
        table = np.zeros((len(self.names), 3))
        for k, name in enumerate(self.names):
            if name in shifts:
                table[k, :2] = shifts[name]
        model.geom_pos[self._geom_ids] = self._geom_pos0 + table[self._geom_owner]
        model.body_pos[self._body_ids] = self._body_pos0 + table[self._body_owner]
        moved = self._qpos0 + table[self._qpos_owner, self._qpos_axis]
        model.qpos0[self._qpos_ids] = moved
        if qpos is not None:
            qpos[self._qpos_ids] = moved
