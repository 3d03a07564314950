"""Demo and benchmark reports: stream figures, a console table, report.json and report.png."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import datetime as dt
import json
import math
from pathlib import Path
import re
from typing import Any

import numpy as np

from twin_bridge.twin.latency_stats import LatencyStats, LatencySummary

__all__ = [
    'SCHEMA',
    'StreamFigures',
    'bridge_counts',
    'counts_from_summary',
    'default_report_dir',
    'demo_document',
    'format_table',
    'json_safe',
    'match_trajectories',
    'plot_report',
    'stream_figures',
    'stream_table',
    'stream_table_notes',
    'write_report',
]

#: ``schema`` field of every report.json this module writes.
SCHEMA = 'twin_bridge.demo_report/1'


@dataclass
class StreamFigures:
    """What one twin output stream did during the run.

    ``latency`` is end to end (physical publish → twin publish → observer receive);
    ``input_latency`` is the physical stream's own transport latency to the observer, the
    floor any twin latency is measured against. Latencies are in seconds.
    """

    name: str
    messages_in: int | None
    messages_out: int
    latency: LatencySummary
    rejections: int | None = None
    input_latency: LatencySummary | None = None
    latencies_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    input_latencies_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def rate_hz(self) -> float:
        """Output rate over the run (messages per second)."""
        return self.latency.rate_hz

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (latencies in milliseconds; ``None`` where unknown)."""
        return {
            'messages_in': self.messages_in,
            'messages_out': self.messages_out,
            'rate_hz': self.rate_hz,
            'latency_ms': _summary_ms(self.latency),
            'input_latency_ms': _summary_ms(self.input_latency) if self.input_latency else None,
            'rejections': self.rejections,
        }


def _summary_ms(s: LatencySummary) -> dict[str, Any]:
    return {'count': s.window_count, 'min': s.min * 1e3, 'mean': s.mean * 1e3,
            'p50': s.p50 * 1e3, 'p95': s.p95 * 1e3, 'p99': s.p99 * 1e3, 'max': s.max * 1e3}


def stream_figures(name: str, output: LatencyStats, input_: LatencyStats | None = None,
                   rejections: int | None = None) -> StreamFigures:
    """Figures of stream ``name`` from the observer's output (and input) latency records."""
    latencies, _ = output.window()
    return StreamFigures(
        name=name,
        messages_in=input_.count if input_ is not None else None,
        messages_out=output.count,
        latency=output.summary(),
        rejections=rejections,
        input_latency=input_.summary() if input_ is not None else None,
        latencies_s=latencies,
        input_latencies_s=input_.window()[0] if input_ is not None else np.zeros(0),
    )


def bridge_counts(diagnostics: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per-stream counters from the bridge's latest diagnostics statuses.

    Status names look like ``'<node>: <stream>'`` (e.g. ``'twin_bridge: joint_states'``);
    numeric values among ``received``, ``accepted``, ``rejected`` and ``published`` are kept.
    """
    out: dict[str, dict[str, int]] = {}
    for name, status in diagnostics.items():
        stream = name.split(': ', 1)[-1]
        counts = {}
        for key in ('received', 'accepted', 'rejected', 'published'):
            value = status.get('values', {}).get(key)
            if value is not None and str(value).lstrip('-').isdigit():
                counts[key] = int(value)
        if counts:
            out[stream] = counts
    return out


_SUMMARY_LINE = re.compile(r'^\s*([\w/]+): ((?:\w+=-?\d+\s*)+)(?=[(;]|$)', re.MULTILINE)


def counts_from_summary(text: str) -> dict[str, dict[str, int]]:
    """Per-stream counters from the bridge's shutdown summary in its log output.

    Lines look like ``'  joint_states: received=626 accepted=620 rejected=6 (non_finite=6);
    rate=...'``; the integer ``key=value`` pairs before the first ``(`` or ``;`` are kept
    (the same keys as :func:`bridge_counts`). A later line for the same stream wins.
    """
    out: dict[str, dict[str, int]] = {}
    for match in _SUMMARY_LINE.finditer(text):
        pairs = dict(pair.split('=', 1) for pair in match.group(2).split())
        counts = {k: int(pairs[k]) for k in ('received', 'accepted', 'rejected', 'published')
                  if k in pairs}
        if counts:
            out[match.group(1)] = counts
    return out


def match_trajectories(physical: np.ndarray, virtual: np.ndarray) -> dict[str, float | int]:
    """Position error of the twin against the physical robot, matched by header stamp.

    Both arrays are ``(N, 4)``: (receive time, stamp, x, y). Under the stamp rule a virtual
    odometry message carries the stamp of the physical sample it mirrors, so equal stamps
    are the same instant.

    :return: ``matched`` pairs and ``mean_error_m`` / ``max_error_m`` (nan if none matched)
    """
    if len(physical) == 0 or len(virtual) == 0:
        return {'matched': 0, 'mean_error_m': math.nan, 'max_error_m': math.nan}
    _, pi, vi = np.intersect1d(physical[:, 1], virtual[:, 1], return_indices=True)
    if len(pi) == 0:
        return {'matched': 0, 'mean_error_m': math.nan, 'max_error_m': math.nan}
    err = np.hypot(*(physical[pi, 2:4] - virtual[vi, 2:4]).T)
    return {'matched': int(len(pi)), 'mean_error_m': float(err.mean()),
            'max_error_m': float(err.max())}


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned.

    Floats are printed with 2 decimals (1 for values >= 100), ``None``/nan as ``-``.
    """
    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return '-'
        if isinstance(v, float):
            return f'{v:.1f}' if abs(v) >= 100 else f'{v:.2f}'
        return str(v)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return '  '.join(v.ljust(w) if i == 0 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(values, widths, strict=True))).rstrip()

    rule = '  '.join('-' * w for w in widths)
    return '\n'.join([line(headers), rule, *(line(r) for r in cells)])


STREAM_HEADERS = ('stream', 'in', 'out', 'rate Hz', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms',
                  'rejected')


def stream_table(streams: Sequence[StreamFigures]) -> str:
    """The demo's per-stream table (end-to-end latency of the twin's outputs)."""
    rows = []
    for s in streams:
        lat = s.latency
        rows.append([s.name, s.messages_in, s.messages_out, s.rate_hz, lat.p50 * 1e3,
                     lat.p95 * 1e3, lat.p99 * 1e3, lat.max * 1e3, s.rejections])
    return format_table(STREAM_HEADERS, rows)


def stream_table_notes(streams: Sequence[StreamFigures]) -> list[str]:
    """Lines explaining the ``-`` cells of :func:`stream_table` for these ``streams``."""
    notes = []
    no_input = [s.name for s in streams if s.messages_in is None]
    if no_input:
        notes.append(f'- in/rejected for {", ".join(no_input)}: no physical input stream is '
                     'observed (the twin computes it)')
    unknown = [s.name for s in streams if s.messages_in is not None and s.rejections is None]
    if unknown:
        notes.append(f'- rejected for {", ".join(unknown)}: unknown (twin_bridge reported no '
                     'counts: no /diagnostics and no shutdown summary)')
    if any(s.messages_out == 0 for s in streams):
        notes.append('- latency: no output received, nothing to measure')
    return notes


def json_safe(obj: Any) -> Any:
    """``obj`` with nan/inf replaced by ``None`` and numpy scalars/arrays as plain Python."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def demo_document(*, config: Mapping[str, Any], streams: Sequence[StreamFigures],
                  trajectories: Mapping[str, np.ndarray], started: dt.datetime,
                  duration_s: float, processes: Mapping[str, Mapping[str, Any]],
                  diagnostics: Mapping[str, Any], problems: Sequence[str] = ()) -> dict:
    """The report.json document of a demo run (schema :data:`SCHEMA`).

    Top-level keys: ``schema``, ``started`` (ISO 8601), ``duration_s``, ``ok`` (no
    problems), ``problems``, ``config``, ``streams`` (name → :meth:`StreamFigures.as_dict`),
    ``tracking`` (virtual vs physical odometry matched by stamp), ``trajectories``
    (label → list of [receive time, stamp, x, y]), ``processes``, ``bridge_counts`` and
    ``diagnostics`` (the bridge's latest statuses).
    """
    tracking = {}
    if 'physical/odom' in trajectories and 'virtual/odom' in trajectories:
        tracking = match_trajectories(trajectories['physical/odom'],
                                      trajectories['virtual/odom'])
    return {
        'schema': SCHEMA,
        'started': started.isoformat(timespec='seconds'),
        'duration_s': duration_s,
        'ok': not problems,
        'problems': list(problems),
        'config': dict(config),
        'streams': {s.name: s.as_dict() for s in streams},
        'tracking': tracking,
        'trajectories': {k: np.asarray(v).tolist() for k, v in trajectories.items()},
        'processes': {k: dict(v) for k, v in processes.items()},
        'bridge_counts': bridge_counts(diagnostics),
        'diagnostics': dict(diagnostics),
    }


def default_report_dir(base: str | Path = 'reports', prefix: str = 'demo',
                       now: dt.datetime | None = None) -> Path:
    """``<base>/<prefix>-YYYYmmdd-HHMMSS`` (local time)."""
    now = now or dt.datetime.now()
    return Path(base) / f'{prefix}-{now:%Y%m%d-%H%M%S}'


def plot_report(path: Path, streams: Sequence[StreamFigures],
                trajectories: Mapping[str, np.ndarray], title: str = 'twin_bridge demo',
                drift: Any = None) -> Path:
    """Write a PNG: the physical vs virtual (x, y) path, and a latency histogram per stream;
    with ``drift`` (a :class:`~twin_bridge.demo.drift_record.DriftRecord` whose check ran)
    a row below: drift per cause over time, the per-beam residuals, predicted vs actual path.

    :param trajectories: label → ``(N, >=4)`` arrays with x, y in columns 2 and 3
    """
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    n = max(len(streams), 1)
    top_height = max(3.2 * n, 6)
    with_drift = drift is not None and drift.checked
    fig = Figure(figsize=(15 if with_drift else 13, top_height + (5.5 if with_drift else 0)),
                 layout='constrained')
    rows = fig.add_gridspec(2, 1, height_ratios=(top_height, 5.5)) if with_drift else None
    grid = (rows[0].subgridspec(n, 2, width_ratios=(1.1, 1)) if rows is not None
            else fig.add_gridspec(n, 2, width_ratios=(1.1, 1)))
    ax = fig.add_subplot(grid[:, 0])
    styles = {'physical': dict(lw=3.0, alpha=0.45, color='tab:blue'),
              'virtual': dict(lw=1.2, ls='--', color='tab:red')}
    for label, points in trajectories.items():
        if len(points):
            style = styles.get(label.split('/', 1)[0], {})
            ax.plot(points[:, 2], points[:, 3], label=f'{label} ({len(points)} poses)', **style)
    ax.set(title='Trajectory in the odom frame', xlabel='x [m]', ylabel='y [m]')
    ax.set_aspect('equal', adjustable='datalim')
    ax.grid(True, alpha=0.3)
    if any(len(points) for points in trajectories.values()):
        ax.legend(loc='best', fontsize='small')
    for row, s in enumerate(streams):
        hx = fig.add_subplot(grid[row, 1])
        data = s.latencies_s * 1e3
        if len(data):
            hi = float(np.percentile(data, 99.5)) * 1.2 + 1e-3
            bins = np.linspace(min(0.0, float(data.min())), hi, 60)
            hx.hist(np.clip(data, None, hi), bins=bins, color='tab:red', alpha=0.8,
                    label=f'twin end-to-end (n={len(data)})')
            if len(s.input_latencies_s):
                hx.hist(np.clip(s.input_latencies_s * 1e3, None, hi), bins=bins,
                        histtype='step', color='tab:blue', lw=1.5,
                        label='physical input (transport only)')
            for q, ls in ((s.latency.p50, '-'), (s.latency.p99, ':')):
                hx.axvline(q * 1e3, color='black', ls=ls, lw=1)
            hx.legend(fontsize='small')
        hx.set(title=f'{s.name}: p50 {s.latency.p50 * 1e3:.2f} ms, p99 '
                     f'{s.latency.p99 * 1e3:.2f} ms (lines)',
               xlabel='latency [ms]', ylabel='messages')
    if rows is not None:
        from twin_bridge.demo.report_drift import plot_drift_panels
        plot_drift_panels(fig, rows[1], drift)
    fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, dpi=90)
    return path


def write_report(directory: str | Path, document: Mapping[str, Any],
                 streams: Sequence[StreamFigures] = (),
                 trajectories: Mapping[str, np.ndarray] | None = None,
                 title: str = 'twin_bridge demo',
                 drift: Any = None) -> tuple[Path, Path | None]:
    """Write ``report.json`` (``document`` made JSON-safe) and, if there are streams or
    trajectories, ``report.png`` into ``directory`` (created if needed), with the drift
    panels of ``drift`` (see :func:`plot_report`).

    :return: the JSON path and the PNG path (``None`` when nothing was plotted)
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / 'report.json'
    json_path.write_text(json.dumps(json_safe(document), indent=2) + '\n', encoding='utf-8')
    png_path = None
    if streams or trajectories:
        png_path = plot_report(directory / 'report.png', streams, trajectories or {}, title,
                               drift)
    return json_path, png_path
