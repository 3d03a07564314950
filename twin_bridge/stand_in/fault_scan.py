"""The stand-in robot's own lidar with its faults: cast in the faulty world, with a faulty lidar."""

from __future__ import annotations

import bisect
from pathlib import Path

from twin_bridge.core.lidar import LidarSpec, ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.resources import find_world
from twin_bridge.description.robot_description import RobotDescription
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.mujoco_world import load_world_spec
from twin_bridge.embedded.world_edits import move_body
from twin_bridge.stand_in.faults import FaultInjector, ScanWorld, scan_worlds, transform_pose

__all__ = ['FaultyScanner']


class FaultyScanner:
    """Casts the stand-in's scan from the true pose, in the world the faults say at each time.

    One embedded world is compiled up front per :class:`ScanWorld` of the faults (one without
    world faults), so switching at a fault's onset costs nothing. A lidar yaw fault casts
    from the base turned about the vertical through the lidar; range faults apply after.

    :param world: the stand-in's world (shipped name or SDF path)
    :param robot: the robot (its lidar casts)
    :param injector: the faults
    :param seed: seed of the lidar's own noise (as the robot description gives it)
    :param search_path: extra ``model://`` directories
    :raise ConfigError: an ``obstacle_moved`` names nothing in the world
    :raise ResourceNotFoundError, WorldLoadError, BackendError: as :class:`EmbeddedBackend`
    """

    def __init__(self, world: str | Path, robot: RobotDescription, injector: FaultInjector,
                 *, seed: int | None = None, search_path: list[Path] | None = None) -> None:
        self._injector = injector
        plan = scan_worlds(injector.faults)
        self._starts = [w.start for w in plan]
        self._backends: list[EmbeddedBackend] = []
        try:
            for variant in plan:
                self._backends.append(self._build(world, variant, robot, seed, search_path))
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _build(world: str | Path, variant: ScanWorld, robot: RobotDescription,
               seed: int | None, search_path: list[Path] | None) -> EmbeddedBackend:
        if variant.world is None and not variant.moves:
            return EmbeddedBackend(world, robot, lidar_seed=seed, search_path=search_path)
        spec, _ = load_world_spec(find_world(variant.world or str(world)),
                                  search_path=search_path)
        for name, dx, dy in variant.moves:
            move_body(spec, name, dx, dy)
        return EmbeddedBackend(spec, robot, lidar_seed=seed)

    @property
    def lidar(self) -> LidarSpec | None:
        """The robot's lidar (``None``: it has none, :meth:`scan` gives nothing)."""
        return self._backends[0].lidar if self._backends else None

    def scan(self, t: float, odometry: OdometrySample,
             joints: JointStateSample | None = None) -> ScanData | None:
        """The published scan at time ``t`` (s since start) of the robot truly at ``odometry``
        with ``joints``; ``None`` without a lidar."""
        backend = self._backends[max(0, bisect.bisect_right(self._starts, t) - 1)]
        backend.mirror(odometry, joints)
        yaw = self._injector.lidar_yaw(t)
        if yaw:
            origin, _ = backend.lidar_pose()
            backend.mirror(transform_pose(odometry, origin[:2], 0.0, 0.0, yaw))
        scan = backend.scan()
        return None if scan is None else self._injector.scan(scan, t)

    def close(self) -> None:
        """Release the worlds."""
        for backend in self._backends:
            backend.close()
        self._backends.clear()
