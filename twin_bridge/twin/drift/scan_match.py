"""Match a physical scan against the twin's world: the ray caster is the map.

Robust Gauss-Newton over the base pose ``(x, y, yaw)`` and, optionally, the lidar's range
model ``r_measured = scale * r_true + bias``. Each iteration is one batched cast of the scan's
beams from the current estimate; the Jacobian is analytic from the hit normals: for a beam
from ``o`` along ``d`` hitting a surface with normal ``n`` at range ``r``,
``dr/do = -n / (n.d)`` and ``dr/dheading = -r (n.d_perp) / (n.d)``.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Protocol

import numpy as np

from twin_bridge.embedded.beam_caster import BeamHits
from twin_bridge.twin.drift.residuals import robust_scale
from twin_bridge.twin.drift.se2 import compose, wrap

__all__ = ['MatchResult', 'RayCaster', 'ScanMatcher']

#: Cauchy weight scale, in robust standard deviations (95 % efficiency on Gaussian noise).
_CAUCHY = 2.385
#: Steps below these keep the last cast (m, rad): hits move less than the noise.
_LINEAR_XY = 2e-3
_LINEAR_YAW = 3e-4
#: Re-weightings of one linearisation at most.
_REWEIGHTS = 4


class RayCaster(Protocol):
    """What the matcher needs from a caster (a :class:`~.beam_caster.BeamCaster`)."""

    def cast(self, origin: np.ndarray, yaw: float, angles: np.ndarray) -> BeamHits:
        """Cast horizontal beams from ``origin`` at ``yaw + angles``."""
        ...


@dataclass(frozen=True)
class MatchResult:
    """A matched scan.

    ``pose`` is the base pose ``(x, y, yaw)`` that best explains the scan, ``covariance``
    its 3x3 covariance; ``range_bias``/``range_scale`` the fitted range model with
    ``range_covariance`` (2x2; zeros if not estimated). ``initial`` is the cast at the
    initial pose (the twin's view at the mirrored pose), ``predicted`` the twin's ranges at
    the matched pose through the range model (``+inf`` for misses), ``inliers`` the beams
    that took part, ``sigma`` the robust residual scale (m). ``valid`` is False when too few
    beams could be used (then ``pose`` is the initial pose).
    """

    pose: np.ndarray
    covariance: np.ndarray
    range_bias: float
    range_scale: float
    range_covariance: np.ndarray
    initial: BeamHits
    predicted: np.ndarray
    inliers: np.ndarray
    sigma: float
    iterations: int
    converged: bool
    valid: bool


class ScanMatcher:
    """Robust scan-to-world matching by casting.

    :param caster: casts beams against the twin's world (robot excluded)
    :param sensor_in_base: the lidar's planar pose ``(x, y, yaw)`` in the base frame
    :param sensor_height: the lidar's height above the odometry frame's ground (m)
    :param range_min: the lidar's minimum range
    :param range_max: the lidar's maximum range
    :param noise_stddev: the lidar's range noise (floor of the robust scale)
    :param estimate_range_model: also fit range bias and scale
    :param max_iterations: Gauss-Newton iterations (casts) at most
    :param min_incidence: skip beams meeting a surface at ``|cos| <`` this (grazing)
    :param min_beams: fewer usable beams than this gives an invalid result
    """

    def __init__(self, caster: RayCaster, sensor_in_base: np.ndarray, sensor_height: float, *,
                 range_min: float, range_max: float, noise_stddev: float = 0.01,
                 estimate_range_model: bool = True, max_iterations: int = 8,
                 min_incidence: float = 0.2, min_beams: int = 20) -> None:
        self.caster = caster
        self.sensor_in_base = np.asarray(sensor_in_base, dtype=float).copy()
        if self.sensor_in_base.shape != (3,):
            raise ValueError(f'sensor_in_base: expected (x, y, yaw), got {sensor_in_base}')
        self.sensor_height = float(sensor_height)
        self.range_min = float(range_min)
        self.range_max = float(range_max)
        self.noise = float(noise_stddev)
        self.nparam = 5 if estimate_range_model else 3
        self.max_iterations = int(max_iterations)
        self.min_incidence = float(min_incidence)
        self.min_beams = int(min_beams)

    def sensor_pose(self, base_pose: np.ndarray) -> np.ndarray:
        """The lidar's planar world pose for a base pose."""
        return compose(base_pose, self.sensor_in_base)

    def cast_at(self, base_pose: np.ndarray, angles: np.ndarray) -> BeamHits:
        """The twin's beams at ``angles`` (sensor frame) with the base at ``base_pose``."""
        s = self.sensor_pose(base_pose)
        return self.caster.cast(np.array([s[0], s[1], self.sensor_height]), float(s[2]),
                                angles)

    def match(self, angles: np.ndarray, ranges: np.ndarray, initial_pose: np.ndarray,
              initial: BeamHits | None = None) -> MatchResult:
        """Match one scan (REP-117 ranges at sensor-frame ``angles``) from ``initial_pose``.

        :param initial: the cast at ``initial_pose`` if the caller already has it
        :raise ValueError: ``angles`` and ``ranges`` of different shapes
        """
        angles = np.asarray(angles, dtype=float)
        ranges = np.asarray(ranges, dtype=float)
        if angles.shape != ranges.shape or angles.ndim != 1:
            raise ValueError(f'angles and ranges: expected equal 1-D shapes, got '
                             f'{angles.shape} and {ranges.shape}')
        pose = np.asarray(initial_pose, dtype=float).copy()
        theta = np.zeros(self.nparam)
        theta[:3] = pose
        if self.nparam == 5:
            theta[4] = 1.0
        measured = np.isfinite(ranges) & (ranges >= self.range_min) & (ranges <= self.range_max)
        hits = initial if initial is not None else self.cast_at(pose, angles)
        first = hits
        step = np.full(self.nparam, np.inf)
        converged = valid = False
        iterations = 0
        h = np.eye(self.nparam)
        sigma = self.noise
        use = np.zeros(len(angles), dtype=bool)
        e = np.zeros(len(angles))
        jac = np.zeros((len(angles), self.nparam))
        for iterations in range(1, self.max_iterations + 1):  # noqa: B007 (used below)
            e, jac, use = self._linearise(theta, hits, ranges, measured)
            if np.count_nonzero(use) < self.min_beams:
                valid = False
                break
            valid = True
            step, h, sigma = self._irls(e[use], jac[use])
            step[:2] = np.clip(step[:2], -0.3, 0.3)
            step[2] = float(np.clip(step[2], -0.15, 0.15))
            theta = theta + step
            theta[2] = float(wrap(theta[2]))
            if (abs(step[0]) < _LINEAR_XY and abs(step[1]) < _LINEAR_XY
                    and abs(step[2]) < _LINEAR_YAW):
                # Within the linear range of the last cast: it stands for the matched pose.
                converged = True
                break
            hits = self.cast_at(theta[:3], angles)
        predicted = self._predict(theta, hits)
        if converged:
            # The range model's step is in theta already; the pose step moves the hits.
            predicted = predicted + jac[:, :3] @ step[:3]
        elif valid:
            e, jac, use = self._linearise(theta, hits, ranges, measured)
        if valid:
            cov = sigma * sigma * np.linalg.inv(h)
        else:
            cov = np.diag(np.full(self.nparam, np.inf))
            theta[:3] = pose
        range_cov = cov[3:, 3:] if self.nparam == 5 else np.zeros((2, 2))
        return MatchResult(
            pose=theta[:3].copy(), covariance=cov[:3, :3].copy(),
            range_bias=float(theta[3]) if self.nparam == 5 else 0.0,
            range_scale=float(theta[4]) if self.nparam == 5 else 1.0,
            range_covariance=range_cov.copy(), initial=first, predicted=predicted,
            inliers=use, sigma=sigma, iterations=iterations, converged=converged, valid=valid)

    def _irls(self, e_u: np.ndarray, j_u: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Cauchy-weighted least squares on one linearisation, re-weighted on its own
        residuals (no new cast) while the step moves them: ``(step, normal matrix, sigma)``.

        A Cauchy fit from a start off by a constant stops short (the weights favour the
        residuals nearer 0); re-weighting on the linear model's residuals removes that.
        """
        r = e_u
        step = np.zeros(j_u.shape[1])
        h = np.eye(j_u.shape[1])
        sigma = max(robust_scale(r), self.noise)
        for i in range(_REWEIGHTS):
            w = 1.0 / (1.0 + (r / (_CAUCHY * sigma)) ** 2)
            jw = j_u * w[:, None]
            h = jw.T @ j_u
            h[np.diag_indices_from(h)] += 1e-9 * (1.0 + np.trace(h))
            new = np.linalg.solve(h, jw.T @ e_u)
            moved = j_u @ (new - step)
            step = new
            r = e_u - j_u @ step
            # Settled when the last solve moved the residuals by well under the noise.
            if float(np.abs(moved).mean()) < 0.1 * sigma:
                if i == 0:
                    return step, h, sigma  # the residuals hardly moved: same scale
                break
            sigma = max(robust_scale(r, centred=True), self.noise)
        return step, h, sigma

    def _predict(self, theta: np.ndarray, hits: BeamHits) -> np.ndarray:
        if self.nparam == 5:
            return theta[4] * hits.ranges + theta[3]
        return hits.ranges.copy()

    def _linearise(self, theta: np.ndarray, hits: BeamHits, ranges: np.ndarray,
                   measured: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Residuals ``measured - predicted``, their Jacobian (n, nparam) and usable beams."""
        r = hits.ranges
        n = hits.normals[:, :2]
        d = hits.directions[:, :2]
        nd = n[:, 0] * d[:, 0] + n[:, 1] * d[:, 1]
        use = measured & np.isfinite(r) & (r <= self.range_max) & (r >= self.range_min)
        use &= np.abs(nd) >= self.min_incidence
        safe_nd = np.where(use, nd, -1.0)
        r0 = np.where(use, r, 0.0)
        scale = theta[4] if self.nparam == 5 else 1.0
        jac = np.empty((len(r), self.nparam))
        jac[:, 0] = -n[:, 0] / safe_nd
        jac[:, 1] = -n[:, 1] / safe_nd
        dr_dpsi = -r0 * (n[:, 1] * d[:, 0] - n[:, 0] * d[:, 1]) / safe_nd
        c, s = math.cos(theta[2]), math.sin(theta[2])
        ox = c * self.sensor_in_base[0] - s * self.sensor_in_base[1]  # sensor offset, world
        oy = s * self.sensor_in_base[0] + c * self.sensor_in_base[1]
        jac[:, 2] = dr_dpsi - jac[:, 0] * oy + jac[:, 1] * ox
        jac[:, :3] *= scale
        predicted = scale * r0
        if self.nparam == 5:
            jac[:, 3] = 1.0
            jac[:, 4] = r0
            predicted = predicted + theta[3]
        e = np.where(use, ranges - predicted, 0.0)
        return e, jac, use
