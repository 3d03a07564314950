"""Tests for prediction_score: 1 s-ahead errors against arriving odometry, coverage."""

from dataclasses import dataclass
import math

import numpy as np
import pytest

from twin_bridge.core.state import OdometrySample
from twin_bridge.errors import TwinBridgeError
from twin_bridge.twin.prediction import KinematicPredictor
from twin_bridge.twin.prediction_score import PredictionScorer

S = 1_000_000_000


def _odom(t: float, x: float, y: float = 0.0, v: float = 0.0) -> OdometrySample:
    return OdometrySample(np.array([x, y, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                          np.array([v, 0.0, 0.0]), np.zeros(3), stamp_ns=int(round(t * S)))


@dataclass
class _Ensemble:
    stamp_ns: int
    times: np.ndarray
    x: np.ndarray
    y: np.ndarray
    yaw: np.ndarray
    member_x: np.ndarray
    member_y: np.ndarray


def test_error_of_the_one_second_pose():
    scorer = PredictionScorer()
    predictor = KinematicPredictor()
    # Predicted 0.5 m/s; reality drives 0.52 m/s: 2 cm off after 1 s.
    assert scorer.add_prediction(predictor.predict(_odom(0.0, 0.0, v=0.5)))
    for k in range(1, 12):
        t = 0.1 * k
        scorer.add_odometry(_odom(t, 0.52 * t))
    stats = scorer.stats
    assert stats.count == 1 and stats.pending == 0
    assert stats.p50 == pytest.approx(0.02) and stats.yaw_p50 == 0.0
    assert math.isnan(stats.coverage)


def test_waits_for_reality_and_interpolates():
    scorer = PredictionScorer()
    scorer.add_prediction(KinematicPredictor().predict(_odom(0.0, 0.0, v=1.0)))
    scorer.add_odometry(_odom(0.0, 0.0))
    assert scorer.add_odometry(_odom(0.9, 0.9)) == 0 and scorer.stats.pending == 1
    assert scorer.add_odometry(_odom(1.3, 1.3)) == 1  # reality at 1.0 s interpolated: 1.0
    assert scorer.stats.p50 == pytest.approx(0.0, abs=1e-12)


def test_percentiles_over_a_window():
    scorer = PredictionScorer(window=10)
    predictor = KinematicPredictor()
    for i in range(30):
        t0 = 2.0 * i
        scorer.add_prediction(predictor.predict(_odom(t0, 0.0)))
        scorer.add_odometry(_odom(t0, 0.0))
        scorer.add_odometry(_odom(t0 + 1.0, 0.01 * (i % 10)))  # errors 0 .. 9 cm
    stats = scorer.stats
    assert stats.count == 10
    assert stats.p50 == pytest.approx(np.percentile(np.arange(10) * 0.01, 50))
    assert stats.p95 == pytest.approx(np.percentile(np.arange(10) * 0.01, 95))


def test_bounded_pending_and_unscorable():
    scorer = PredictionScorer(max_pending=3)
    predictor = KinematicPredictor()
    for i in range(5):
        scorer.add_prediction(predictor.predict(_odom(0.01 * i, 0.0)))
    assert scorer.stats.pending == 3 and scorer.stats.dropped == 2
    # Odometry only long after: the predictions' time is before the history starts.
    scorer.add_odometry(_odom(5.0, 0.0))
    assert scorer.stats.unscorable == 3 and scorer.stats.count == 0
    short = KinematicPredictor(horizon=0.5).predict(_odom(0.0, 0.0))
    assert not scorer.add_prediction(short)


def test_coverage_of_a_gaussian_ensemble_is_the_interval():
    rng = np.random.default_rng(1)
    scorer = PredictionScorer(window=4000, max_pending=10, position_floor=0.0)
    times = np.array([0.0, 1.0])
    sigma = np.array([0.03, 0.01])
    for i in range(2000):
        t0 = 3.0 * i
        members = rng.normal(0.0, 1.0, (64, 2)) * sigma
        member_x = np.column_stack([np.zeros(64), members[:, 0]])
        member_y = np.column_stack([np.zeros(64), members[:, 1]])
        scorer.add_prediction(_Ensemble(int(t0 * S), times, member_x.mean(0),
                                        member_y.mean(0), np.zeros(2), member_x, member_y))
        real = rng.normal(0.0, 1.0, 2) * sigma
        scorer.add_odometry(_odom(t0, 0.0))
        scorer.add_odometry(_odom(t0 + 1.0, real[0], real[1]))
    stats = scorer.stats
    assert stats.coverage_count == 2000
    # 64 members estimate the covariance: a little under 90 %.
    assert 0.85 < stats.coverage < 0.92


def test_bad_parameters():
    for kwargs in ({'lead': 0.0}, {'interval': 1.0}, {'window': 0}, {'position_floor': -1}):
        with pytest.raises(TwinBridgeError):
            PredictionScorer(**kwargs)
