"""report.png's drift panels and the demo's drift record, from a fake observer."""

import json

import numpy as np
import pytest

from twin_bridge.demo.drift_record import analysis_topics, collect_drift
from twin_bridge.demo.report import write_report
from twin_bridge.demo.report_drift import residual_image
from twin_bridge.stand_in.faults import parse_faults

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
T0 = 1_700_000_000.0
LOG = '[INFO] [1699999998.000000000] [physical_sim]: injecting fault pose_offset dx=0.05\n'


class _FakeObserver:
    """The observer's analysis records for a 4 s run with a pose fault at 1 s."""

    def __init__(self, beams=90):
        times = T0 + np.arange(-1.0, 4.0, 0.25)
        pose = [(t, 2 if t - T0 >= 1.2 else 0,
                 {'dx': '-0.05', 'dy': '0.0', 'dyaw_deg': '-2.0'} if t - T0 >= 1.2 else {})
                for t in times]
        self._histories = {'twin drift: pose': pose,
                           **{f'twin drift: {c}': [(t, 0, {}) for t in times]
                              for c in ('world', 'lidar', 'wheels')}}
        self.diagnostics = {'twin drift: check': {'level': 0, 'values': {'checked': '80'}},
                            'twin prediction': {'level': 0, 'values': {
                                'error_1s_p50_m': '0.01', 'error_1s_p95_m': '0.02'}}}
        rng = np.random.default_rng(0)
        self._residuals = []
        for t in np.arange(-1.0, 4.0, 0.05):
            r = rng.normal(0.0, 0.01, beams) + (0.1 * np.sin(np.arange(beams) / 9)
                                                 if t >= 1.0 else 0.0)
            r[::17] = np.nan
            self._residuals.append((T0 + t, -np.pi, 2 * np.pi / beams, r.astype(np.float32)))
        stamps = T0 + np.arange(0.0, 4.0, 0.02)
        self.actual = np.column_stack([stamps, stamps, np.cos(stamps - T0),
                                       np.sin(2 * (stamps - T0))])
        path_stamps = T0 + np.arange(-0.5, 3.5, 0.1)
        ahead = path_stamps + 1.0
        self._predictions = np.column_stack([path_stamps, ahead, np.cos(ahead - T0) + 0.01,
                                             np.sin(2 * (ahead - T0))])
        lead = np.linspace(0.0, 1.0, 21)
        self._paths = [(s, np.column_stack([lead, np.cos(s - T0 + lead),
                                            np.sin(2 * (s - T0 + lead))]))
                       for s in path_stamps[::5]]

    streams = {}  # no physical/odom: the start comes from the log line

    def status_history(self, name):
        return self._histories.get(name, [])

    def residuals(self):
        return self._residuals

    def predictions(self):
        return self._predictions

    def predicted_paths(self):
        return self._paths


def _record(node=None):
    node = node or _FakeObserver()
    faults = parse_faults(['pose_offset:dx=0.05,dyaw_deg=2,at=3'])
    return collect_drift(node, faults, LOG, T0, node.actual)


def test_collect_drift_times_scores_and_summarises():
    drift = _record()
    assert drift.checked
    assert drift.onsets[0].onset_s == pytest.approx(1.0)  # started 2 s before T0, at=3
    pose = drift.summary['causes']['pose']
    assert pose['first_error_s'] == pytest.approx(1.25)
    assert pose['detected_after_onset_s'] == pytest.approx(0.25)
    assert pose['estimate_at_detection'] == {'dx': -0.05, 'dy': 0.0, 'dyaw_deg': -2.0}
    prediction = drift.summary['prediction']
    assert prediction['count'] == len(drift.errors) > 20  # the ones inside the odometry
    assert prediction['p50_m'] == pytest.approx(0.01, abs=1e-3)
    assert prediction['node'] == {'error_1s_p50_m': '0.01', 'error_1s_p95_m': '0.02'}
    assert drift.summary['check'] == {'checked': '80'}


def test_analysis_topics_follow_the_bridge_parameters():
    assert analysis_topics({})['residual_topic'] == 'virtual/scan_residual'
    topics = analysis_topics({'output_predicted_path_topic': 'twin/path'})
    assert topics['predicted_path_topic'] == 'twin/path' and topics['prediction_lead_s'] == 1.0


def test_residual_image_keeps_the_latest_layout():
    rows = [(2.0, -1.0, 0.5, np.zeros(5)), (1.0, -1.0, 0.5, np.ones(5)),
            (1.5, -1.0, 0.25, np.ones(9))]
    assert residual_image([]) is None
    times, angles, data = residual_image(rows)
    assert times.tolist() == [1.5] and len(angles) == 9 and data.shape == (1, 9)
    times, angles, data = residual_image(rows[:2])
    assert times.tolist() == [1.0, 2.0] and angles.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert data[:, 0].tolist() == [1.0, 0.0]


def test_report_png_gets_the_drift_panels(tmp_path):
    drift = _record()
    document = {'schema': 'x', 'drift': drift.summary}
    trajectories = {'virtual/odom': drift.actual}
    json_path, png_path = write_report(tmp_path / 'with', document, (), trajectories,
                                       drift=drift)
    assert png_path.read_bytes().startswith(PNG_MAGIC)
    assert json.loads(json_path.read_text())['drift']['causes']['pose']['final_level'] == 'ERROR'
    _, plain = write_report(tmp_path / 'without', document, (), trajectories)
    from matplotlib.image import imread
    assert imread(png_path).shape[0] > imread(plain).shape[0]  # a row of panels more


def test_drift_panels_survive_missing_data(tmp_path):
    node = _FakeObserver()
    node._residuals, node._predictions, node._paths = [], np.zeros((0, 4)), []
    drift = collect_drift(node, [], '', T0, np.zeros((0, 4)))
    assert drift.summary['prediction']['count'] == 0
    _, png_path = write_report(tmp_path, {}, (), {'virtual/odom': np.zeros((0, 4))},
                               drift=drift)
    assert png_path.read_bytes().startswith(PNG_MAGIC)
