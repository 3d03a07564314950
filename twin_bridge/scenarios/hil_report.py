"""A hardware-in-the-loop run's report: ``report.json`` and ``report.png``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from twin_bridge.scenarios.hil_compare import CommandLog, HilComparison, Trajectory

__all__ = ['format_report', 'write_report']


def format_report(comparison: HilComparison) -> str:
    """The metrics as a few aligned lines, the verdict last."""
    d = comparison.to_dict()

    def sec(key: str) -> str:
        value = d[key]
        return 'never' if value is None else f'{value:.2f} s'

    lines = [
        f'  compared        {d["duration"]:.2f} s, {d["samples"]} samples',
        f'  position RMSE   {d["position_rmse_m"]:.3f} m',
        f'  max deviation   {d["max_deviation_m"]:.3f} m at {d["max_deviation_at_s"]:.2f} s',
        f'  final pose      {d["final_position_error_m"]:.3f} m, '
        f'{d["final_yaw_error_deg"]:.1f} deg',
        f'  time to goal    physical {sec("time_to_goal_physical_s")}, '
        f'twin {sec("time_to_goal_twin_s")}',
        f'  verdict         {comparison.summary()}',
    ]
    return '\n'.join(lines)


def write_report(output: str | Path, comparison: HilComparison, physical: Trajectory,
                 twin: Trajectory, commands: CommandLog, meta: dict[str, object] | None = None,
                 goal: tuple[float, float] | None = None) -> tuple[Path, Path]:
    """Write ``report.json`` (metrics, ``meta``, the aligned trajectories and commands, times
    from the comparison's start) and ``report.png`` (both paths; position error and commands
    over time) into ``output`` (created). :return: the two paths"""
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    c = comparison
    t0 = c.start
    px, py, pyaw = physical.at(c.times)
    tx, ty, tyaw = twin.at(c.times)
    keep = commands.t >= t0 - 1e-9
    data = {**c.to_dict(), **(meta or {}),
            'aligned': {'t': (c.times - t0).round(4).tolist(),
                        'physical': np.column_stack([px, py, pyaw]).round(5).tolist(),
                        'twin': np.column_stack([tx, ty, tyaw]).round(5).tolist(),
                        'position_error': c.position_error.round(5).tolist()},
            'commands': np.column_stack([commands.t[keep] - t0, commands.v[keep],
                                         commands.w[keep]]).round(5).tolist()}
    json_path = out / 'report.json'
    json_path.write_text(json.dumps(data, indent=1))
    png_path = out / 'report.png'
    _plot(png_path, c, (px, py), (tx, ty), commands, goal)
    return json_path, png_path


def _plot(path: Path, c: HilComparison, physical: tuple[np.ndarray, np.ndarray],
          twin: tuple[np.ndarray, np.ndarray], commands: CommandLog,
          goal: tuple[float, float] | None) -> None:
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 5), dpi=100)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(*physical, color='tab:blue', label='physical (odometry)')
    ax.plot(*twin, color='tab:orange', linestyle='--', label='twin (dynamics, same commands)')
    ax.plot(physical[0][0], physical[1][0], 'ko', label='start')
    k = int(np.argmax(c.position_error))
    ax.plot([physical[0][k], twin[0][k]], [physical[1][k], twin[1][k]], color='tab:red',
            label=f'max deviation {c.max_deviation:.3f} m')
    if goal is not None:
        ax.plot(*goal, marker='*', color='tab:green', markersize=14, linestyle='',
                label='goal')
    ax.set_aspect('equal', adjustable='datalim')
    ax.set_xlabel('x (m)')
    ax.set_ylabel('y (m)')
    ax.set_title(f'{c.verdict}: RMSE {c.position_rmse:.3f} m, final {c.final_position_error:.3f} m',
                 color='tab:green' if c.verdict == 'validated' else 'tab:red')
    ax.legend(loc='best', fontsize=8)
    ax.grid(True, alpha=0.3)
    err = fig.add_subplot(2, 2, 2)
    err.plot(c.times - c.start, c.position_error, color='tab:red')
    err.axhline(c.thresholds.position_rmse, color='0.5', linestyle=':',
                label=f'RMSE threshold {c.thresholds.position_rmse:g} m')
    err.set_ylabel('position error (m)')
    err.legend(loc='upper left', fontsize=8)
    err.grid(True, alpha=0.3)
    cmd = fig.add_subplot(2, 2, 4, sharex=err)
    tt = np.append(commands.t - c.start, c.end - c.start)
    cmd.step(tt, np.append(commands.v, commands.v[-1]), where='post', label='v (m/s)')
    cmd.step(tt, np.append(commands.w, commands.w[-1]), where='post', label='w (rad/s)')
    cmd.set_xlim(0.0, c.end - c.start)
    cmd.set_xlabel('time (s)')
    cmd.set_ylabel('command')
    cmd.legend(loc='upper right', fontsize=8)
    cmd.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
