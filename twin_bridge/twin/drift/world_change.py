"""A changed world: clusters of beams that disagree while the rest of the scan agrees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin_bridge.twin.drift.residuals import BeamComparison
from twin_bridge.twin.drift.sequential import BernoulliCusum

__all__ = ['ChangeCluster', 'WorldChangeDetector', 'find_changes']


@dataclass(frozen=True)
class ChangeCluster:
    """Disagreeing beams close together in the world frame.

    ``centre`` (world x, y) and ``extent`` (largest distance of a point from it) are over
    the physical endpoints of ``new`` beams (something the twin lacks) and the virtual
    endpoints of ``gone`` beams (something no longer there). ``new_centre`` and
    ``gone_centre`` are the same over each kind alone (``None`` without such beams): for a
    moved obstacle, where it appeared and where it was.
    """

    centre: np.ndarray
    extent: float
    beams: int
    new: int
    gone: int
    new_centre: np.ndarray | None = None
    gone_centre: np.ndarray | None = None


def find_changes(comparison: BeamComparison, headings: np.ndarray, origin: np.ndarray,
                 physical: np.ndarray, virtual: np.ndarray, *, min_beams: int = 4,
                 max_gap: int = 1, merge_distance: float = 1.0) -> list[ChangeCluster]:
    """Clusters of disagreeing beams, largest first.

    Runs of consecutive disagreeing beams (gaps up to ``max_gap`` beams bridged) are merged
    when their centres lie within ``merge_distance``; clusters under ``min_beams`` beams are
    dropped.

    :param comparison: the beam verdicts at the matched pose
    :param headings: world-frame beam headings (rad)
    :param origin: the sensor's world position (x, y)
    :param physical: measured ranges (REP-117)
    :param virtual: the twin's ranges at the matched pose
    """
    mask = comparison.disagree
    idx = np.flatnonzero(mask)
    if len(idx) < min_beams:
        return []
    r = np.where(comparison.new, physical, virtual)
    r = np.where(np.isfinite(r), r, 0.0)
    pts = np.stack([origin[0] + r * np.cos(headings), origin[1] + r * np.sin(headings)], 1)
    breaks = np.flatnonzero(np.diff(idx) > max_gap + 1)
    runs = np.split(idx, breaks + 1)  # a few runs per scan: a loop over runs, not beams
    groups: list[list[np.ndarray]] = []
    centres: list[np.ndarray] = []
    for run in runs:
        centre = pts[run].mean(axis=0)
        for k, c in enumerate(centres):
            if np.hypot(*(c - centre)) <= merge_distance:
                groups[k].append(run)
                members = np.concatenate(groups[k])
                centres[k] = pts[members].mean(axis=0)
                break
        else:
            groups.append([run])
            centres.append(centre)
    out = []
    for runs_k, centre in zip(groups, centres, strict=True):
        members = np.concatenate(runs_k)
        if len(members) < min_beams:
            continue
        extent = float(np.max(np.hypot(*(pts[members] - centre).T)))
        is_new = comparison.new[members]
        n_new = int(np.count_nonzero(is_new))
        out.append(ChangeCluster(
            centre=centre, extent=extent, beams=len(members), new=n_new,
            gone=len(members) - n_new,
            new_centre=pts[members[is_new]].mean(axis=0) if n_new else None,
            gone_centre=pts[members[~is_new]].mean(axis=0) if n_new < len(members) else None))
    return sorted(out, key=lambda c: -c.beams)


class WorldChangeDetector:
    """A Bernoulli CUSUM on "a cluster of disagreeing beams near the tracked place".

    :param p0: the chance of a spurious cluster per scan in an unchanged world
    :param p1: the chance of seeing a real change per scan
    :param false_alarm_rate: alarms per scan allowed at ``p0``
    :param gate: clusters farther than this from the track start a new track (m)
    :param smoothing: weight of a new cluster in the track's centre
    """

    def __init__(self, *, p0: float = 0.02, p1: float = 0.5, false_alarm_rate: float = 1e-7,
                 gate: float = 1.0, smoothing: float = 0.3) -> None:
        self.cusum = BernoulliCusum(p0, p1, false_alarm_rate)
        self.gate = float(gate)
        self.smoothing = float(smoothing)
        self.centre: np.ndarray | None = None
        self.extent = 0.0
        #: The latest cluster that matched the track (``None`` while there is no track).
        self.last: ChangeCluster | None = None

    @property
    def alarm(self) -> bool:
        """Whether the world has changed (per the CUSUM)."""
        return self.cusum.alarm

    def update(self, clusters: list[ChangeCluster]) -> bool:
        """Feed one scan's clusters; return :attr:`alarm`."""
        if self.cusum.statistic <= 0.0:
            self.centre = self.last = None
        match = None
        for cluster in clusters:
            if self.centre is None or np.hypot(*(cluster.centre - self.centre)) <= self.gate:
                match = cluster
                break
        if match is not None:
            self.last = match
            if self.centre is None:
                self.centre, self.extent = match.centre.copy(), match.extent
            else:
                a = self.smoothing
                self.centre = (1 - a) * self.centre + a * match.centre
                self.extent = (1 - a) * self.extent + a * match.extent
        return self.cusum.update(match is not None)
