"""One PNG per scenario: the path coloured by verdict, obstacles, the footprint at the stop."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin_bridge.scenarios.physical import OBSTACLE_PREFIX
from twin_bridge.scenarios.runner import ScenarioResult

__all__ = ['plot_result']

_VERDICT_COLOURS = {'pass': 'tab:green', 'slow': 'tab:orange', 'stop': 'tab:red'}


def plot_result(result: ScenarioResult, path: str | Path) -> Path:
    """Draw ``result`` into ``path`` (PNG, matplotlib's Agg backend; parents created).

    Filled grey: the physical world near the path (red: obstacles the twin's map lacks);
    dashed: the twin's map where it differs; the true path with the gate's verdict per
    command; the robot's footprint at the first stop (red) and at the end (blue).
    """
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(7, 6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    trace, drawing, scenario = result.trace, result.drawing, result.scenario
    assert trace is not None and drawing is not None and scenario is not None
    mapped = {name: poly for name, poly in drawing.mapped}
    shown = [np.column_stack([trace.x, trace.y])]
    for name, poly in drawing.physical:
        same = name in mapped and np.allclose(mapped[name], poly, atol=1e-6)
        colour = 'tab:red' if (name.startswith(OBSTACLE_PREFIX) and name not in mapped) or (
            not same) else '0.6'
        if colour != '0.6':
            shown.append(poly)
        ax.add_patch(Polygon(poly, closed=True, facecolor=colour, edgecolor='0.3', alpha=0.6))
    physical = {name: poly for name, poly in drawing.physical}
    for name, poly in drawing.mapped:
        if name not in physical or not np.allclose(physical[name], poly, atol=1e-6):
            ax.add_patch(Polygon(poly, closed=True, fill=False, edgecolor='0.2',
                                 linestyle='--', label=None))
            shown.append(poly)
    ax.plot(trace.x, trace.y, color='0.4', linewidth=0.8)
    ticks = np.searchsorted(trace.t, trace.tick)
    ticks = np.minimum(ticks, len(trace.x) - 1)
    for verdict, colour in _VERDICT_COLOURS.items():
        rows = [k for k, v in zip(ticks, trace.verdict, strict=True) if v == verdict]
        if rows:
            ax.scatter(trace.x[rows], trace.y[rows], s=8, color=colour,
                       label=f'{verdict} ({len(rows)})', zorder=3)
    for polys, colour, label in ((drawing.robot_stop, 'tab:red', 'footprint at first stop'),
                                 (drawing.robot_end, 'tab:blue', 'footprint at the end')):
        for i, poly in enumerate(polys):
            if len(poly) >= 3:
                ax.add_patch(Polygon(poly, closed=True, fill=False, edgecolor=colour,
                                     linewidth=1.2, label=label if i == 0 else None))
    if scenario.goal is not None:
        ax.plot([scenario.goal.x], [scenario.goal.y], marker='*', markersize=12,
                color='gold', markeredgecolor='k', linestyle='none', label='goal')
    verdict = 'ERROR' if result.error else ('PASS' if result.passed else 'FAIL')
    ax.set_title(f'{result.name}: {verdict}  (min clearance {trace.min_clearance:.3f} m)',
                 fontsize=10)
    pts = np.vstack(shown)
    lo, hi = pts.min(axis=0) - 1.0, pts.max(axis=0) + 1.0
    if scenario.goal is not None:
        lo = np.minimum(lo, (scenario.goal.x - 0.5, scenario.goal.y - 0.5))
        hi = np.maximum(hi, (scenario.goal.x + 0.5, scenario.goal.y + 0.5))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect('equal')
    ax.set_xlabel('x (m)')
    ax.set_ylabel('y (m)')
    ax.legend(loc='best', fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    return path
