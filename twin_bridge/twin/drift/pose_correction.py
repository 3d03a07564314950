"""The base pose a scan matched, in the odometry frame: a localization correction."""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

__all__ = ['PoseCorrection']


@dataclass(frozen=True)
class PoseCorrection:
    """Where the last matched scan says the base is, for a
    ``geometry_msgs/PoseWithCovarianceStamped`` in frame ``odom`` (like AMCL's ``amcl_pose``).

    ``pose`` is ``(x, y, yaw)`` in the odometry frame (the twin's world frame) at
    ``stamp_ns`` (the scan's stamp), ``covariance`` its 3x3 covariance (match covariance plus
    the model-error floors), ``odometry`` the mirrored pose it corrects.
    """

    stamp_ns: int
    pose: np.ndarray
    covariance: np.ndarray
    odometry: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """``pose - odometry`` as ``(dx, dy, dyaw)`` (yaw wrapped to ``[-pi, pi)``)."""
        d = self.pose - self.odometry
        d[2] = math.remainder(float(d[2]), 2 * math.pi)
        return d

    def quaternion(self) -> np.ndarray:
        """The orientation as an ``(x, y, z, w)`` quaternion about z."""
        half = 0.5 * float(self.pose[2])
        return np.array([0.0, 0.0, math.sin(half), math.cos(half)])

    def covariance_6x6(self) -> np.ndarray:
        """The ROS 6x6 covariance (x, y, z, roll, pitch, yaw), row-major as 36 values.

        z, roll and pitch are not estimated: their rows and columns are zero (as AMCL's).
        """
        out = np.zeros((6, 6))
        idx = np.array([0, 1, 5])
        out[np.ix_(idx, idx)] = self.covariance
        return out.reshape(36)
