"""Scoring predicted paths against the odometry that arrived: interpolation, gaps, quantiles."""

import math

import numpy as np
import pytest

from twin_bridge.demo.prediction_error import actual_at, prediction_errors, prediction_score


def _trajectory(stamps, speed=0.5):
    """(receive, stamp, x, y): straight along x at ``speed``."""
    stamps = np.asarray(stamps, dtype=float)
    return np.column_stack([stamps + 0.002, stamps, speed * (stamps - 100.0),
                            np.zeros_like(stamps)])


def _reference_error(prediction, trajectory):
    """Plain-Python reference: linear interpolation between the bracketing samples."""
    _, target, x, y = prediction
    rows = sorted(trajectory.tolist(), key=lambda r: r[1])
    for (_, t0, x0, y0), (_, t1, x1, y1) in zip(rows[:-1], rows[1:], strict=True):
        if t0 <= target <= t1 and t1 - t0 <= 0.1:
            w = (target - t0) / (t1 - t0) if t1 > t0 else 0.0
            return math.hypot(x - (x0 + w * (x1 - x0)), y - (y0 + w * (y1 - y0)))
    return None


def test_actual_position_is_interpolated_and_nan_outside_or_in_gaps():
    stamps = np.r_[np.arange(100.0, 102.0, 0.02), np.arange(103.0, 104.0, 0.02)]
    traj = _trajectory(stamps)[::-1]  # order does not matter
    got = actual_at([100.0, 100.51, 101.0, 102.5, 99.0, 104.5], traj)
    assert got[:3, 0] == pytest.approx([0.0, 0.255, 0.5])
    assert np.isnan(got[3:]).all()  # in the 1 s gap, before, after
    assert np.isnan(actual_at([100.0], traj[:1])).all()  # one sample: nothing to span


def test_errors_match_a_plain_python_reference():
    rng = np.random.default_rng(3)
    traj = _trajectory(np.sort(rng.uniform(100.0, 110.0, 600)))
    path_stamps = rng.uniform(99.0, 111.0, 200)
    predictions = np.column_stack([path_stamps, path_stamps + 1.0,
                                   rng.normal(0.5 * (path_stamps - 99.0), 0.02),
                                   rng.normal(0.0, 0.02, 200)])
    rows = prediction_errors(predictions, traj)
    expected = [(p[1], e) for p in predictions
                if (e := _reference_error(p, traj)) is not None]
    assert len(rows) == len(expected) > 100
    assert rows[:, 0] == pytest.approx([t for t, _ in expected])
    assert rows[:, 1] == pytest.approx(1.0)
    assert rows[:, 2] == pytest.approx([e for _, e in expected])


def test_score_quantiles_and_the_empty_case():
    traj = _trajectory(np.arange(100.0, 105.0, 0.02))
    stamps = np.arange(100.0, 104.0, 0.1)
    misses = np.linspace(0.0, 0.1, len(stamps))  # 0..10 cm off in y
    predictions = np.column_stack([stamps, stamps + 1.0, 0.5 * (stamps + 1.0 - 100.0), misses])
    score = prediction_score(predictions, traj)
    assert score['count'] == len(stamps) and score['lead_s'] == pytest.approx(1.0)
    assert score['p50_m'] == pytest.approx(np.percentile(misses, 50))
    assert score['p95_m'] == pytest.approx(np.percentile(misses, 95))
    assert score['max_m'] == pytest.approx(0.1)
    empty = prediction_score(np.zeros((0, 4)), traj)
    assert empty['count'] == 0 and math.isnan(empty['p50_m'])
