"""Tests for the absolute-deadline pacing of periodic streams."""

import numpy as np
import pytest

from twin_bridge.stand_in.pacing import PeriodicSchedule


def test_schedule_keeps_rates_without_drift_or_bursts():
    schedule = PeriodicSchedule(start=0.0)
    schedule.add('fast', 1000.0)
    schedule.add('slow', 10.0)
    served = {'fast': [], 'slow': []}
    now = 0.0
    while now < 1.0:
        name, due = schedule.next_due()
        now = max(now, due) + 1e-5  # serving takes 10 us
        served[name].append(due)
        schedule.done(name, now)
    assert len(served['fast']) == pytest.approx(1000, abs=2)
    assert len(served['slow']) == pytest.approx(10, abs=1)
    assert np.allclose(np.diff(served['slow']), 0.1)
    # A stall of 50 ms skips the missed ticks instead of bursting them out afterwards.
    name, due = schedule.next_due()
    schedule.done('fast', due + 0.05)
    assert schedule.skipped('fast') >= 49
    assert schedule.next_due()[1] > due + 0.05
    assert 'fast' in schedule and 'other' not in schedule
    with pytest.raises(ValueError, match='rate'):
        schedule.add('bad', 0.0)
