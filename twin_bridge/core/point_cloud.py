"""A 3D lidar's sweep as plain data, packed in the PointCloud2 layout Gazebo's gpu_lidar gives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ['CLOUD_FIELDS', 'CLOUD_POINT_DTYPE', 'CLOUD_POINT_STEP', 'PointCloudData']

# gz-sensors' GpuLidarSensor fills its PointCloudPacked with fields xyz (FLOAT32), intensity
# (FLOAT32) and ring (UINT16), memory-aligned to 8 bytes (InitPointCloudPacked(..., true,
# ...)); ros_gz_bridge copies fields, steps and data as they are.
#: ``(name, offset, sensor_msgs/PointField datatype, count)`` of each field.
CLOUD_FIELDS = (('x', 0, 7, 1), ('y', 4, 7, 1), ('z', 8, 7, 1), ('intensity', 16, 7, 1),
                ('ring', 24, 4, 1))
#: Bytes per point (the 26 bytes of fields rounded up to a multiple of 8).
CLOUD_POINT_STEP = 32
#: One point as a numpy structured dtype (little-endian), the padding included.
CLOUD_POINT_DTYPE = np.dtype({'names': ['x', 'y', 'z', 'intensity', 'ring'],
                              'formats': ['<f4', '<f4', '<f4', '<f4', '<u2'],
                              'offsets': [0, 4, 8, 16, 24], 'itemsize': CLOUD_POINT_STEP})


@dataclass(frozen=True)
class PointCloudData:
    """One sweep of a multi-ring lidar, in its sensor frame.

    ``ranges`` (float32, ``(rings, samples)``; ring 0 the lowest) are distances along each
    beam, ``+inf`` for no return within ``range_max`` and ``-inf`` closer than
    ``range_min`` (REP-117, as in the scan); ``ring_angles`` and ``beam_angles`` are the
    elevation of each ring and the azimuth of each beam (rad). ``stamp_ns`` is 0 (the caller
    stamps it).
    """

    frame_id: str
    ranges: np.ndarray
    ring_angles: np.ndarray
    beam_angles: np.ndarray
    range_min: float
    range_max: float
    stamp_ns: int = 0

    @property
    def height(self) -> int:
        """Rings (the cloud's rows)."""
        return int(self.ranges.shape[0])

    @property
    def width(self) -> int:
        """Beams per ring (the cloud's columns)."""
        return int(self.ranges.shape[1])

    def points(self) -> np.ndarray:
        """``(rings, samples, 3)`` float32 x, y, z of every beam (spherical to Cartesian as
        Gazebo does: an infinite range gives infinite or NaN coordinates)."""
        cos_e = np.cos(self.ring_angles)[:, None]
        with np.errstate(invalid='ignore'):
            xyz = np.empty(self.ranges.shape + (3,), dtype=np.float32)
            r = self.ranges.astype(np.float64)
            xyz[..., 0] = r * cos_e * np.cos(self.beam_angles)[None, :]
            xyz[..., 1] = r * cos_e * np.sin(self.beam_angles)[None, :]
            xyz[..., 2] = r * np.sin(self.ring_angles)[:, None]
        return xyz

    def packed(self) -> bytes:
        """The points in Gazebo's gpu_lidar layout (:data:`CLOUD_FIELDS`, row-major, ring by
        ring), intensity 0; ``height * width * CLOUD_POINT_STEP`` bytes."""
        cloud = np.zeros(self.ranges.shape, dtype=CLOUD_POINT_DTYPE)
        xyz = self.points()
        cloud['x'], cloud['y'], cloud['z'] = xyz[..., 0], xyz[..., 1], xyz[..., 2]
        cloud['ring'] = np.arange(self.height, dtype=np.uint16)[:, None]
        return cloud.tobytes()

    @property
    def is_dense(self) -> bool:
        """Whether every point is finite (Gazebo's flag: false as soon as a beam misses)."""
        return bool(np.all(np.isfinite(self.ranges)))
