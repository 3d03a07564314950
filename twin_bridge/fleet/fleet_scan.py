"""Scanning every robot of a fleet model in one pass, each robot seeing the others."""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.embedded.embedded_backend import CULLED_GEOM_GROUP
from twin_bridge.embedded.mujoco_robot import LIDAR_SITE_NAME
from twin_bridge.fleet.fleet_model import FleetModel

__all__ = ['FleetScanner']


class _Beams:
    """Per-robot buffers and ids, resolved once."""

    def __init__(self, fleet: FleetModel, namespace: str, noise: bool, seed: int | None) -> None:
        slot = fleet.slots[namespace]
        spec = slot.lidar
        self.slot, self.spec = slot, spec
        self.site = fleet.model.site(slot.prefix + LIDAR_SITE_NAME).id
        self.own = fleet.robot_geoms(namespace)
        self.own_group = fleet.model.geom_group[self.own].copy()
        angles = spec.beam_angles()
        self.local = np.zeros((spec.samples, 3))
        self.local[:, 0], self.local[:, 1] = np.cos(angles), np.sin(angles)
        self.vec = np.zeros((spec.samples, 3))
        self.pnt = np.zeros(3)
        self.geom = np.zeros(spec.samples, dtype=np.int32)
        self.dist = np.zeros(spec.samples)
        self.stddev = spec.noise_stddev if noise else 0.0
        self.mean = spec.noise_mean if noise else 0.0
        self.rng = np.random.default_rng(seed)
        self.scan_time = 1.0 / spec.update_rate


class FleetScanner:
    """Casts the scans of ``namespaces`` (robots with a lidar) from one snapshot of the fleet.

    :meth:`cast` copies the fleet's configuration once, runs ``mj_kinematics`` once, and casts
    each robot's beams with one ``mj_multiRay`` (a call casts from a single origin, so one
    per robot): every robot's geoms are hit except the casting robot's own, which sit in the
    never-cast geom group for its call only, so robots see each other exactly as they see the
    world. Geoms whose bounding box misses a robot's scan plane are skipped for its call.
    Each scan goes to its robot's slot (:meth:`RobotSlot.deliver`). Not thread-safe: one
    caller (the scan thread).

    :param noise: add each lidar's Gaussian range noise
    :param seed: noise seed (robot ``k`` uses ``seed + k``; ``None``: fresh entropy)
    """

    def __init__(self, fleet: FleetModel, namespaces: Sequence[str], *, noise: bool = True,
                 seed: int | None = None,
                 noise_by_robot: dict[str, bool] | None = None) -> None:
        self._fleet = fleet
        self._model = model = fleet.model
        self._data = mujoco.MjData(model)
        noise_by_robot = noise_by_robot or {}
        self._beams = [
            _Beams(fleet, ns, noise and noise_by_robot.get(ns, True),
                   None if seed is None else seed + k)
            for k, ns in enumerate(namespaces) if fleet.slots[ns].lidar is not None]
        self._geomgroup = np.ones(mujoco.mjNGROUP, dtype=np.uint8)
        self._geomgroup[CULLED_GEOM_GROUP] = 0
        enabled = self._geomgroup[model.geom_group].astype(bool)
        self._bounded = np.flatnonzero(enabled & (model.geom_rbound > 0))
        self._bounded_group = model.geom_group[self._bounded].copy()

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The robots this scanner casts for (those with a lidar)."""
        return tuple(b.slot.prefix[:-1] for b in self._beams)

    def cast(self) -> dict[str, ScanData]:
        """One scan per robot from the fleet's current configuration (REP-117 ranges),
        also delivered to each robot's slot."""
        model, data = self._model, self._data
        with self._fleet.lock:
            data.qpos[:] = self._fleet.data.qpos
        mujoco.mj_kinematics(model, data)
        ids = self._bounded
        xmat = data.geom_xmat[ids].reshape(-1, 3, 3)
        aabb = model.geom_aabb[ids]
        centre = data.geom_xpos[ids] + np.einsum('kij,kj->ki', xmat, aabb[:, :3])
        half = np.einsum('kij,kj->ki', np.abs(xmat), aabb[:, 3:])
        groups = model.geom_group
        out = {}
        try:
            for beams in self._beams:
                spec = beams.spec
                beams.pnt[:] = data.site_xpos[beams.site]
                rot = data.site_xmat[beams.site].reshape(3, 3)
                mujoco.mju_mulMatMatT(beams.vec, beams.local, rot)
                normal = rot[:, 2]
                off = np.abs((centre - beams.pnt) @ normal) > half @ np.abs(normal)
                groups[ids] = np.where(off, CULLED_GEOM_GROUP, self._bounded_group)
                groups[beams.own] = CULLED_GEOM_GROUP
                mujoco.mj_multiRay(model, data, beams.pnt, beams.vec.reshape(-1),
                                   self._geomgroup, 1, -1, beams.geom, beams.dist, None,
                                   spec.samples, spec.range_max)
                groups[beams.own] = beams.own_group
                scan = self._ranges(beams)
                beams.slot.deliver(scan)
                out[beams.slot.prefix[:-1]] = scan
        finally:
            groups[ids] = self._bounded_group
        return out

    @staticmethod
    def _ranges(beams: _Beams) -> ScanData:
        spec = beams.spec
        ranges = beams.dist.copy()
        if beams.stddev > 0.0 or beams.mean != 0.0:
            ranges += beams.rng.normal(beams.mean, beams.stddev, ranges.shape)
        np.putmask(ranges, beams.geom < 0, np.inf)
        np.putmask(ranges, ranges > spec.range_max, np.inf)
        np.putmask(ranges, ranges < spec.range_min, -np.inf)
        return ScanData(frame_id=spec.frame_id, angle_min=spec.min_angle,
                        angle_max=spec.max_angle, angle_increment=spec.angle_increment,
                        time_increment=0.0, scan_time=beams.scan_time,
                        range_min=spec.range_min, range_max=spec.range_max,
                        ranges=ranges.astype(np.float32))
