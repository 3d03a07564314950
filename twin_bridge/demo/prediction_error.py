"""How far the twin's predicted paths missed: the predicted pose some seconds ahead against
the odometry that arrived for that instant."""

from __future__ import annotations

import numpy as np

__all__ = ['MAX_GAP_S', 'actual_at', 'prediction_errors', 'prediction_score']

#: Largest gap (s) between two odometry samples that a predicted instant is interpolated in.
MAX_GAP_S = 0.1


def actual_at(stamps: np.ndarray, trajectory: np.ndarray,
              max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """``(N, 2)`` positions of ``trajectory`` (``(M, 4)``: receive time, stamp, x, y) at
    ``stamps`` (s), interpolated between the samples around each; NaN where a stamp lies
    outside the trajectory or in a gap longer than ``max_gap_s``."""
    stamps = np.asarray(stamps, dtype=float)
    out = np.full((len(stamps), 2), np.nan)
    if len(trajectory) < 2 or not len(stamps):
        return out
    order = np.argsort(trajectory[:, 1], kind='stable')
    t, xy = trajectory[order, 1], trajectory[order, 2:4]
    hi = np.searchsorted(t, stamps, side='left')
    inside = (hi > 0) & (hi < len(t)) | ((hi == 0) & (stamps == t[0]))
    hi = np.clip(hi, 1, len(t) - 1)
    lo = hi - 1
    inside &= (t[hi] - t[lo]) <= max_gap_s
    span = np.where(t[hi] > t[lo], t[hi] - t[lo], 1.0)
    w = np.clip((stamps - t[lo]) / span, 0.0, 1.0)[:, None]
    out[inside] = ((1 - w) * xy[lo] + w * xy[hi])[inside]
    return out


def prediction_errors(predictions: np.ndarray, trajectory: np.ndarray,
                      max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """``(K, 3)`` rows (predicted stamp s, lead s, position error m) of the ``predictions``
    (``(N, 4)``: path stamp, predicted stamp, x, y) that ``trajectory`` covers."""
    predictions = np.asarray(predictions, dtype=float).reshape(-1, 4)
    actual = actual_at(predictions[:, 1], trajectory, max_gap_s)
    err = np.hypot(*(predictions[:, 2:4] - actual).T)
    ok = np.isfinite(err)
    return np.column_stack([predictions[ok, 1], predictions[ok, 1] - predictions[ok, 0],
                            err[ok]])


def prediction_score(predictions: np.ndarray, trajectory: np.ndarray,
                     max_gap_s: float = MAX_GAP_S) -> dict[str, float | int]:
    """``count`` of scored predictions, their median ``lead_s`` and the position error
    ``p50_m``, ``p95_m`` and ``max_m`` (nan when none could be scored)."""
    errors = prediction_errors(predictions, trajectory, max_gap_s)
    if not len(errors):
        return {'count': 0, 'lead_s': float('nan'), 'p50_m': float('nan'),
                'p95_m': float('nan'), 'max_m': float('nan')}
    p50, p95 = np.percentile(errors[:, 2], [50, 95])
    return {'count': int(len(errors)), 'lead_s': float(np.median(errors[:, 1])),
            'p50_m': float(p50), 'p95_m': float(p95), 'max_m': float(errors[:, 2].max())}
