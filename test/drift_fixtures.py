"""Shared set-up for the drift tests: the default robot in a world, a caster, fault injection."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.beam_caster import BeamCaster, rep117
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.twin.drift.scan_match import ScanMatcher

SCAN_WORLDS = Path(__file__).resolve().parent / 'data' / 'scan_worlds'


class Twin:
    """A world with the default robot: the twin's caster, a 'physical' caster, a matcher."""

    def __init__(self, world: str | Path = 'warehouse', **search) -> None:
        self.robot = load_robot_description(default_robot_path())
        self.backend = EmbeddedBackend(world, self.robot, lidar_noise=False, **search)
        self.backend.lidar_pose()  # kinematics up to date
        self.caster = BeamCaster.from_backend(self.backend)
        self.physical = BeamCaster.from_backend(self.backend)
        self.lidar = self.robot.lidar
        sensor = self.robot.link_pose(self.lidar.link).compose(self.lidar.pose)
        self.sensor_in_base = np.array([sensor.position[0], sensor.position[1],
                                        yaw_from_quat(sensor.orientation)])
        self.sensor_height = float(sensor.position[2])
        self.angles = self.lidar.beam_angles()

    def matcher(self, **kwargs) -> ScanMatcher:
        return ScanMatcher(self.caster, self.sensor_in_base, self.sensor_height,
                           range_min=self.lidar.range_min, range_max=self.lidar.range_max,
                           **kwargs)

    def move_body(self, body: str, dx: float, dy: float) -> None:
        """Move a free world body in the 'physical' world only."""
        m = self.backend.model
        joint = m.joint(int(m.body(body).jntadr[0]))
        qpos = self.physical.data.qpos.copy()
        qpos[joint.qposadr[0]] += dx
        qpos[joint.qposadr[0] + 1] += dy
        self.physical.sync(qpos)

    def scan(self, base_pose, rng: np.random.Generator, *, noise: float = 0.01,
             yaw_offset: float = 0.0, bias: float = 0.0, scale: float = 1.0) -> np.ndarray:
        """A 'physical' REP-117 scan with the base truly at ``base_pose`` and lidar faults."""
        c, s = np.cos(base_pose[2]), np.sin(base_pose[2])
        o = self.sensor_in_base
        origin = np.array([base_pose[0] + c * o[0] - s * o[1],
                           base_pose[1] + s * o[0] + c * o[1], self.sensor_height])
        hits = self.physical.cast(origin, base_pose[2] + o[2] + yaw_offset, self.angles)
        ranges = scale * hits.ranges + bias + rng.normal(0.0, noise, len(self.angles))
        return rep117(ranges, self.lidar.range_min, self.lidar.range_max)
