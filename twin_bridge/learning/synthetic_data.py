"""Labelled synthetic lidar scans from the twin: robot poses in free space, moved obstacles,
lidar noise, and per beam the SDF model and link it hit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import math
from pathlib import Path

import mujoco
import numpy as np

from twin_bridge.core.lidar import LidarSpec
from twin_bridge.core.state import OdometrySample
from twin_bridge.core.transforms import yaw_from_quat
from twin_bridge.description.resources import find_world
from twin_bridge.description.robot_description import (
    RobotDescription,
    default_robot_path,
    load_robot_description,
)
from twin_bridge.description.sdf_world import WorldDescription, parse_world
from twin_bridge.embedded.beam_caster import BeamCaster, rep117
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.footprint_search import world_boxes
from twin_bridge.embedded.mujoco_world import build_world_spec
from twin_bridge.errors import ConfigError
from twin_bridge.learning.obstacle_shift import ObstacleShifter
from twin_bridge.learning.sensor_noise import LidarNoise
from twin_bridge.learning.synthetic_config import SyntheticConfig
from twin_bridge.scenarios.physical import RobotContacts

__all__ = ['LabelledScan', 'SyntheticScanGenerator', 'link_targets']

#: Header stamp of sample 0 (ns); sample ``i`` is ``i`` lidar periods later.
T0_NS = 1_700_000_000_000_000_000
#: Random poses tried per sample before giving up.
MAX_POSE_TRIES = 2000


@dataclass(frozen=True)
class LabelledScan:
    """One sample.

    ``pose`` is the robot base ``(x, y, yaw)`` in the world; ``lidar_pose`` the sensor's
    ``(x, y, z, yaw)``; ``ranges`` what the noisy lidar reports (REP-117, float32) and
    ``true_ranges`` the exact cast; ``hit`` per beam an index into the generator's
    :attr:`~SyntheticScanGenerator.targets` (``-1``: no return within ``range_max``). Labels
    are the truth at the nominal beam angles: a dropped-out beam keeps the label of what is
    there. ``shifts`` are the moved obstacles' ``(dx, dy)``; ``noise`` the drawn noise model.
    """

    index: int
    stamp_ns: int
    layout: int
    pose: np.ndarray
    lidar_pose: np.ndarray
    ranges: np.ndarray
    true_ranges: np.ndarray
    hit: np.ndarray
    shifts: dict[str, tuple[float, float]]
    noise: LidarNoise


def link_targets(world: WorldDescription) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """The world's links as ``(model, link)`` label targets, and collision name -> target.

    ``model`` is the scoped model (``outer::inner``), ``link`` the link's own name; a link
    directly under ``<world>`` is its own model.
    """
    targets: list[tuple[str, str]] = []
    by_collision: dict[str, int] = {}
    for link in world.links:
        prefix = link.model + '::'
        short = link.name[len(prefix):] if link.model and link.name.startswith(prefix) \
            else link.name
        targets.append((link.model or link.name, short))
        for collision in link.collisions:
            by_collision[collision.name] = len(targets) - 1
    return targets, by_collision


class _Scene:
    """The world with the robot, compiled once; obstacle layouts are array edits
    (:class:`ObstacleShifter`), poses are checked for clearance, beams cast with labels."""

    def __init__(self, world: WorldDescription, robot: RobotDescription,
                 by_collision: dict[str, int], move_names: tuple[str, ...],
                 clearance: float, beams: int) -> None:
        self.backend = EmbeddedBackend(build_world_spec(world), robot, lidar_noise=False)
        m = self.backend.model
        self.shifter = ObstacleShifter(m, move_names)
        self.contacts = RobotContacts(self.backend, reach=max(1.0, 2 * clearance))
        self.caster = BeamCaster.from_backend(self.backend, max_beams=beams)
        self.geom_target = np.array([by_collision.get(m.geom(i).name, -1)
                                     for i in range(m.ngeom)] + [-1], dtype=np.int32)

    def set_layout(self, shifts: dict[str, tuple[float, float]]) -> None:
        """Move the obstacles to their original places plus ``shifts``."""
        backend = self.backend
        self.shifter.apply(backend.model, backend.data.qpos, shifts)
        self.shifter.apply(self.caster.model, None, shifts)
        self.caster.sync(backend.model.qpos0.copy())

    def world_extent(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` of the world's obstacles."""
        mujoco.mj_kinematics(self.backend.model, self.backend.data)
        lo, hi = world_boxes(self.backend.model, self.backend.data, self.contacts.world_ids)
        if not len(lo):
            raise ConfigError('bounds: the world has no obstacles to take the extent of; '
                              'give bounds: [xmin, xmax, ymin, ymax]')
        return float(lo[:, 0].min()), float(hi[:, 0].max()), float(lo[:, 1].min()), \
            float(hi[:, 1].max())

    def place(self, x: float, y: float, yaw: float) -> float:
        """Put the robot at ``(x, y, yaw)``; :return: its clearance to the world (m)"""
        backend = self.backend
        backend.mirror(OdometrySample(np.array([x, y, 0.0]),
                                      np.array([0.0, 0.0, math.sin(yaw / 2),
                                                math.cos(yaw / 2)])))
        mujoco.mj_kinematics(backend.model, backend.data)
        return self.contacts.clearance()


class SyntheticScanGenerator:
    """Draws :class:`LabelledScan` samples as ``config`` says, deterministically for a seed.

    All randomness comes from one ``numpy`` generator seeded with ``config.seed``, in a
    fixed order: per layout the obstacle shifts, per sample the noise model, the pose (until
    one is collision-free with ``clearance``), then the noise itself. The same config gives
    the same samples.

    :param config: what to randomize
    :param robot: a loaded robot (default: ``config.robot`` or the package's robot)
    :raise ConfigError: an unknown obstacle name, no lidar, no free pose in the bounds
    :raise ResourceNotFoundError, WorldLoadError, RobotDescriptionError: as the backend
    """

    def __init__(self, config: SyntheticConfig, robot: RobotDescription | None = None) -> None:
        self.config = config
        self.robot = robot or load_robot_description(config.robot or default_robot_path())
        if self.robot.lidar is None:
            raise ConfigError(f'robot: "{self.robot.name}" has no lidar to make scans with')
        self.lidar: LidarSpec = self.robot.lidar
        self.world = parse_world(find_world(config.world),
                                 search_path=[Path(p) for p in config.search_path])
        self.targets, self._by_collision = link_targets(self.world)
        try:
            self._scene = _Scene(self.world, self.robot, self._by_collision, config.move_names,
                                 config.clearance, self.lidar.samples)
        except ConfigError as exc:
            raise ConfigError(f'move_obstacles: names: {exc}') from None
        self._angles = self.lidar.beam_angles()
        self._period_ns = int(round(1e9 / self.lidar.update_rate))
        self._rng = np.random.default_rng(config.seed)
        self._layout_index = -1
        self._shifts: dict[str, tuple[float, float]] = {}
        self._bounds = config.bounds
        self.produced = 0

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` robot positions are drawn from (default: the
        obstacles' extent in their original places)."""
        if self._bounds is None:
            self._bounds = self._scene.world_extent()
        return self._bounds

    def _current_layout(self) -> _Scene:
        index = self.produced // self.config.layout_every
        if index != self._layout_index:
            cfg = self.config
            self.bounds  # noqa: B018 (the extent before anything moves)
            self._layout_index = index
            self._shifts = {n: (float(self._rng.uniform(-cfg.max_shift, cfg.max_shift)),
                                float(self._rng.uniform(-cfg.max_shift, cfg.max_shift)))
                            for n in cfg.move_names} if cfg.max_shift > 0 else {}
            self._scene.set_layout(self._shifts)
        return self._scene

    def _free_pose(self, layout: _Scene) -> tuple[float, float, float]:
        xmin, xmax, ymin, ymax = self.bounds
        rng = self._rng
        for _ in range(MAX_POSE_TRIES):
            x, y = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
            yaw = rng.uniform(-math.pi, math.pi)
            if layout.place(x, y, yaw) >= self.config.clearance:
                return float(x), float(y), float(yaw)
        raise ConfigError(f'bounds: no robot pose with clearance {self.config.clearance:g} m '
                          f'in {list(self.bounds)} after {MAX_POSE_TRIES} tries')

    def next_sample(self) -> LabelledScan:
        """Draw the next sample."""
        layout = self._current_layout()
        noise = self.config.noise.draw(self._rng)
        x, y, yaw = self._free_pose(layout)  # leaves the robot placed there
        origin, quat = layout.backend.lidar_pose()
        lidar_yaw = yaw_from_quat(quat)
        hits = layout.caster.cast(origin, lidar_yaw, self._angles)
        spec = self.lidar
        true_ranges = rep117(hits.ranges, spec.range_min, spec.range_max)
        ranges = noise.apply(true_ranges, self._rng, spec.range_max, range_min=spec.range_min,
                             angle_increment=spec.angle_increment or None)
        hit = np.where(hits.ranges <= spec.range_max, layout.geom_target[hits.geom_ids], -1)
        sample = LabelledScan(
            index=self.produced, stamp_ns=T0_NS + self.produced * self._period_ns,
            layout=self._layout_index, pose=np.array([x, y, yaw]),
            lidar_pose=np.array([origin[0], origin[1], origin[2], lidar_yaw]),
            ranges=ranges.astype(np.float32), true_ranges=true_ranges.astype(np.float32),
            hit=hit.astype(np.int32), shifts=dict(self._shifts), noise=noise)
        self.produced += 1
        return sample

    def __iter__(self) -> Iterator[LabelledScan]:
        """The remaining samples up to ``config.samples``."""
        while self.produced < self.config.samples:
            yield self.next_sample()

    def describe(self) -> dict[str, object]:
        """What the data set is: world, robot, lidar geometry, config (for file metadata)."""
        spec = self.lidar
        return {'world': str(Path(self.config.world)), 'robot': self.robot.name,
                'frame_id': self.config.frame_id, 'lidar_frame_id': spec.frame_id,
                'angle_min': spec.min_angle, 'angle_max': spec.max_angle,
                'angle_increment': spec.angle_increment, 'range_min': spec.range_min,
                'range_max': spec.range_max, 'samples_per_scan': spec.samples,
                'seed': self.config.seed}
