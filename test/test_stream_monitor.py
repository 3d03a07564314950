"""Tests for twin_bridge.twin.stream_monitor: counts, staleness levels, recovery, status values."""

import pytest

from twin_bridge.twin.stream_monitor import Level, StreamMonitor


def test_input_counts_rejections_and_rate():
    m = StreamMonitor('joint_states', stale_timeout=0.5, start_time=0.0)
    for i in range(20):
        m.record_received()
        if i % 5 == 0:
            m.record_rejected('non_finite')
        else:
            m.record_good(i * 0.01, latency_s=0.002)
    m.record_received()
    m.record_rejected('unknown_joint')
    status = m.status(0.2)
    assert status.level is Level.OK and status.message == 'ok'
    assert status.counts == {'received': 21, 'accepted': 16, 'rejected': 5,
                             'rejected.non_finite': 4, 'rejected.unknown_joint': 1,
                             'stale_events': 0}
    assert status.summary.rate_hz == pytest.approx(100.0 * 15 / 18)
    assert status.summary.p50 == pytest.approx(0.002)
    assert not status.stale
    values = dict(status.values)                 # the same figures as diagnostic strings
    assert values['received'] == '21' and values['rejected.non_finite'] == '4'
    assert values['age_ms.p50'] == '2.000' and values['stale'] == 'false'
    assert values['rate_hz'] == f'{100.0 * 15 / 18:.2f}'


def test_never_received_is_waiting_then_error():
    m = StreamMonitor('odom', stale_timeout=0.5, error_factor=4.0, start_time=10.0)
    assert m.level(10.1) == (Level.WARN, 'waiting for the first sample')
    level, message = m.level(12.5)
    assert level is Level.ERROR and 'no accepted sample in 2.5 s since start' in message
    assert not m.poll(12.5)          # never received is not a "went stale" event
    assert not m.status(12.5).stale


def test_stale_warn_error_and_recovery():
    m = StreamMonitor('odom', stale_timeout=0.5, error_factor=4.0)
    m.record_good(1.0, 0.001)
    assert m.level(1.4)[0] is Level.OK and not m.poll(1.4)
    assert m.level(1.6)[0] is Level.WARN
    assert m.poll(1.6) and m.stale and m.stale_events == 1
    assert not m.poll(1.7)                       # reported once per stale period
    level, message = m.level(3.1)
    assert level is Level.ERROR and 'stale: no accepted sample for 2.10 s' in message
    assert m.status(3.1).stale and dict(m.status(3.1).values)['stale'] == 'true'
    m.record_rejected('non_finite')              # a rejected sample does not recover it
    assert m.level(3.2)[0] is Level.ERROR
    assert m.record_good(3.3, 0.001)             # the next good one does
    assert m.level(3.3) == (Level.OK, 'ok') and not m.stale
    assert not m.record_good(3.4, 0.001)
    assert m.status(3.4).counts['stale_events'] == 1


def test_output_without_timeout_counts_published_and_latency():
    m = StreamMonitor('virtual/odom', kind='output')
    assert m.level(100.0) == (Level.OK, 'no data yet')
    m.record_good(1.0, 0.0005)
    m.record_good(1.1, 0.0015)
    status = m.status(1.1)
    assert status.counts == {'published': 2, 'stale_events': 0}
    assert status.summary.max == pytest.approx(0.0015)
    assert status.summary.min == pytest.approx(0.0005)
    assert dict(status.values)['latency_ms.max'] == '1.500'
    assert m.level(1000.0)[0] is Level.OK        # no timeout: never stale
    line = m.summary_line(1.1)
    assert line.startswith('virtual/odom: published=2') and 'max=1.500' in line


def test_summary_line_lists_rejections():
    m = StreamMonitor('joint_states', stale_timeout=1.0)
    m.record_received()
    m.record_rejected('duplicate_joint')
    line = m.summary_line(0.0)
    assert 'received=1 accepted=0 rejected=1 (duplicate_joint=1)' in line


def test_bad_arguments():
    with pytest.raises(ValueError, match='kind'):
        StreamMonitor('x', kind='sideways')
    with pytest.raises(ValueError, match='stale_timeout'):
        StreamMonitor('x', stale_timeout=0.0)
    with pytest.raises(ValueError, match='error_factor'):
        StreamMonitor('x', stale_timeout=1.0, error_factor=0.5)
