"""The demo's view of drift: timelines from recorded statuses, onsets, progress and table."""

import pytest

from twin_bridge.demo.drift_view import (
    drift_progress,
    drift_summary,
    drift_table,
    drift_timelines,
    fault_onsets,
    numeric_values,
    physical_start_from_log,
)
from twin_bridge.stand_in.faults import parse_faults

T0 = 1_700_000_000.0
POSE = {'dx': '-0.0498', 'dy': '0.001', 'dyaw_deg': '-2.01', 'x': '1.5'}


def _history(levels, values=POSE, period=0.25, start=-1.0):
    """Statuses of one cause at ``period`` s from ``start`` s after T0."""
    return [(T0 + start + i * period, level, values if level else {})
            for i, level in enumerate(levels)]


def _timelines(pose_levels):
    histories = {'twin drift: pose': _history(pose_levels),
                 'twin drift: world': _history([0] * len(pose_levels))}
    return drift_timelines(histories, T0)


def test_numeric_values_keep_numbers_only():
    assert numeric_values({'dx': '0.05', 'name': 'shelf', 'n': 3, 'inf': 'inf'}) == {
        'dx': 0.05, 'n': 3.0, 'inf': float('inf')}


def test_timelines_are_relative_sorted_and_cover_every_cause():
    histories = {'twin drift: pose': list(reversed(_history([0, 1, 2, 2])))}
    tl = drift_timelines(histories, T0)
    assert list(tl) == ['pose', 'world', 'lidar', 'wheels']
    pose = tl['pose']
    assert pose.times.tolist() == pytest.approx([-1.0, -0.75, -0.5, -0.25])
    assert pose.levels.tolist() == [0, 1, 2, 2]
    assert pose.first_time(1) == pytest.approx(-0.75)
    assert pose.first_time(2) == pytest.approx(-0.5)
    assert pose.final_level == 2 and pose.final_estimate['dx'] == pytest.approx(-0.0498)
    assert len(tl['lidar'].times) == 0 and tl['lidar'].final_level == 0
    assert tl['lidar'].first_time(2) is None and tl['lidar'].final_estimate == {}


def test_detection_is_the_error_episode_that_covers_or_follows_the_onset():
    # t: -1.0 -0.75 -0.5 -0.25 0.0 0.25 0.5 0.75 1.0
    pose = _timelines([2, 0, 0, 0, 1, 2, 2, 0, 2])['pose']
    assert pose.detection(None) == 0  # no onset: the first ERROR
    assert pose.detection(-0.1) == 5  # the false alarm at -1.0 cleared before the onset
    # Detected a little before a roughly known onset: that episode counts.
    assert pose.detection(0.3) == 5
    assert pose.detection(0.9) == 8
    assert pose.detection(2.0) == 8  # an alarm still on at the onset covers it
    assert _timelines([0, 0, 2, 0, 0])['pose'].detection(-0.1) is None  # cleared before


def test_fault_onsets_from_physical_sims_log_line():
    log = ('[INFO] [1700000001.500000000] [physical_sim]: publishing (...) motion=figure_eight\n'
           '[INFO] [1700000001.501000000] [physical_sim]: injecting fault pose_offset '
           'dx=0.05 from t=3 s\n')
    start = physical_start_from_log(log)
    assert start == pytest.approx(T0 + 1.5)
    assert physical_start_from_log('no such line') is None
    faults = parse_faults(['pose_offset:dx=0.05,dyaw_deg=2,at=3', 'scan_noise:stddev=0.01'])
    pose, noise = fault_onsets(faults, start, T0 + 2.0)
    assert pose.cause == 'pose' and pose.at == 3.0 and pose.onset_s == pytest.approx(2.5)
    assert pose.description == 'pose_offset dx=0.05 dyaw_deg=2'
    assert noise.cause is None  # noise is not a drift
    assert fault_onsets(faults, None, T0)[0].onset_s is None


def test_progress_names_the_raised_causes_or_says_ok():
    assert drift_progress({}) is None  # the twin runs no drift check
    statuses = {f'twin drift: {c}': {'level': 0, 'values': {}}
                for c in ('pose', 'world', 'lidar', 'wheels')}
    assert drift_progress(statuses) == 'drift: ok'
    statuses['twin drift: pose'] = {'level': 2, 'values': POSE}
    statuses['twin drift: wheels'] = {'level': 1, 'values': {'slip': '0.098'}}
    assert drift_progress(statuses) == (
        'drift: pose ERROR dx=-0.0498 dy=0.001 dyaw_deg=-2.01, wheels WARN slip=0.098')


def test_summary_and_table_time_the_detection_against_the_fault():
    timelines = _timelines([0, 0, 0, 0, 1, 2, 2, 2])  # ERROR from 0.25 s
    faults = parse_faults(['pose_offset:dx=0.05,dyaw_deg=2,at=3'])
    onsets = fault_onsets(faults, T0 - 3.0 + 0.1, T0)  # onset 0.1 s after the start
    prediction = {'count': 40, 'lead_s': 1.0, 'p50_m': 0.012, 'p95_m': 0.03, 'max_m': 0.04,
                  'node': {'error_1s_p50_m': '0.0138', 'error_1s_p95_m': '0.054',
                           'scored': '104'}}
    summary = drift_summary(timelines, onsets, prediction,
                            {'checked': '80', 'dropped': '0', 'overflow': '0'})
    pose = summary['causes']['pose']
    assert pose['expected'] and not summary['causes']['world']['expected']
    assert pose['first_warn_s'] == pytest.approx(0.0)
    assert pose['first_error_s'] == pytest.approx(0.25)
    assert pose['detected_after_onset_s'] == pytest.approx(0.15)
    assert pose['detected_at_most'] is False  # OK verdicts were seen after the onset
    assert pose['estimate_at_detection']['dyaw_deg'] == pytest.approx(-2.01)
    assert pose['final_level'] == 'ERROR'
    world = summary['causes']['world']
    assert world['onset_s'] == pytest.approx(0.1)  # timed against the only fault
    assert world['detected_after_onset_s'] is None and world['final_level'] == 'OK'
    assert summary['faults'] == [{'fault': 'pose_offset dx=0.05 dyaw_deg=2', 'cause': 'pose',
                                  'at_s': 3.0, 'onset_s': pytest.approx(0.1)}]
    text = drift_table(summary)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ['drift', 'fault']
    pose_row = next(line for line in lines if line.startswith('pose '))
    cells = pose_row.split()
    assert cells[1:6] == ['pose_offset', '0.00', '0.25', '0.15', 'ERROR']
    assert 'dx=-0.0498 dy=0.001 dyaw_deg=-2.01' in pose_row
    assert next(line for line in lines if line.startswith('lidar ')).split()[1:] == [
        '-', '-', '-', '-', 'OK', '-', '-']
    assert 'onset 0.10 s after the measurement start' in text
    assert 'p50 12.0 mm, p95 30.0 mm' in text and '(40 paths)' in text
    assert "node's own score, 104 scored): p50 13.8 mm, p95 54.0 mm" in text
    assert 'drift check: checked 80, dropped 0, overflow 0' in text


def test_table_says_when_nothing_could_be_scored_or_timed():
    timelines = drift_timelines({'twin drift: pose': _history([0, 2])}, T0)
    onsets = fault_onsets(parse_faults(['lidar_yaw:deg=2']), None, T0)
    summary = drift_summary(timelines, onsets, {'count': 0})
    assert summary['causes']['pose']['detected_after_onset_s'] is None
    assert summary['causes']['pose']['first_error_s'] == pytest.approx(-0.75)
    text = drift_table(summary)
    assert 'onset unknown' in text and 'no predicted path could be scored' in text
    raised = drift_timelines({'twin drift: pose': _history([2, 2])}, T0)  # from -1.0 s
    late = drift_summary(raised, fault_onsets(parse_faults(['pose_offset:dx=0.1,at=2']),
                                              T0 - 3.25, T0))  # onset 1.25 s before T0
    assert late['causes']['pose']['detected_at_most'] is True
    assert late['causes']['pose']['detected_after_onset_s'] == pytest.approx(0.25)
    pose_row = next(line for line in drift_table(late).splitlines() if line.startswith('pose'))
    assert '<=0.25' in pose_row and 'give a later at=' in drift_table(late)
    assert 'nan' not in text
