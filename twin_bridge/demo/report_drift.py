"""report.png's drift panels: the verdict of every cause over time, the per-beam residuals
over time, and the predicted against the actual path."""

from __future__ import annotations

from typing import Any

import numpy as np

from twin_bridge.demo.drift_record import DriftRecord

__all__ = ['LEVEL_COLOURS', 'plot_drift_panels', 'residual_image']

#: Level -> colour of the drift timeline (OK, WARN, ERROR, STALE).
LEVEL_COLOURS = {0: '#7fbf7f', 1: '#ffb000', 2: '#d62728', 3: '#999999'}
#: Residuals are drawn within +-this many metres at most (at least 5 cm).
MAX_RESIDUAL_M = 0.5


def plot_drift_panels(fig: Any, spec: Any, drift: DriftRecord) -> None:
    """Draw the three drift panels into ``spec`` (a one-row slot of ``fig``'s grid)."""
    grid = spec.subgridspec(1, 3, width_ratios=(1.1, 1.1, 0.9))
    _timeline(fig.add_subplot(grid[0, 0]), drift)
    _residuals(fig, fig.add_subplot(grid[0, 1]), drift)
    _prediction(fig.add_subplot(grid[0, 2]), drift)


def _mark_onsets(ax: Any, drift: DriftRecord, label: bool) -> None:
    for onset in drift.onsets:
        if onset.onset_s is not None:
            ax.axvline(onset.onset_s, color='black', ls='--', lw=1.2,
                       label=f'fault {onset.description}' if label else None)


def _timeline(ax: Any, drift: DriftRecord) -> None:
    causes = list(drift.timelines)
    end = max([0.0, *(float(tl.times[-1]) for tl in drift.timelines.values() if len(tl.times))])
    for row, cause in enumerate(causes):
        tl = drift.timelines[cause]
        if not len(tl.times):
            continue
        edges = np.append(tl.times, tl.times[-1] + (np.median(np.diff(tl.times))
                                                   if len(tl.times) > 1 else 0.25))
        spans = [(float(a), float(b - a)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        ax.broken_barh(spans, (row - 0.35, 0.7),
                       facecolors=[LEVEL_COLOURS.get(int(v), 'grey') for v in tl.levels])
        c = drift.summary['causes'][cause]
        if c['first_error_s'] is not None:
            after = c['detected_after_onset_s']
            text = f'ERROR {c["first_error_s"]:.2f} s'
            if after is not None:
                text += f' (onset {after:+.2f} s)'
            # inside the alarm while there is room on its right, else on the bar before it
            inside = c['first_error_s'] < 0.5 * end
            ax.text(c['first_error_s'] + (0.05 if inside else -0.05), row, text,
                    fontsize='small', ha='left' if inside else 'right', va='center',
                    color='white' if inside else 'black', fontweight='bold')
    _mark_onsets(ax, drift, label=True)
    ax.axvline(0.0, color='grey', lw=0.8)
    from matplotlib.patches import Patch
    handles = [Patch(color=LEVEL_COLOURS[k], label=n) for k, n in ((0, 'OK'), (1, 'WARN'),
                                                                   (2, 'ERROR'))]
    handles += ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize='small', loc='upper center', ncol=3,
              bbox_to_anchor=(0.5, -0.14))
    ax.set_yticks(range(len(causes)), causes)
    ax.set_ylim(-0.7, len(causes) - 0.1)
    ax.set_xlim(right=max(end, 1.0) + 0.3)
    ax.invert_yaxis()
    ax.set(title='Drift verdict per cause (twin drift: <cause>)',
           xlabel='time since the measurement start [s]')
    ax.grid(True, axis='x', alpha=0.3)


def residual_image(rows: list[tuple[float, float, float, np.ndarray]]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Times (s), beam angles (rad) and a ``(times, beams)`` residual array of the rows
    sharing the latest row's beam layout; ``None`` without rows."""
    if not rows:
        return None
    n, a0, da = len(rows[-1][3]), rows[-1][1], rows[-1][2]
    same = [r for r in rows if len(r[3]) == n and r[1] == a0 and r[2] == da]
    same.sort(key=lambda r: r[0])
    times = np.array([r[0] for r in same], dtype=float)
    return times, a0 + da * np.arange(n), np.vstack([r[3] for r in same]).astype(float)


def _residuals(fig: Any, ax: Any, drift: DriftRecord) -> None:
    image = residual_image(drift.residuals)
    ax.set(title='Per-beam residual, physical - virtual (virtual/scan_residual)',
           xlabel='time since the measurement start [s]', ylabel='beam angle [deg]')
    if image is None:
        ax.text(0.5, 0.5, 'no residual scans received', ha='center', va='center',
                transform=ax.transAxes)
        return
    times, angles, data = image
    times = times - drift.t0
    finite = np.abs(data[np.isfinite(data)])
    limit = float(np.clip(np.percentile(finite, 99) if len(finite) else 0.05, 0.05,
                          MAX_RESIDUAL_M))
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.05
    t_edges = np.append(times - step / 2, times[-1] + step / 2)
    da = float(angles[1] - angles[0]) if len(angles) > 1 else 0.01
    a_edges = np.degrees(np.append(angles - da / 2, angles[-1] + da / 2))
    import matplotlib
    cmap = matplotlib.colormaps['RdBu_r'].with_extremes(bad='#dddddd')
    mesh = ax.pcolormesh(t_edges, a_edges, np.ma.masked_invalid(data.T), cmap=cmap,
                         vmin=-limit, vmax=limit, shading='flat', rasterized=True)
    fig.colorbar(mesh, ax=ax, label='residual [m] (grey: no return)', pad=0.01)
    _mark_onsets(ax, drift, label=False)


def _prediction(ax: Any, drift: DriftRecord) -> None:
    actual = drift.actual
    pred = drift.summary.get('prediction', {})
    if len(actual):
        ax.plot(actual[:, 2], actual[:, 3], color='tab:blue', lw=2.5, alpha=0.5,
                label=f'actual (virtual/odom, {len(actual)} poses)')
    for i, (_, path) in enumerate(drift.paths[::max(1, len(drift.paths) // 12)]):
        ax.plot(path[:, 1], path[:, 2], color='tab:orange', lw=0.8, alpha=0.8,
                label='predicted paths (a few)' if i == 0 else None)
    p = drift.predictions
    if len(p):
        ax.scatter(p[:, 2], p[:, 3], s=6, color='tab:red', zorder=3,
                   label=f'predicted pose {pred.get("lead_s", 1.0):.2g} s ahead')
    title = f'Predicted ({pred.get("lead_s", 1.0):.2g} s ahead) vs actual path'
    if pred.get('count'):
        title += (f'\np50 {pred["p50_m"] * 1e3:.1f} mm, p95 {pred["p95_m"] * 1e3:.1f} mm, '
                  f'n={pred["count"]}')
    ax.set(title=title, xlabel='x [m]', ylabel='y [m]')
    ax.set_aspect('equal', adjustable='datalim')
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize='small', loc='best')
