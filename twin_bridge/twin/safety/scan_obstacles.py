"""Obstacles in the latest physical scan that the twin's world lacks, as world-frame points."""

from __future__ import annotations

import math

import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.embedded.beam_caster import BeamCaster
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.errors import ConfigError
from twin_bridge.twin.drift.residuals import compare_beams

__all__ = ['ScanObstacles']


class ScanObstacles:
    """The physical beams that stop short of the twin's cast of the same beams.

    Each physical scan is compared beam by beam (:func:`~twin_bridge.twin.drift.residuals.
    compare_beams`) with the twin's world cast from the same lidar pose; a beam that is
    ``new`` (shorter by more than ``tolerance``, or a return where the twin sees nothing, or
    too close to measure) gives a point where it ends (``range_min`` for a too-close beam).
    Only the latest scan's points are kept, at most ``max_points`` (the nearest to the lidar).

    :param caster: casts the twin's world (its own copy; :meth:`BeamCaster.sync` after the
        world changes)
    :param tolerance: range difference (m) the world explains (noise, pose error)
    :param max_points: the most points kept
    :raise ConfigError: a tolerance < 0 or ``max_points`` < 1
    """

    def __init__(self, caster: BeamCaster, *, tolerance: float = 0.1,
                 max_points: int = 256) -> None:
        if not (math.isfinite(tolerance) and tolerance >= 0 and max_points >= 1):
            raise ConfigError(f'scan obstacles: tolerance must be >= 0 and max_points >= 1, '
                              f'got {tolerance}, {max_points}')
        self.caster = caster
        self.tolerance, self.max_points = float(tolerance), int(max_points)
        self._points = np.zeros((0, 2))
        #: Monotonic time (s) of the scan the points came from (``None`` before one).
        self.time: float | None = None
        #: Scans compared, and beams that gave a point (all scans).
        self.counts = {'scans': 0, 'points': 0, 'truncated': 0}

    @classmethod
    def from_backend(cls, backend: EmbeddedBackend, **kwargs: object) -> ScanObstacles:
        """Obstacles against ``backend``'s world as it is now."""
        return cls(BeamCaster.from_backend(backend), **kwargs)  # type: ignore[arg-type]

    @property
    def points(self) -> np.ndarray:
        """The latest obstacle points ``(n, 2)`` (world frame; a copy)."""
        return self._points.copy()

    def update(self, scan: ScanData, origin: np.ndarray, yaw: float, now: float) -> np.ndarray:
        """Replace the points with ``scan``'s, cast from the lidar at ``origin`` (world, 3)
        with heading ``yaw``. :return: the new points ``(n, 2)``

        :raise BackendError: a bad origin or yaw, or more beams than the caster takes
        """
        phys = np.asarray(scan.ranges, dtype=float)
        angles = scan.angle_min + np.arange(len(phys)) * scan.angle_increment
        virtual = self.caster.cast(np.asarray(origin, dtype=float), float(yaw), angles).ranges
        verdict = compare_beams(phys, virtual, self.tolerance, scan.range_min, scan.range_max)
        ranges = np.where(phys == -np.inf, scan.range_min, phys)[verdict.new]
        heading = angles[verdict.new] + yaw
        keep = np.isfinite(ranges)
        ranges, heading = ranges[keep], heading[keep]
        if len(ranges) > self.max_points:
            nearest = np.argpartition(ranges, self.max_points - 1)[:self.max_points]
            ranges, heading = ranges[nearest], heading[nearest]
            self.counts['truncated'] += 1
        origin = np.asarray(origin, dtype=float)
        self._points = np.column_stack([origin[0] + ranges * np.cos(heading),
                                        origin[1] + ranges * np.sin(heading)])
        self.time = float(now)
        self.counts['scans'] += 1
        self.counts['points'] += len(ranges)
        return self._points.copy()
