"""What the demo keeps of the twin's drift check and prediction for its table and report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin_bridge.demo.drift_view import (
    CAUSES,
    DRIFT_PREFIX,
    CauseTimeline,
    FaultOnset,
    drift_summary,
    drift_timelines,
    fault_onsets,
    physical_start_from_log,
)
from twin_bridge.demo.motion_clock import figure_eight_start
from twin_bridge.demo.prediction_error import prediction_errors, prediction_score
from twin_bridge.stand_in.faults import Fault

__all__ = ['FAULT_DIAGNOSTICS_PERIOD_S', 'DriftRecord', 'analysis_topics', 'collect_drift']

#: The bridge's /diagnostics period (s) in a demo with faults, so a detection is seen within
#: a quarter second (the node's default is 1 s; --bridge-param diagnostics_period overrides).
FAULT_DIAGNOSTICS_PERIOD_S = 0.25
#: How far ahead (s) predicted paths are scored.
PREDICTION_LEAD_S = 1.0


def analysis_topics(bridge_params: Mapping[str, Any]) -> dict[str, Any]:
    """Observer keyword arguments for the bridge's residual and predicted-path topics
    (as renamed by ``bridge_params``, if they are)."""
    return {'residual_topic': bridge_params.get('output_scan_residual_topic',
                                                'virtual/scan_residual'),
            'predicted_path_topic': bridge_params.get('output_predicted_path_topic',
                                                      'virtual/predicted_path'),
            'prediction_lead_s': PREDICTION_LEAD_S}


@dataclass
class DriftRecord:
    """The drift check and prediction of a run, times in s after the measurement start.

    ``residuals``: ``(stamp s, angle_min, angle_increment, ranges)`` rows (decimated, last
    the latest); ``predictions``: ``(N, 4)`` path stamp, predicted stamp, x, y (wall s);
    ``errors``: ``(K, 3)`` predicted stamp, lead, error (m); ``paths``: a few whole
    predicted paths ``(stamp, (M, 3) s ahead, x, y)``; ``actual``: the virtual odometry
    ``(M, 4)``; ``t0``: the measurement start (wall s).
    """

    timelines: dict[str, CauseTimeline]
    onsets: list[FaultOnset]
    summary: dict[str, Any]
    t0: float
    residuals: list[tuple[float, float, float, np.ndarray]] = field(default_factory=list)
    predictions: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    errors: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    paths: list[tuple[float, np.ndarray]] = field(default_factory=list)
    actual: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))

    @property
    def checked(self) -> bool:
        """Whether the twin reported any drift verdict (its drift check ran)."""
        return any(len(tl.times) for tl in self.timelines.values())


def physical_start(log: str, first_odometry: np.ndarray,
                   figure_eight_speed: float | None) -> tuple[float | None, str]:
    """physical_sim's start (wall s) and how it is known: fitted to its first odometry when
    it drives the figure-eight, else its start-up log line (up to ~0.3 s late)."""
    logged = physical_start_from_log(log)
    if figure_eight_speed and len(first_odometry):
        near = logged if logged is not None else float(first_odometry[0, 1])
        fitted = figure_eight_start(first_odometry, figure_eight_speed, near)
        if fitted is not None:
            return fitted, 'its first odometry laid onto the figure-eight'
    if logged is not None:
        return logged, 'its start-up log line, up to ~0.3 s late'
    return None, 'unknown'


def collect_drift(node: Any, faults: Sequence[Fault], physical_log: str, t0: float,
                  actual: np.ndarray, figure_eight_speed: float | None = None) -> DriftRecord:
    """The :class:`DriftRecord` of an observer ``node`` (a ``StreamObserver``).

    :param faults: the faults injected into physical_sim
    :param physical_log: physical_sim's output so far (its start time is read from it)
    :param t0: the measurement start (wall s)
    :param actual: the virtual odometry trajectory the predictions are scored against
    :param figure_eight_speed: physical_sim's speed if it drives the figure-eight (its
        start is then fitted to its first odometry, see :func:`physical_start`)
    """
    histories = {DRIFT_PREFIX + c: node.status_history(DRIFT_PREFIX + c) for c in CAUSES}
    timelines = drift_timelines(histories, t0)
    first = (node.first_trajectory('physical/odom') if 'physical/odom' in node.streams
             else np.zeros((0, 4)))
    start, source = (physical_start(physical_log, first, figure_eight_speed) if faults
                     else (None, 'unknown'))
    onsets = fault_onsets(faults, start, t0)
    predictions = node.predictions()
    score = prediction_score(predictions, actual)
    own = {name: status['values'] for name, status in node.diagnostics.items()
           if name.startswith('twin prediction')}
    if own:
        score['node'] = own[min(own)]
    check = node.diagnostics.get(DRIFT_PREFIX + 'check', {}).get('values', {})
    summary = drift_summary(timelines, onsets, score, check)
    summary['physical_start_from'] = source
    return DriftRecord(timelines, onsets, summary, t0, node.residuals(), predictions,
                       prediction_errors(predictions, actual), node.predicted_paths(), actual)
