"""Lidar description (planar or multi-ring) and the LaserScan-shaped result a backend produces."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin_bridge.core.transforms import Pose

__all__ = ['LidarSpec', 'ScanData']


@dataclass(frozen=True)
class LidarSpec:
    """A lidar as described by a Gazebo ``<sensor type="gpu_lidar">`` (or ray/gpu_ray) tag.

    ``link`` is the robot link the sensor is attached to; ``pose`` is the sensor pose in that
    link; ``frame_id`` is what scans are stamped with (``<gz_frame_id>`` or the link name).
    A 3D lidar (``<vertical><samples>`` > 1, e.g. a Velodyne VLP-16) has ``vertical_samples``
    rings from ``vertical_min_angle`` to ``vertical_max_angle`` (elevation, inclusive); its
    LaserScan is ring :attr:`scan_ring`, as ros_gz_bridge takes it from Gazebo's scan.
    """

    name: str
    link: str
    frame_id: str
    samples: int
    min_angle: float
    max_angle: float
    range_min: float
    range_max: float
    range_resolution: float = 0.0
    update_rate: float = 10.0
    noise_mean: float = 0.0
    noise_stddev: float = 0.0
    topic: str = 'scan'
    pose: Pose = field(default_factory=Pose)
    vertical_samples: int = 1
    vertical_min_angle: float = 0.0
    vertical_max_angle: float = 0.0

    @property
    def angle_increment(self) -> float:
        """Angle between consecutive beams (Gazebo convention: samples span min..max inclusive)."""
        return (self.max_angle - self.min_angle) / (self.samples - 1) if self.samples > 1 else 0.0

    def beam_angles(self) -> np.ndarray:
        """Beam angles in the sensor frame, ``samples`` values from ``min_angle``."""
        return self.min_angle + self.angle_increment * np.arange(self.samples)

    @property
    def vertical_increment(self) -> float:
        """Elevation between consecutive rings (0 for a planar lidar)."""
        if self.vertical_samples <= 1:
            return 0.0
        return (self.vertical_max_angle - self.vertical_min_angle) / (self.vertical_samples - 1)

    def ring_angles(self) -> np.ndarray:
        """Elevation of each ring (rad), ``vertical_samples`` values from the lowest.

        A planar lidar has one ring at ``vertical_min_angle`` (Gazebo's single ray layer)."""
        return self.vertical_min_angle + self.vertical_increment * np.arange(
            self.vertical_samples)

    @property
    def scan_ring(self) -> int:
        """The ring published as the LaserScan: the middle one (``vertical_samples // 2``),
        as ros_gz_bridge converts a multi-ring ``gz.msgs.LaserScan``."""
        return self.vertical_samples // 2

    def ray_directions(self, rings: slice | None = None) -> np.ndarray:
        """Unit beam directions in the sensor frame, ring-major: shape (rings x samples, 3).

        :param rings: the rings to include (default: all)
        """
        elevation = self.ring_angles()[rings if rings is not None else slice(None)]
        azimuth = self.beam_angles()
        cos_e = np.cos(elevation)[:, None]
        dirs = np.empty((len(elevation), len(azimuth), 3))
        dirs[:, :, 0] = cos_e * np.cos(azimuth)[None, :]
        dirs[:, :, 1] = cos_e * np.sin(azimuth)[None, :]
        dirs[:, :, 2] = np.sin(elevation)[:, None]
        return dirs.reshape(-1, 3)


@dataclass(frozen=True)
class ScanData:
    """A ``sensor_msgs/LaserScan`` as plain data.

    ``ranges`` (float32) follow REP-117: a beam with no return inside ``range_max`` is
    ``+inf``, a return closer than ``range_min`` is ``-inf``. ``stamp_ns`` is the header
    stamp of a physical scan (0: none); scans a backend casts leave it 0 (the caller stamps
    them, see README "Header stamps").
    """

    frame_id: str
    angle_min: float
    angle_max: float
    angle_increment: float
    time_increment: float
    scan_time: float
    range_min: float
    range_max: float
    ranges: np.ndarray
    intensities: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    stamp_ns: int = 0
