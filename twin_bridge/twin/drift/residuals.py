"""Beam-by-beam comparison of a physical scan with the twin's cast of the same beams."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ['BeamComparison', 'compare_beams', 'robust_scale']


def _lower_median(values: np.ndarray) -> float:
    """The lower median (no NaN check, no interpolation): one partition."""
    k = (values.size - 1) // 2
    return float(np.partition(values, k)[k])


def robust_scale(values: np.ndarray, *, centred: bool = False) -> float:
    """Normal-consistent median absolute deviation (``1.4826 * MAD``); 0 for no values.

    Medians are lower medians (one partition each, no interpolation: the hot path).

    :param centred: the values are known to be centred on 0 (skip the first median)
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return 0.0
    centre = 0.0 if centred else _lower_median(values)
    return 1.4826 * _lower_median(np.abs(values - centre))


@dataclass(frozen=True)
class BeamComparison:
    """Per-beam verdicts (boolean masks, one entry per beam) and residuals.

    ``residuals`` is ``physical - virtual`` where both beams hit (else NaN). ``new``: the
    physical beam stops clearly short of the twin's (something is there that the twin lacks);
    ``gone``: it goes clearly farther (something the twin has is not there). ``agree``: both
    hit within the tolerance, or both report nothing (REP-117 ``+inf``); ``unknown``: a NaN, or
    a difference the range limits make undecidable.
    """

    residuals: np.ndarray
    both_hit: np.ndarray
    agree: np.ndarray
    new: np.ndarray
    gone: np.ndarray
    unknown: np.ndarray

    @property
    def disagree(self) -> np.ndarray:
        """Beams that are ``new`` or ``gone``."""
        return self.new | self.gone

    @property
    def disagree_fraction(self) -> float:
        """Share of decidable beams that disagree."""
        decided = int(np.count_nonzero(~self.unknown))
        return float(np.count_nonzero(self.disagree)) / decided if decided else 0.0


def compare_beams(physical: np.ndarray, virtual: np.ndarray, tolerance: float | np.ndarray,
                  range_min: float, range_max: float) -> BeamComparison:
    """Compare REP-117 ranges (``+inf`` no return, ``-inf`` too close, NaN invalid).

    :param physical: the measured ranges
    :param virtual: the twin's ranges for the same beams (raw or REP-117)
    :param tolerance: largest agreeing difference (m), scalar or per beam
    :param range_min: the lidar's minimum range
    :param range_max: the lidar's maximum range
    :raise ValueError: arrays of different shapes
    """
    phys = np.asarray(physical, dtype=float)
    virt = np.asarray(virtual, dtype=float)
    if phys.shape != virt.shape or phys.ndim != 1:
        raise ValueError(f'physical and virtual ranges: expected equal 1-D shapes, got '
                         f'{phys.shape} and {virt.shape}')
    tol = np.broadcast_to(np.asarray(tolerance, dtype=float), phys.shape)
    virt = np.where(virt > range_max, np.inf, np.where(virt < range_min, -np.inf, virt))
    p_hit, v_hit = np.isfinite(phys), np.isfinite(virt)
    both = p_hit & v_hit
    with np.errstate(invalid='ignore'):
        res = np.where(both, phys - virt, np.nan)
        near_max = v_hit & (virt > range_max - tol)  # noise may push it past range_max
        near_min = v_hit & (virt < range_min + tol)
        closer = both & (res < -tol)
        farther = both & (res > tol)
        new = closer | (p_hit & (virt == np.inf)) | ((phys == -np.inf) & v_hit & ~near_min)
        gone = farther | ((phys == np.inf) & v_hit & ~near_max)
        agree = (both & (np.abs(res) <= tol)) | ((phys == virt) & ~both)
    nan = np.isnan(phys) | np.isnan(virt)
    new &= ~nan
    gone &= ~nan
    unknown = ~(agree | new | gone)
    return BeamComparison(residuals=res, both_hit=both, agree=agree, new=new, gone=gone,
                          unknown=unknown)
