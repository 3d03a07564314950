"""2D lidar description and the LaserScan-shaped result a backend produces."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin_bridge.core.transforms import Pose

__all__ = ['LidarSpec', 'ScanData']


@dataclass(frozen=True)
class LidarSpec:
    """A planar lidar as described by a Gazebo ``<sensor type="gpu_lidar">`` (or ray/gpu_ray) tag.

    ``link`` is the robot link the sensor is attached to; ``pose`` is the sensor pose in that
    link; ``frame_id`` is what scans are stamped with (``<gz_frame_id>`` or the link name).
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

    @property
    def angle_increment(self) -> float:
        """Angle between consecutive beams (Gazebo convention: samples span min..max inclusive)."""
        return (self.max_angle - self.min_angle) / (self.samples - 1) if self.samples > 1 else 0.0

    def beam_angles(self) -> np.ndarray:
        """Beam angles in the sensor frame, ``samples`` values from ``min_angle``."""
        return self.min_angle + self.angle_increment * np.arange(self.samples)


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
