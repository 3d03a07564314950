"""The twin's drift verdicts as the demo shows them: timelines per cause, fault onsets, the
progress-line text and the summary table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math
import re
from typing import Any

import numpy as np

from twin_bridge.demo.report import format_table
from twin_bridge.stand_in.faults import Fault

__all__ = [
    'CAUSES',
    'DRIFT_PREFIX',
    'FAULT_CAUSES',
    'CauseTimeline',
    'FaultOnset',
    'drift_progress',
    'drift_summary',
    'drift_table',
    'drift_timelines',
    'fault_onsets',
    'numeric_values',
    'physical_start_from_log',
]

#: Drift causes in display order, and the prefix of their ``/diagnostics`` status names.
CAUSES = ('pose', 'world', 'lidar', 'wheels')
DRIFT_PREFIX = 'twin drift: '
#: Fault kind (physical_sim) -> the drift cause the twin should name for it.
FAULT_CAUSES = {'pose_offset': 'pose', 'obstacle_moved': 'world', 'scan_world': 'world',
                'lidar_yaw': 'lidar', 'range_bias': 'lidar', 'range_scale': 'lidar',
                'wheel_slip': 'wheels'}
#: The estimates shown per cause (all of them go to report.json).
SHOWN = {'pose': ('dx', 'dy', 'dyaw_deg'), 'world': ('changed_x', 'changed_y', 'changed_extent'),
         'lidar': ('yaw_offset_deg', 'range_bias', 'range_scale'), 'wheels': ('slip',)}
LEVEL_NAMES = {0: 'OK', 1: 'WARN', 2: 'ERROR', 3: 'STALE'}
_WARN, _ERROR = 1, 2
# '[INFO] [1796168607.735424750] [physical_sim]: injecting fault ...' (the default rcutils
# format): physical_sim logs it right after its clock starts, which its faults' `at` counts from.
_START_LINE = re.compile(r'\[(\d+(?:\.\d+)?)\]\s+\[[^\]]*physical_sim[^\]]*\]:\s+'
                         r'(?:publishing|injecting fault)')


def numeric_values(values: Mapping[str, Any]) -> dict[str, float]:
    """The values of a diagnostics status that are numbers (strings as published)."""
    out = {}
    for key, value in values.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


@dataclass
class CauseTimeline:
    """One cause's verdicts over time: ``times`` (s after the measurement start), ``levels``
    (0 OK, 1 WARN, 2 ERROR) and the numeric ``estimates`` of each status."""

    cause: str
    times: np.ndarray
    levels: np.ndarray
    estimates: list[dict[str, float]] = field(default_factory=list)

    def first(self, level: int, after: float | None = None) -> int | None:
        """Index of the first status at ``level`` or above (at or after ``after`` s)."""
        hit = self.levels >= level
        if after is not None:
            hit &= self.times >= after
        found = np.flatnonzero(hit)
        return int(found[0]) if len(found) else None

    def first_time(self, level: int, after: float | None = None) -> float | None:
        """Time (s) of :meth:`first`, ``None`` if the level was never reached."""
        i = self.first(level, after)
        return float(self.times[i]) if i is not None else None

    def detection(self, onset: float | None) -> int | None:
        """Index of the status that detected a drift beginning at ``onset`` s: the first
        ERROR after the last OK status before ``onset`` (so a detection a little before an
        onset known only roughly counts, and an earlier false alarm that cleared does not);
        without an onset, the first ERROR."""
        if onset is None:
            return self.first(_ERROR)
        ok_before = np.flatnonzero((self.times < onset) & (self.levels == 0))
        after = self.levels >= _ERROR
        if len(ok_before):
            after[:ok_before[-1] + 1] = False
        found = np.flatnonzero(after)
        return int(found[0]) if len(found) else None

    @property
    def final_level(self) -> int:
        """The level of the latest status (0 if none)."""
        return int(self.levels[-1]) if len(self.levels) else 0

    @property
    def final_estimate(self) -> dict[str, float]:
        """The estimates of the latest status that raised the cause (empty if none did)."""
        raised = np.flatnonzero(self.levels > 0)
        return self.estimates[raised[-1]] if len(raised) else {}


def drift_timelines(histories: Mapping[str, Sequence[tuple[float, int, Mapping[str, Any]]]],
                    t0: float) -> dict[str, CauseTimeline]:
    """Per cause of :data:`CAUSES`, its timeline from the recorded status ``histories``
    (status name -> ``(stamp s, level, values)``, e.g. the observer's ``status_history``);
    times are made relative to ``t0`` (wall s) and sorted."""
    out = {}
    for cause in CAUSES:
        entries = sorted(histories.get(DRIFT_PREFIX + cause, ()), key=lambda e: e[0])
        out[cause] = CauseTimeline(
            cause, np.array([e[0] - t0 for e in entries], dtype=float),
            np.array([int(e[1]) for e in entries], dtype=int),
            [numeric_values(e[2]) for e in entries])
    return out


@dataclass(frozen=True)
class FaultOnset:
    """An injected fault: what it is, the cause it should raise, and when it began (s after
    the measurement start; ``None`` when physical_sim's start is unknown)."""

    description: str
    cause: str | None
    at: float
    onset_s: float | None


def physical_start_from_log(text: str) -> float | None:
    """Wall-clock time (s) physical_sim's fault clock started, from its start-up log line
    (it is logged a little after, once the scan world is loaded: ~0.2 s late at most)."""
    match = _START_LINE.search(text)
    return float(match.group(1)) if match else None


def fault_onsets(faults: Sequence[Fault], physical_start: float | None,
                 t0: float) -> list[FaultOnset]:
    """The onsets of ``faults`` relative to ``t0`` (both wall s)."""
    return [FaultOnset(f.describe(), FAULT_CAUSES.get(f.kind), f.at,
                       None if physical_start is None else physical_start + f.at - t0)
            for f in faults]


def _estimate_text(cause: str, estimate: Mapping[str, float], limit: int = 3) -> str:
    keys = [k for k in SHOWN.get(cause, ()) if k in estimate] or list(estimate)[:limit]
    return ' '.join(f'{k}={estimate[k]:.3g}' for k in keys[:limit])


def drift_progress(diagnostics: Mapping[str, Mapping[str, Any]]) -> str | None:
    """``'drift: pose ERROR dx=-0.05 dy=0.001 dyaw_deg=-2'`` for each raised cause,
    ``'drift: ok'`` when none is raised, ``None`` when the twin reports no drift check."""
    raised = []
    for cause in CAUSES:
        status = diagnostics.get(DRIFT_PREFIX + cause)
        if status and int(status.get('level', 0)) > 0:
            level = LEVEL_NAMES.get(int(status['level']), str(status['level']))
            estimate = _estimate_text(cause, numeric_values(status.get('values', {})))
            raised.append(f'{cause} {level}' + (f' {estimate}' if estimate else ''))
    if raised:
        return 'drift: ' + ', '.join(raised)
    if any(DRIFT_PREFIX + c in diagnostics for c in CAUSES):
        return 'drift: ok'
    return None


def _onset_for(cause: str, onsets: Sequence[FaultOnset]) -> FaultOnset | None:
    """The earliest fault of ``cause``, else the earliest fault of any cause."""
    timed = [o for o in onsets if o.onset_s is not None]
    own = [o for o in timed if o.cause == cause]
    pool = own or timed
    return min(pool, key=lambda o: o.onset_s) if pool else None


def drift_summary(timelines: Mapping[str, CauseTimeline], onsets: Sequence[FaultOnset],
                  prediction: Mapping[str, Any] | None = None,
                  check: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The drift section of report.json.

    Per cause: ``expected`` (an injected fault of that cause), ``statuses``,
    ``first_warn_s`` / ``first_error_s`` (s after the measurement start),
    ``onset_s`` (the fault it is timed against: its own cause's, else the earliest),
    ``detected_after_onset_s`` (see :meth:`CauseTimeline.detection`; negative when the
    detection came before the onset as estimated), ``detected_at_most`` (the first verdict
    observed, after the onset, was already raised: an upper bound), ``estimate_at_detection``,
    ``final_level`` and ``final_estimate``. Also ``faults``, ``prediction`` (the 1 s-ahead
    error) and ``check`` (the drift check's counts).
    """
    causes = {}
    for cause, tl in timelines.items():
        onset = _onset_for(cause, onsets)
        detected = tl.detection(onset.onset_s if onset else None)
        causes[cause] = {
            'expected': any(o.cause == cause for o in onsets),
            'statuses': int(len(tl.times)),
            'first_warn_s': tl.first_time(_WARN),
            'first_error_s': tl.first_time(_ERROR),
            'onset_s': onset.onset_s if onset else None,
            'detected_after_onset_s': (float(tl.times[detected]) - onset.onset_s
                                       if onset and detected is not None else None),
            # raised in the first verdict observed, after the onset: the time is an upper bound
            'detected_at_most': bool(onset and detected == 0 and tl.times[0] > onset.onset_s),
            'estimate_at_detection': tl.estimates[detected] if detected is not None else {},
            'final_level': LEVEL_NAMES.get(tl.final_level, str(tl.final_level)),
            'final_estimate': tl.final_estimate,
        }
    return {'causes': causes,
            'faults': [{'fault': o.description, 'cause': o.cause, 'at_s': o.at,
                        'onset_s': o.onset_s} for o in onsets],
            'prediction': dict(prediction or {}),
            'check': dict(check or {})}


DRIFT_HEADERS = ('drift', 'fault', 'WARN at s', 'ERROR at s', 'after onset s', 'level',
                 'estimate at detection', 'final estimate')


def _ms(value: float | None) -> str:
    return '-' if value is None or not math.isfinite(value) else f'{value * 1e3:.1f} mm'


def drift_table(summary: Mapping[str, Any]) -> str:
    """The demo's drift section: a row per cause, then the faults, the prediction error and
    the drift check's counts."""
    faults = summary.get('faults', [])
    rows = []
    for cause, c in summary['causes'].items():
        expected = ', '.join(f['fault'].split()[0] for f in faults if f['cause'] == cause)
        after = c['detected_after_onset_s']
        if after is not None and c.get('detected_at_most'):
            after = f'<={after:.2f}'
        rows.append([cause, expected or '-', c['first_warn_s'], c['first_error_s'],
                     after, c['final_level'],
                     _estimate_text(cause, c['estimate_at_detection']) or '-',
                     _estimate_text(cause, c['final_estimate']) or '-'])
    lines = [format_table(DRIFT_HEADERS, rows)]
    for f in faults:
        source = summary.get('physical_start_from', 'its start-up log line')
        when = (f'onset {f["onset_s"]:.2f} s after the measurement start (physical_sim\'s '
                f'start from {source}, + at)'
                if f['onset_s'] is not None else 'onset unknown (physical_sim\'s start is)')
        lines.append(f'- fault {f["fault"]} at={f["at_s"]:g} s: {when}')
    if any(c.get('detected_at_most') for c in summary['causes'].values()):
        lines.append('- <=: raised in the first verdict observed, which came after the onset '
                     '(physical_sim\'s at= counts from its own start, seconds before the '
                     'measurement: give a later at= to see the detection itself)')
    if any(f['cause'] == 'pose' for f in faults):
        lines.append('- pose estimates are the correction (true - odometry): -dyaw, and '
                     '-(dx, dy) plus the turn about the pose at the onset')
    pred = summary.get('prediction') or {}
    if pred.get('count'):
        lines.append(f'- prediction {pred["lead_s"]:g} s ahead vs virtual/odom '
                     f'({pred["count"]} paths): p50 {_ms(pred["p50_m"])}, '
                     f'p95 {_ms(pred["p95_m"])}')
    else:
        lines.append('- prediction: no predicted path could be scored against virtual/odom')
    node = numeric_values(pred.get('node') or {})
    if {'error_1s_p50_m', 'error_1s_p95_m'} <= set(node):
        lines.append(f'- twin prediction (the node\'s own score, {node.get("scored", 0):.0f} '
                     f'scored): p50 {_ms(node["error_1s_p50_m"])}, '
                     f'p95 {_ms(node["error_1s_p95_m"])}')
    elif node:
        lines.append('- twin prediction (the node\'s own score): ' + ', '.join(
            f'{k}={v:.3g}' for k, v in list(node.items())[:6]))
    check = summary.get('check') or {}
    if check:
        lines.append('- drift check: ' + ', '.join(f'{k} {v}' for k, v in check.items()))
    return '\n'.join(lines)
