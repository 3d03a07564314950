"""Tests for drift.world_change: clusters located in the world frame; the detector's CUSUM."""

import numpy as np
import pytest

from twin_bridge.twin.drift.residuals import compare_beams
from twin_bridge.twin.drift.world_change import ChangeCluster, WorldChangeDetector, find_changes


def ring(n=360, r=5.0):
    return np.linspace(-np.pi, np.pi, n, endpoint=False), np.full(n, r)


def test_a_new_object_is_located_at_the_physical_endpoints():
    headings, virt = ring()
    phys = virt.copy()
    phys[10:20] = 2.0  # something 2 m away across 10 beams
    phys[200] = 1.0  # a lone outlier beam
    c = compare_beams(phys, virt, 0.08, 0.1, 12.0)
    clusters = find_changes(c, headings, np.array([1.0, 2.0]), phys, virt)
    assert len(clusters) == 1
    k = clusters[0]
    mid = headings[10:20].mean()
    np.testing.assert_allclose(k.centre, [1 + 2 * np.cos(mid), 2 + 2 * np.sin(mid)], atol=0.01)
    assert k.beams == 10 and k.new == 10 and k.gone == 0
    assert 0.1 < k.extent < 0.2


def test_something_gone_is_located_at_the_virtual_endpoints_and_nearby_runs_merge():
    headings, phys = ring(r=6.0)
    virt = phys.copy()
    virt[50:56] = 3.0
    virt[57:60] = 3.0  # a gap of one agreeing beam is bridged
    c = compare_beams(phys, virt, 0.08, 0.1, 12.0)
    (k,) = find_changes(c, headings, np.zeros(2), phys, virt)
    assert k.gone == 9 and k.beams == 9
    assert np.hypot(*k.centre) == pytest.approx(3.0, abs=0.01)


def test_detector_needs_repeated_clusters_near_one_place():
    det = WorldChangeDetector(false_alarm_rate=1e-7)
    here = ChangeCluster(centre=np.array([1.0, 1.0]), extent=0.3, beams=8, new=8, gone=0)
    assert not det.update([here])
    for _ in range(3):
        det.update([])
    assert det.cusum.statistic < det.cusum.threshold
    elsewhere = [ChangeCluster(centre=np.array([3.0 * i, 1.0]), extent=0.3, beams=8, new=8,
                               gone=0) for i in range(40)]
    alarms = [det.update([k]) for k in elsewhere]
    assert not any(alarms)  # clusters that jump from place to place are not one change
    det.cusum.reset()
    hits = [det.update([here]) for _ in range(8)]
    assert hits[-1] and not hits[0]
    np.testing.assert_allclose(det.centre, [1.0, 1.0])
