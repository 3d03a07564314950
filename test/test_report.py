"""Tests for the demo/benchmark report: figures, table, report.json schema and report.png."""

import datetime as dt
import json
import math

import numpy as np
import pytest

from twin_bridge.demo.report import (
    SCHEMA,
    bridge_counts,
    counts_from_summary,
    default_report_dir,
    demo_document,
    format_table,
    json_safe,
    match_trajectories,
    stream_figures,
    stream_table,
    stream_table_notes,
    write_report,
)
from twin_bridge.twin.latency_stats import LatencyStats

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def _stats(latencies_ms, rate_hz=100.0):
    stats = LatencyStats(capacity=10_000, window_s=None)
    for i, v in enumerate(latencies_ms):
        stats.add(v * 1e-3, 1000.0 + i / rate_hz)
    return stats


def _trajectory(n, offset=0.0):
    t = np.arange(n) * 0.02
    stamps = 1.7e9 + t
    return np.column_stack([stamps + 0.001, stamps, np.cos(t) + offset, np.sin(2 * t)])


def _streams():
    rng = np.random.default_rng(1)
    js = stream_figures('joint_states', _stats(rng.gamma(4.0, 0.25, 500)),
                        _stats(rng.gamma(4.0, 0.1, 510)), rejections=3)
    scan = stream_figures('scan', _stats(rng.gamma(4.0, 1.0, 100), rate_hz=20.0))
    return [js, scan]


def test_stream_figures_are_computed_from_the_records():
    js, scan = _streams()
    assert js.messages_out == 500 and js.messages_in == 510 and js.rejections == 3
    assert js.rate_hz == pytest.approx(100.0)
    assert js.latency.p50 == pytest.approx(np.percentile(js.latencies_s, 50))
    assert scan.messages_in is None and scan.input_latency is None
    d = js.as_dict()
    assert d['latency_ms']['p99'] == pytest.approx(js.latency.p99 * 1e3)
    assert d['latency_ms']['count'] == 500


def test_table_has_a_row_per_stream_with_the_figures():
    js, scan = _streams()
    lines = stream_table([js, scan]).splitlines()
    assert lines[0].split()[:3] == ['stream', 'in', 'out']
    assert len(lines) == 4
    assert lines[2].startswith('joint_states') and f'{js.latency.p99 * 1e3:.2f}' in lines[2]
    assert lines[3].split()[1] == '-'  # scans have no "in" count
    # All rows have the same width per column (right-aligned numbers).
    table = format_table(['a', 'b'], [['x', 1.5], ['longer', 123.456], ['y', None]])
    assert table.splitlines()[3] == 'longer  123.5'
    assert table.splitlines()[4].endswith('-')


def test_report_json_schema_and_png(tmp_path):
    streams = _streams()
    physical = _trajectory(200)
    virtual = _trajectory(150)
    diagnostics = {
        'twin_bridge: joint_states': {'level': 0, 'message': 'ok',
                                      'values': {'received': '510', 'rejected': '3',
                                                 'rate_hz': '99.9'}},
        'twin_bridge: virtual/scan': {'level': 0, 'message': 'ok',
                                      'values': {'published': '100'}},
    }
    document = demo_document(
        config={'duration': 6.0, 'world': 'warehouse'}, streams=streams,
        trajectories={'physical/odom': physical, 'virtual/odom': virtual},
        started=dt.datetime(2026, 1, 2, 3, 4, 5), duration_s=6.0,
        processes={'twin_bridge': {'pid': 12, 'exit_code': 0}}, diagnostics=diagnostics)
    json_path, png_path = write_report(tmp_path / 'out', document, streams,
                                       {'physical/odom': physical, 'virtual/odom': virtual})

    loaded = json.loads(json_path.read_text())
    assert loaded['schema'] == SCHEMA
    assert loaded['ok'] is True and loaded['problems'] == []
    assert loaded['started'] == '2026-01-02T03:04:05'
    assert set(loaded['streams']) == {'joint_states', 'scan'}
    for figures in loaded['streams'].values():
        assert set(figures) == {'messages_in', 'messages_out', 'rate_hz', 'latency_ms',
                                'input_latency_ms', 'rejections'}
        assert set(figures['latency_ms']) == {'count', 'min', 'mean', 'p50', 'p95', 'p99',
                                              'max'}
        lat = figures['latency_ms']
        assert lat['min'] <= lat['p50'] <= lat['p95'] <= lat['p99'] <= lat['max']
    assert loaded['streams']['scan']['input_latency_ms'] is None
    assert loaded['tracking']['matched'] == 150
    assert loaded['tracking']['max_error_m'] == pytest.approx(0.0)
    assert len(loaded['trajectories']['physical/odom']) == 200
    assert loaded['bridge_counts'] == {'joint_states': {'received': 510, 'rejected': 3},
                                       'virtual/scan': {'published': 100}}

    data = png_path.read_bytes()
    assert png_path.name == 'report.png'
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000


def test_report_without_data_still_writes_json(tmp_path):
    json_path, png_path = write_report(tmp_path, {'schema': SCHEMA, 'value': math.nan})
    assert png_path is None
    assert json.loads(json_path.read_text()) == {'schema': SCHEMA, 'value': None}


def test_empty_stream_gives_nan_figures_that_serialise_as_null():
    figures = stream_figures('odom', LatencyStats(10, None))
    assert figures.messages_out == 0
    assert json_safe(figures.as_dict())['latency_ms']['p50'] is None
    assert '-' in stream_table([figures]).splitlines()[2]


def test_tracking_error_matches_by_stamp():
    physical = _trajectory(100)
    shifted = _trajectory(100, offset=0.25)[::2]
    result = match_trajectories(physical, shifted)
    assert result['matched'] == 50
    assert result['mean_error_m'] == pytest.approx(0.25)
    assert match_trajectories(physical, np.zeros((0, 4)))['matched'] == 0


def test_json_safe_and_report_dir():
    assert json_safe({'a': np.float64(1.5), 'b': [float('inf')], 'c': np.arange(2)}) == \
        {'a': 1.5, 'b': [None], 'c': [0, 1]}
    path = default_report_dir('reports', now=dt.datetime(2026, 11, 25, 9, 30, 1))
    assert str(path) == 'reports/demo-20261125-093001'


def test_bridge_counts_ignores_non_numeric_values():
    counts = bridge_counts({'x: odom': {'values': {'received': 'n/a', 'rejected': '2'}},
                            'x: other': {'values': {'kind': 'input'}}})
    assert counts == {'odom': {'rejected': 2}}


BRIDGE_LOG = """[INFO] [1795599198.3] [twin_bridge]: summary:
  joint_states: received=626 accepted=620 rejected=6 (non_finite=4, stamp_backwards=2); rate=100 Hz
  odom: received=313 accepted=313 rejected=0; rate=50.0 Hz; age ms p50=0.872
  virtual/scan: published=125; rate=20.0 Hz; latency ms p50=7.154
[INFO] [1795599198.4] [twin_bridge]: odom: received=1 means nothing here
"""


def test_counts_from_the_bridge_shutdown_summary():
    counts = counts_from_summary(BRIDGE_LOG)
    assert counts['joint_states'] == {'received': 626, 'accepted': 620, 'rejected': 6}
    assert counts['odom'] == {'received': 313, 'accepted': 313, 'rejected': 0}
    assert counts['virtual/scan'] == {'published': 125}
    assert counts_from_summary('cannot start: world not found') == {}


def test_table_notes_explain_every_dash():
    js, scan = _streams()
    assert stream_table_notes([js]) == []  # nothing unknown, nothing to explain
    notes = stream_table_notes([js, scan])
    assert len(notes) == 1 and 'scan' in notes[0] and 'no physical input' in notes[0]
    js.rejections = None  # e.g. stopped before the bridge reported anything
    empty = stream_figures('odom', LatencyStats(10, None), LatencyStats(10, None))
    notes = stream_table_notes([js, empty, scan])
    assert any('rejected for joint_states, odom: unknown' in n for n in notes)
    assert any('no output received' in n for n in notes)
