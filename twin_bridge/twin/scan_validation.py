"""Validation of physical lidar scans before the twin compares them with its own."""

from __future__ import annotations

import math

import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.twin.validation import RejectReason, Verdict

__all__ = ['MAX_SCAN_BEAMS', 'check_scan']

#: Most beams a physical scan may have (a 0.01 degree 360-degree scanner has 36,000).
MAX_SCAN_BEAMS = 100_000


def check_scan(scan: ScanData, max_beams: int = MAX_SCAN_BEAMS) -> Verdict[ScanData]:
    """Check a physical scan's geometry; the ranges themselves follow REP-117 and may hold
    ``±inf`` (no return / too close) and NaN (an erroneous beam), which the comparison skips.

    Rejects: no beams (``empty``); more than ``max_beams`` (``out_of_range``); NaN/Inf in the
    angles, the increment or the range limits (``non_finite``); a zero increment, one whose
    sign disagrees with ``angle_max - angle_min``, a span over a full turn or range limits
    out of order (``bad_angles``); a beam count that does not fit the angles
    (``length_mismatch``: ``angle_max = angle_min + (n - 1) * angle_increment``, one beam of
    slack for drivers that count the end beam differently); intensities of another length.
    """
    n = len(scan.ranges)
    if n == 0:
        return Verdict.reject(RejectReason.EMPTY, 'scan has no ranges')
    if n > max_beams:
        return Verdict.reject(RejectReason.OUT_OF_RANGE,
                              f'scan has {n} beams, more than {max_beams}')
    values = {'angle_min': scan.angle_min, 'angle_max': scan.angle_max,
              'angle_increment': scan.angle_increment, 'range_min': scan.range_min,
              'range_max': scan.range_max}
    bad = [name for name, value in values.items() if not math.isfinite(value)]
    if bad:
        return Verdict.reject(RejectReason.NON_FINITE, f'{", ".join(bad)} not finite')
    span = scan.angle_max - scan.angle_min
    increment = scan.angle_increment
    if increment == 0.0 or (span != 0.0 and (span > 0) != (increment > 0)):
        return Verdict.reject(RejectReason.BAD_ANGLES,
                              f'angle_increment {increment:g} does not step from angle_min '
                              f'{scan.angle_min:g} to angle_max {scan.angle_max:g}')
    if abs(span) > 2 * math.pi + abs(increment):
        return Verdict.reject(RejectReason.BAD_ANGLES,
                              f'angles span {span:g} rad, more than a full turn')
    if not 0.0 <= scan.range_min < scan.range_max:
        return Verdict.reject(RejectReason.BAD_ANGLES,
                              f'range limits [{scan.range_min:g}, {scan.range_max:g}] are not '
                              '0 <= range_min < range_max')
    expected = span / increment + 1.0
    if abs(expected - n) > 1.0 + 1e-6 * n:
        return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                              f'{n} ranges, but the angles describe {expected:.1f} beams')
    if len(scan.intensities) not in (0, n):
        return Verdict.reject(RejectReason.LENGTH_MISMATCH,
                              f'{len(scan.intensities)} intensities for {n} ranges')
    if not isinstance(scan.ranges, np.ndarray):
        return Verdict(ScanData(**{**scan.__dict__, 'ranges': np.asarray(scan.ranges,
                                                                         dtype=np.float32)}))
    return Verdict(scan)
