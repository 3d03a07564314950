"""The exact part of the footprint sweep: conservative advancement over flagged pairs.

Used by :class:`twin_bridge.embedded.footprint_sweep.FootprintSweep` (see its module doc for
the method); a channel is one robot-world geom pair or one obstacle point.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mujoco
import numpy as np

if TYPE_CHECKING:
    from twin_bridge.embedded.footprint_sweep import FootprintSweep, SweepResult

__all__ = ['ContactSearch', 'world_boxes']

# Distances beyond this are reported as this by mj_geomDistance (a lower bound is enough).
_DISTMAX_EXTRA = 1.0
# A step past an interval boundary (s): lands in the next interval despite rounding.
_EPS = 1e-12
# A distance within this many seconds of travel of the threshold is a contact (on top of
# the resolution): bounds the steps while a geom closes in much slower than its speed bound.
_TIME_TOLERANCE = 0.002
# A speed-bound step shorter than this share of the grid step is worth the second-order
# bound's cost (a point the footprint slides past; see ContactSearch._point_steps).
_SHORT_STEP = 0.5


def world_boxes(model: mujoco.MjModel, data: mujoco.MjData, ids: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """World-frame axis-aligned bounding boxes ``(lo, hi)`` ``(n, 3)`` of geoms ``ids``."""
    xmat = data.geom_xmat[ids].reshape(-1, 3, 3)
    aabb = model.geom_aabb[ids]
    centre = data.geom_xpos[ids] + np.einsum('kij,kj->ki', xmat, aabb[:, :3])
    half = np.einsum('kij,kj->ki', np.abs(xmat), aabb[:, 3:])
    return centre - half, centre + half


class ContactSearch:
    """One search along one arc.

    :param sweep: the sweep (its robot state, scratch data and point distances)
    :param linear: body linear velocity (m/s)
    :param angular: yaw rate (rad/s)
    :param times: the prefilter grid (s, from 0, step ``sweep.time_step``)
    :param flagged: ``(steps, channels)`` where the prefilter cannot rule out a contact
    :param lb: ``(steps, channels)`` the prefilter's lower-bound distances
    :param speed: ``(channels,)`` the fastest a channel's distance can shrink (m/s)
    :param margin: distance that counts as contact (m)
    :param pairs_g: per world channel, the robot geom (index into the robot geoms)
    :param pairs_w: per world channel, the world geom id
    :param pts: the obstacle points ``(p, 2)`` (the channels after the world ones)
    """

    def __init__(self, sweep: FootprintSweep, linear: float, angular: float,
                 times: np.ndarray, flagged: np.ndarray, lb: np.ndarray, speed: np.ndarray,
                 margin: float, pairs_g: np.ndarray, pairs_w: np.ndarray,
                 pts: np.ndarray) -> None:
        self.sweep, self.linear, self.angular = sweep, linear, angular
        self.times, self.flagged, self.lb, self.speed = times, flagged, lb, speed
        self.threshold = np.full(flagged.shape[1], margin)
        self.pairs_g, self.pairs_w, self.pts = pairs_g, pairs_w, pts
        self.nw = len(pairs_g)
        self.checks = 0
        self.clearance = math.inf
        self.distmax = margin + _DISTMAX_EXTRA
        self._points_now: tuple[np.ndarray, tuple[float, float, float]] | None = None

    def _distances(self, active: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Exact distances of the ``active`` channels at ``t`` and, per channel, the robot geom
        (index into the robot geoms)."""
        sw = self.sweep
        nworld = int(np.searchsorted(active, self.nw))   # world channels come first
        world = active[:nworld]
        geom_w = self.pairs_g[world]
        pose = sw.pose_geoms(self.linear, self.angular, t,
                             np.unique(geom_w) if nworld > 1 else geom_w)
        out = np.empty(len(active))
        geom = np.empty(len(active), dtype=np.intp)
        if nworld:
            m, d, dmax, distance = sw.model, sw.data, self.distmax, mujoco.mj_geomDistance
            for row, (g, w) in enumerate(zip(sw.robot_ids[geom_w].tolist(),
                                             self.pairs_w[world].tolist(), strict=True)):
                out[row] = distance(m, d, g, w, dmax, None)
            geom[:nworld] = geom_w
        if nworld < len(active):
            pts = self.pts[active[nworld:] - self.nw]
            out[nworld:], geom[nworld:] = sw.point_distances(pts, pose)
            self._points_now = (pts, pose)
        self.checks += len(active)
        return out, geom

    def run(self, horizon: float) -> SweepResult:
        """Search from ``t = 0`` to ``horizon``."""
        sw, flagged = self.sweep, self.flagged
        dt, last, res = sw.time_step, len(self.times) - 1, sw.resolution
        if flagged.shape[1] == 0 or not flagged.any():
            return self._result(math.inf, horizon, None, None)
        any_row = flagged.any(axis=1)
        t = 0.0
        while t <= horizon:
            k = min(int(math.floor(t / dt + 0.5)), last)
            if not any_row[k]:
                later = np.flatnonzero(any_row[k + 1:])
                if len(later) == 0:
                    break
                t = max(t, (k + 1 + int(later[0]) - 0.5) * dt + _EPS)
                continue
            mask = flagged[k]
            active = np.flatnonzero(mask)   # world channels first (they come first)
            dist, geom = self._distances(active, t)
            if t == 0.0:  # already close: only coming closer by `resolution` counts
                tolerance = res + self.speed[active] * _TIME_TOLERANCE
                self.threshold[active] = np.minimum(self.threshold[active],
                                                    dist - 2.0 * tolerance)
            self.clearance = min(self.clearance, float(dist.min()))
            excess = dist - self.threshold[active]
            hit = int(np.argmin(excess))
            if excess[hit] <= res + self.speed[active[hit]] * _TIME_TOLERANCE and t > 0.0:
                return self._result(t, horizon, int(active[hit]), int(geom[hit]))
            step = excess / self.speed[active]
            first = int(np.searchsorted(active, self.nw))
            if first < len(active) and float(np.min(step[first:])) < _SHORT_STEP * dt:
                self._point_steps(active, step)
            t_next = t + float(np.min(step))
            k_next = min(int(math.floor(t_next / dt + 0.5)), last)
            if k_next > k:
                fresh = np.flatnonzero((flagged[k + 1:k_next + 1] & ~mask).any(axis=1))
                if len(fresh):
                    t_next = min(t_next, (k + 1 + int(fresh[0]) - 0.5) * dt + _EPS)
            t = max(t_next, t + _EPS)
        return self._result(math.inf, horizon, None, None)

    def _point_steps(self, active: np.ndarray, step: np.ndarray) -> None:
        """Lengthen the point channels' ``step`` (s, in place) where a second-order bound
        allows: the signed distance ``d`` to each convex footprint is convex in the plane; in the
        base frame a world point moves on a circle about the turning centre (velocity ``u``,
        acceleration ``|w| |u|``), so ``d(t + s) >= d + (gradient . u) s - |w| |u| s^2 / 2``.
        The step goes to where that bound (per geom, the least) comes within the contact
        tolerance of the threshold; it is never shorter than the speed bound's. Only tried
        while the speed bound's steps are short (it costs a second evaluation)."""
        assert self._points_now is not None
        pts, pose = self._points_now
        _, _, d_g, grad, outside, local = self.sweep.point_geometry(pts, pose)
        first = int(np.searchsorted(active, self.nw))
        channels = active[first:]
        u = np.column_stack([self.angular * local[:, 1] - self.linear,
                             -self.angular * local[:, 0]])                 # (m, 2)
        slope = np.einsum('mgk,mk->mg', grad, u)
        accel = abs(self.angular) * np.sqrt(np.einsum('mk,mk->m', u, u))[:, None]
        room = d_g - (self.threshold[channels] + self.sweep.resolution
                      + self.speed[channels] * _TIME_TOLERANCE)[:, None]
        room = np.maximum(room, 0.0)
        with np.errstate(divide='ignore', invalid='ignore'):
            curved = (slope + np.sqrt(slope * slope + 2.0 * accel * room)) / accel
            straight = np.where(slope < 0.0, room / -slope, math.inf)
        reach = np.where(accel > 0.0, curved, straight)
        reach = np.where(outside & (np.isfinite(reach) | (accel == 0.0)), reach, 0.0)
        step[first:] = np.maximum(step[first:], np.min(reach, axis=1))

    def _result(self, t: float, horizon: float, channel: int | None, geom: int | None
                ) -> SweepResult:
        from twin_bridge.embedded.footprint_sweep import SCAN_OBSTACLE, SweepResult

        sw = self.sweep
        if self.lb.size:
            end = len(self.times) if not math.isfinite(t) else int(
                math.floor(t / sw.time_step + 0.5)) + 1
            unflagged = np.where(self.flagged[:end], np.inf, self.lb[:end])
            self.clearance = min(self.clearance, float(np.min(unflagged, initial=np.inf)))
        if channel is None or geom is None:
            return SweepResult(t, self.clearance, horizon, checks=self.checks)
        robot = sw.geom_name(int(sw.robot_ids[geom]))
        if channel < self.nw:
            return SweepResult(t, self.clearance, horizon,
                               sw.geom_name(int(self.pairs_w[channel])), robot,
                               checks=self.checks)
        return SweepResult(t, self.clearance, horizon, SCAN_OBSTACLE, robot,
                           self.pts[channel - self.nw].copy(), checks=self.checks)
