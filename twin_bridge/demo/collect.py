"""Gathering a demo run's figures from the observer and the bridge's own accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twin_bridge.demo.report import bridge_counts, counts_from_summary, stream_figures

__all__ = ['STREAMS', 'clock_problems', 'collect', 'fill_rejections']

#: Twin output streams (table rows) → the observer labels of their output and input.
STREAMS = {
    'joint_states': ('virtual/joint_states', 'physical/joint_states'),
    'odom': ('virtual/odom', 'physical/odom'),
    'scan': ('virtual/scan', None),
}


def fill_rejections(figures: Sequence[Any], bridge_output: str) -> None:
    """Take rejection counts the diagnostics did not give from the bridge's shutdown summary
    (e.g. after a stop before its first /diagnostics)."""
    summary = counts_from_summary(bridge_output)
    for f in figures:
        if f.messages_in is not None and f.rejections is None:
            f.rejections = summary.get(f.name, {}).get('rejected')


def clock_problems(node: Any, measured: float) -> list[str]:
    """A problem for each stream that only brought messages stamped before the measurement
    (a publisher clock behind this computer's: its latencies would be meaningless)."""
    if measured <= 0:
        return []
    return [f'every message on {node.streams[label].topic} ({node.dropped(label)}) was '
            'stamped before the measurement started: is that publisher\'s clock '
            'synchronised with this computer\'s?'
            for label in node.streams
            if node.count(label) == 0 and node.dropped(label) > 0]


def collect(node: Any) -> tuple[list, dict, dict]:
    """Stream figures, trajectories and the bridge's diagnostics from the observer."""
    diagnostics = dict(node.diagnostics)
    counts = bridge_counts(diagnostics)
    figures = []
    for name, (out_label, in_label) in STREAMS.items():
        if in_label is None and f'physical/{name}' in node.streams:
            in_label = f'physical/{name}'  # the stand-in robot's own scan (--physical-scan)
        rejected = counts.get(name, {}).get('rejected') if in_label else None
        figures.append(stream_figures(name, node.stats(out_label),
                                      node.stats(in_label) if in_label else None, rejected))
    trajectories = {label: node.trajectory(label) for label in ('physical/odom', 'virtual/odom')}
    return figures, trajectories, diagnostics
