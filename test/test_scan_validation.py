"""Tests for scan_validation: a physical scan's geometry is checked before any comparison."""

from dataclasses import replace
import math

import numpy as np
import pytest

from twin_bridge.core.lidar import ScanData
from twin_bridge.twin.scan_validation import check_scan
from twin_bridge.twin.validation import RejectReason


def scan(n: int = 360, **changes) -> ScanData:
    base = ScanData(frame_id='laser', angle_min=-math.pi, angle_max=math.pi - 2 * math.pi / n,
                    angle_increment=2 * math.pi / n, time_increment=0.0, scan_time=0.1,
                    range_min=0.1, range_max=12.0, ranges=np.full(n, 3.0, np.float32))
    return replace(base, **changes)


def test_a_good_scan_passes_unchanged_with_inf_and_nan_ranges():
    good = scan()
    good.ranges[:3] = [np.inf, -np.inf, np.nan]  # REP-117: no return, too close, erroneous
    verdict = check_scan(good)
    assert verdict.reason is None and verdict.sample is good


def test_drivers_that_count_the_end_beam_are_accepted():
    # angle_max = angle_min + n * increment (one more than ROS's convention)
    assert check_scan(scan(angle_max=math.pi)).reason is None
    clockwise = scan(angle_min=math.pi, angle_max=-math.pi + 2 * math.pi / 360,
                     angle_increment=-2 * math.pi / 360)
    assert check_scan(clockwise).reason is None


@pytest.mark.parametrize('changes, reason, words', [
    ({'ranges': np.zeros(0, np.float32)}, RejectReason.EMPTY, 'no ranges'),
    ({'ranges': np.ones(100, np.float32)}, RejectReason.LENGTH_MISMATCH, '100 ranges'),
    ({'angle_min': float('nan')}, RejectReason.NON_FINITE, 'angle_min'),
    ({'angle_increment': float('inf')}, RejectReason.NON_FINITE, 'angle_increment'),
    ({'range_max': float('nan')}, RejectReason.NON_FINITE, 'range_max'),
    ({'angle_increment': 0.0}, RejectReason.BAD_ANGLES, 'does not step'),
    ({'angle_increment': -0.01}, RejectReason.BAD_ANGLES, 'does not step'),
    ({'angle_min': -10.0, 'angle_max': 10.0, 'angle_increment': 20 / 359},
     RejectReason.BAD_ANGLES, 'full turn'),
    ({'range_min': 5.0, 'range_max': 1.0}, RejectReason.BAD_ANGLES, 'range limits'),
    ({'intensities': np.ones(3, np.float32)}, RejectReason.LENGTH_MISMATCH, 'intensities'),
])
def test_bad_scans_are_rejected_with_a_reason(changes, reason, words):
    verdict = check_scan(scan(**changes))
    assert verdict.reason is reason and words in verdict.detail, verdict.detail


def test_too_many_beams_are_out_of_range():
    verdict = check_scan(scan(1000), max_beams=999)
    assert verdict.reason is RejectReason.OUT_OF_RANGE and '1000 beams' in verdict.detail


def test_a_list_of_ranges_becomes_an_array():
    verdict = check_scan(scan(4, ranges=[1.0, 2.0, 3.0, 4.0]))
    assert isinstance(verdict.sample.ranges, np.ndarray)
    np.testing.assert_array_equal(verdict.sample.ranges, [1, 2, 3, 4])
