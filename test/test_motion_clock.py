"""Fitting the stand-in robot's start to its first figure-eight odometry."""

import numpy as np
import pytest

from twin_bridge.demo.drift_record import physical_start
from twin_bridge.demo.motion_clock import figure_eight_start
from twin_bridge.stand_in.motion_profiles import FigureEight

START = 1_700_000_000.0
LOG = f'[INFO] [{START + 0.33:.9f}] [physical_sim]: publishing (...) motion=figure_eight\n'


def _odometry(start, first_t=0.33, n=25, speed=0.5, noise=0.0, seed=0):
    """physical_sim's first odometry: the figure-eight from ``first_t`` s on, at 50 Hz."""
    t = first_t + np.arange(n) * 0.02
    motion = FigureEight(speed)(t)
    rng = np.random.default_rng(seed)
    x, y = (motion.x + rng.normal(0, noise, n), motion.y + rng.normal(0, noise, n))
    return np.column_stack([start + t + 0.002, start + t, x, y])


@pytest.mark.parametrize('noise', [0.0, 0.002])
def test_the_start_is_found_from_a_rough_guess(noise):
    points = _odometry(START, noise=noise)
    found = figure_eight_start(points, 0.5, near=START + 0.33)
    assert found == pytest.approx(START, abs=0.005 if noise else 1e-3)


def test_no_fit_when_the_samples_are_not_the_figure_eight():
    points = _odometry(START)
    assert figure_eight_start(points + [0, 0, 0.05, 0], 0.5, near=START + 0.3) is None
    assert figure_eight_start(points, 0.5, near=START + 10.0) is None  # outside the window
    assert figure_eight_start(points[:2], 0.5, near=START) is None
    assert figure_eight_start(points, 0.0, near=START) is None


def test_physical_start_prefers_the_fit_then_the_log_line():
    start, source = physical_start(LOG, _odometry(START), 0.5)
    assert start == pytest.approx(START, abs=1e-3) and 'figure-eight' in source
    start, source = physical_start(LOG, _odometry(START), None)  # another motion
    assert start == pytest.approx(START + 0.33) and 'log line' in source
    assert physical_start('', np.zeros((0, 4)), 0.5) == (None, 'unknown')
