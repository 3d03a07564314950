"""The twin's predictions, made and scored: the kinematic path often, the physics ensemble
now and then, each scored against the odometry that arrives later."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math
import threading

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.state import OdometrySample
from twin_bridge.description.wheel_geometry import WheelGeometry
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.embedded.rollout_ensemble import EnsemblePrediction, RolloutEnsemble
from twin_bridge.twin.prediction import KinematicPredictor, PredictedPath
from twin_bridge.twin.prediction_score import PredictionScorer

__all__ = ['PredictionMonitor', 'PredictionStatus']

#: Scored predictions needed before a poor model is reported.
MIN_SCORED = 20


@dataclass(frozen=True)
class PredictionStatus:
    """The ``twin prediction`` diagnostic: level (0 OK, 1 WARN: the model keeps missing),
    message and numeric values (errors in m, times in s)."""

    level: int
    message: str
    values: dict[str, float]


class PredictionMonitor:
    """Kinematic and physics predictions of the twin's base, and their scores.

    Odometry reaches it through :meth:`add_odometry` (a deque append, from the input thread);
    :meth:`kinematic` and :meth:`ensemble` run on the caller's thread (the node's prediction
    thread) and score what has come in since.

    :param backend: the mirrored twin (its latest state is predicted from)
    :param geometry: the robot's differential drive (``None``: constant twist, no ensemble)
    :param judge: the embedded model the ensemble rolls out (``None``: no ensemble)
    :param horizon: seconds predicted
    :param members: ensemble size
    :param error_tolerance: a 1 s-ahead error p50 above this (m) is a WARN: the model keeps
        missing (a drift of its own)
    :param seed: seed of the ensemble's perturbations
    """

    def __init__(self, backend: SimulatorBackend, geometry: WheelGeometry | None, *,
                 judge: EmbeddedBackend | None = None, horizon: float = 1.0,
                 members: int = 32, error_tolerance: float = 0.1,
                 seed: int | None = 0) -> None:
        self.backend = backend
        self.predictor = KinematicPredictor(geometry, horizon=horizon)
        lead = min(1.0, horizon)
        self.scorer = PredictionScorer(lead)
        self.ensemble_scorer = PredictionScorer(lead)
        self.error_tolerance = float(error_tolerance)
        self._judge, self._geometry = judge, geometry
        self._members, self._horizon, self._seed = int(members), float(horizon), seed
        self._ensemble: RolloutEnsemble | None = None
        self._inbox: deque[OdometrySample] = deque(maxlen=4096)
        self._lock = threading.Lock()
        self.last_ensemble: EnsemblePrediction | None = None

    @property
    def has_ensemble(self) -> bool:
        """True when physics ensembles can be made (a diff drive and an embedded model)."""
        return self._judge is not None and self._geometry is not None

    def add_odometry(self, sample: OdometrySample) -> None:
        """Reality, for the scores (any thread; stamps must increase)."""
        self._inbox.append(sample)

    def _drain(self) -> None:
        while self._inbox:
            sample = self._inbox.popleft()
            self.scorer.add_odometry(sample)
            self.ensemble_scorer.add_odometry(sample)

    def kinematic(self, stamp_ns: int | None, horizon: float | None = None
                  ) -> PredictedPath | None:
        """The kinematic path from the mirrored state (``stamp_ns``: the stamp of the input
        it reflects), queued for scoring; ``None`` before any odometry."""
        odometry = self.backend.odometry()
        if odometry is None:
            return None
        if stamp_ns is not None:
            odometry = _restamped(odometry, stamp_ns)
        path = self.predictor.predict(odometry, self.backend.joint_state(), horizon=horizon)
        with self._lock:
            self._drain()
            if stamp_ns is not None:
                self.scorer.add_prediction(path)
        return path

    def ensemble(self, stamp_ns: int | None) -> EnsemblePrediction | None:
        """A physics ensemble from the mirrored state, queued for scoring; ``None`` without
        an ensemble model or before any odometry."""
        if not self.has_ensemble:
            return None
        odometry = self.backend.odometry()
        if odometry is None:
            return None
        if self._ensemble is None:
            self._ensemble = RolloutEnsemble(self._judge, self._geometry,
                                             members=self._members, horizon=self._horizon,
                                             seed=self._seed)
        if stamp_ns is not None:
            odometry = _restamped(odometry, stamp_ns)
        prediction = self._ensemble.predict(odometry, self.backend.joint_state())
        with self._lock:
            self._drain()
            if stamp_ns is not None:
                self.ensemble_scorer.add_prediction(prediction)
            self.last_ensemble = prediction
        return prediction

    def status(self) -> PredictionStatus:
        """Scores of both models, and the latest ensemble's time to collision."""
        with self._lock:
            self._drain()
            kin, ens = self.scorer.stats, self.ensemble_scorer.stats
            last = self.last_ensemble
        values = {'error_1s_p50_m': kin.p50, 'error_1s_p95_m': kin.p95,
                  'scored': float(kin.count)}
        if self.has_ensemble:
            values.update(ensemble_error_1s_p50_m=ens.p50, ensemble_error_1s_p95_m=ens.p95,
                          ensemble_coverage_90=ens.coverage,
                          ensemble_scored=float(ens.count))
        if last is not None:
            values.update(time_to_collision_s=last.time_to_collision,
                          collision_probability=last.collision_probability)
        level, message = 0, 'ok' if kin.count else 'not scored yet'
        if kin.count >= MIN_SCORED and kin.p50 > self.error_tolerance:
            level = 1
            message = (f'the model keeps missing: 1 s-ahead error p50 {kin.p50:.3f} m > '
                       f'{self.error_tolerance:g} m')
        elif last is not None and math.isfinite(last.time_to_collision):
            message = (f'contact predicted in {last.time_to_collision:.2f} s '
                       f'(p={last.collision_probability:.2f})')
        return PredictionStatus(level, message, values)

    def close(self) -> None:
        """Release the ensemble's thread pool."""
        if self._ensemble is not None:
            self._ensemble.close()
            self._ensemble = None


def _restamped(odometry: OdometrySample, stamp_ns: int) -> OdometrySample:
    return OdometrySample(odometry.position, odometry.orientation, odometry.linear_velocity,
                          odometry.angular_velocity, stamp_ns, odometry.frame_id,
                          odometry.child_frame_id)
