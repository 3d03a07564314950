"""A replay's report: ``report.json`` (counts, speed, drift per cause, prediction) and
``report.png`` (trajectories, drift timeline per cause, residual map); matplotlib Agg."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from twin_bridge.recording.replay import ReplayResult
from twin_bridge.twin.drift.monitor import CAUSES

__all__ = ['report_dict', 'summary_lines', 'write_report']

_LEVELS = ('OK', 'WARN', 'ERROR')


def report_dict(result: ReplayResult) -> dict[str, Any]:
    """The JSON-ready report."""
    final = result.drift[-1] if result.drift else None
    return {
        'bag': result.bag,
        'duration_s': result.duration_s,
        'wall_s': result.wall_s,
        'speed_x_real_time': result.speed,
        'inputs': result.counts,
        'rejections': result.rejections,
        'drift': {
            'checked': result.drift_counts,
            'first_alarm_s': result.first_alarms(),
            'final': ({c: {'level': _LEVELS[final.levels[c]],
                           'estimates': final.estimates.get(c, {})} for c in CAUSES}
                      if final else {}),
            'timeline': [{'t': p.t, 'stamp_ns': p.stamp_ns, **p.levels}
                         for p in result.drift],
        },
        'prediction': result.prediction,
        'output_bag': result.output_bag,
    }


def summary_lines(result: ReplayResult) -> list[str]:
    """Console lines: speed, inputs, and each cause raised (when, final estimate)."""
    lines = [f'{result.duration_s:.1f} s of bag in {result.wall_s:.2f} s '
             f'({result.speed:.1f}x real time)']
    for stream, c in sorted(result.counts.items()):
        lines.append(f'  {stream}: {c["received"]} messages, {c["rejected"]} rejected')
    alarms = result.first_alarms()
    if not alarms:
        lines.append(f'  drift: none ({result.drift_counts.get("checked", 0)} scans compared)')
    final = result.drift[-1] if result.drift else None
    for cause, when in alarms.items():
        est = final.estimates.get(cause, {}) if final else {}
        shown = ', '.join(f'{k}={v:.3g}' for k, v in list(est.items())[:4])
        lines.append(f'  drift {cause}: WARN at {when.get("warn_s", float("nan")):.2f} s, '
                     f'ERROR at {when.get("error_s", float("nan")):.2f} s; final '
                     f'{_LEVELS[final.levels[cause]] if final else "?"} {shown}')
    if 'error_1s_p50_m' in result.prediction:
        lines.append(f'  prediction 1 s ahead: p50 {result.prediction["error_1s_p50_m"]:.3f} m,'
                     f' p95 {result.prediction.get("error_1s_p95_m", float("nan")):.3f} m')
    return lines


def write_report(result: ReplayResult, folder: str | Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.png`` into ``folder``. :return: both paths"""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / 'report.json'
    json_path.write_text(json.dumps(report_dict(result), indent=2, default=float),
                         encoding='utf-8')
    png_path = folder / 'report.png'
    _plot(result, png_path)
    return json_path, png_path


def _plot(result: ReplayResult, path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax_xy, ax_drift, ax_res) = plt.subplots(1, 3, figsize=(17, 5.2))
    for points, label, style in ((result.physical, 'physical (odom)', '-'),
                                 (result.virtual, 'virtual (twin)', '--')):
        if points:
            arr = np.array(points)
            ax_xy.plot(arr[:, 1], arr[:, 2], style, label=label)
    if result.corrections:
        arr = np.array(result.corrections)
        ax_xy.plot(arr[:, 1], arr[:, 2], '.', ms=3, label='scan-matched pose')
    ax_xy.set(title='trajectories', xlabel='x (m)', ylabel='y (m)', aspect='equal')
    ax_xy.legend(fontsize=8)

    if result.drift:
        t = np.array([p.t for p in result.drift])
        for i, cause in enumerate(CAUSES):
            levels = np.array([p.levels[cause] for p in result.drift])
            ax_drift.step(t, levels + 3 * i, where='post', label=cause)
        ax_drift.set_yticks([3 * i + k for i in range(len(CAUSES)) for k in range(3)],
                            [f'{c} {w}' for c in CAUSES for w in _LEVELS], fontsize=7)
    ax_drift.set(title='drift per cause', xlabel='bag time (s)')

    if result.residuals:
        width = max(len(r) for r in result.residuals)
        image = np.full((len(result.residuals), width), np.nan, dtype=np.float32)
        for i, row in enumerate(result.residuals):
            image[i, :len(row)] = row
        lo, hi = np.degrees(result.residual_angles)
        shown = ax_res.imshow(image, aspect='auto', origin='lower', cmap='coolwarm',
                              vmin=-0.3, vmax=0.3, interpolation='nearest',
                              extent=(lo, hi, result.residual_times[0],
                                      result.residual_times[-1]))
        fig.colorbar(shown, ax=ax_res, label='physical - virtual range (m)')
    ax_res.set(title='residual map (per beam)', xlabel='beam angle (deg)',
               ylabel='bag time (s)')
    fig.suptitle(f'twin replay of {Path(result.bag).name}: {result.duration_s:.1f} s at '
                 f'{result.speed:.0f}x real time')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
