"""One MuJoCo model holding a world and every robot of a fleet, names prefixed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
import threading

import mujoco
import numpy as np

from twin_bridge.description.resources import find_world
from twin_bridge.description.robot_description import (
    RobotDescription,
    default_robot_path,
    load_robot_description,
)
from twin_bridge.embedded.compile_errors import describe_compile_error
from twin_bridge.embedded.mujoco_robot import robot_spec
from twin_bridge.embedded.mujoco_world import load_world_spec
from twin_bridge.errors import BackendError, ConfigError, TwinBridgeError
from twin_bridge.fleet.fleet_spec import FleetSpec, RobotEntry
from twin_bridge.fleet.robot_slot import RobotSlot

__all__ = ['FleetModel', 'load_fleet_robots']


def load_fleet_robots(fleet: FleetSpec) -> dict[str, RobotDescription]:
    """Every robot's description, by namespace.

    :raise ConfigError: ``'<file>: robot "robot2": key "description": <why>'``
    """
    robots = {}
    for entry in fleet.robots:
        try:
            robots[entry.namespace] = load_robot_description(
                entry.description_file or default_robot_path(), dict(entry.xacro_args) or None,
                lidar_sensor=entry.parameter('lidar_sensor'))
        except TwinBridgeError as exc:
            raise ConfigError(f'{fleet.source}: robot "{entry.namespace}": key "description": '
                              f'{exc}') from exc
    return robots


class FleetModel:
    """The world and every robot of ``fleet`` compiled into one model.

    Each robot is attached under the prefix ``<namespace>/`` (``robot1/base_link``), so the
    same robot file may be used many times. :attr:`slots` gives each robot's
    :class:`RobotSlot` (by namespace, in fleet order); every slot writes into the one
    :attr:`data` under :attr:`lock`. Robots start at their start poses; start poses whose
    footprints overlap are refused.

    :param robots: the loaded descriptions by namespace (default: :func:`load_fleet_robots`)
    :param search_path: extra ``model://`` directories for the world
    :raise ConfigError: a robot that cannot be loaded or overlaps another, naming both
    :raise ResourceNotFoundError, WorldLoadError: the world cannot be loaded
    """

    def __init__(self, fleet: FleetSpec, robots: Mapping[str, RobotDescription] | None = None,
                 *, search_path: list[Path] | None = None) -> None:
        self.fleet = fleet
        robots = dict(robots) if robots is not None else load_fleet_robots(fleet)
        spec, self.world_description = load_world_spec(find_world(fleet.world),
                                                       search_path=search_path)
        for entry in fleet.robots:
            robot = robots[entry.namespace]
            try:
                part = robot_spec(robot)
                part.compile()  # alone first, so a broken robot is named as such
            except Exception as exc:
                raise ConfigError(f'{fleet.source}: robot "{entry.namespace}": key '
                                  f'"description": {exc}') from exc
            spec.attach(part, prefix=_prefix(entry), frame=spec.worldbody.add_frame())
        try:
            self.model = spec.compile()
        except Exception as exc:  # MuJoCo reports compile errors as ValueError
            raise BackendError(describe_compile_error(
                str(exc), world=self.world_description, robot=None, robot_prefix='')) from exc
        self.data = mujoco.MjData(self.model)
        #: Guards :attr:`data` (every slot's mirror and read-back, the scanner's snapshot).
        self.lock = threading.Lock()
        #: Each robot's share of the model, by namespace in fleet order.
        self.slots: dict[str, RobotSlot] = {
            e.namespace: RobotSlot(self.model, self.data, self.lock, robots[e.namespace],
                                   _prefix(e), e.pose) for e in fleet.robots}
        mujoco.mj_kinematics(self.model, self.data)
        self._check_overlaps()

    def robot_geoms(self, namespace: str) -> np.ndarray:
        """Ids of every geom of the robot ``namespace`` (its root body's subtree)."""
        root = self.slots[namespace].root_body
        return np.flatnonzero(self.model.body_rootid[self.model.geom_bodyid] == root)

    def footprint_radius(self, namespace: str) -> float:
        """Radius (m) of the circle about the root, in the ground plane, holding every geom of
        the robot at its start configuration (geom bounding spheres)."""
        ids = self.robot_geoms(namespace)
        if not len(ids):
            return 0.0
        root = self.data.xpos[self.slots[namespace].root_body, :2]
        offsets = np.linalg.norm(self.data.geom_xpos[ids, :2] - root, axis=1)
        return float(np.max(offsets + self.model.geom_rbound[ids]))

    def _check_overlaps(self) -> None:
        entries = self.fleet.robots
        radius = {e.namespace: self.footprint_radius(e.namespace) for e in entries}
        for i, a in enumerate(entries):
            for b in entries[i + 1:]:
                gap = float(np.hypot(a.pose.x - b.pose.x, a.pose.y - b.pose.y))
                if gap < radius[a.namespace] + radius[b.namespace]:
                    raise ConfigError(
                        f'{self.fleet.source}: robot "{b.namespace}": key "pose": its start '
                        f'pose overlaps robot "{a.namespace}" ({gap:.3f} m apart; footprint '
                        f'radii {radius[b.namespace]:.3f} m and {radius[a.namespace]:.3f} m)')


def _prefix(entry: RobotEntry) -> str:
    return f'{entry.namespace}/'
