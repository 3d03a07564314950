"""The seed's SyntheticDataGenerator and AITrainingPipeline.collect_training_data, and the
example that uses them (examples/synthetic_lidar_data.py)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scan_room import ROOM, SEARCH

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.errors import ConfigError
from twin_bridge.learning.sensor_noise import LidarNoise
from twin_bridge.learning.training_data import AITrainingPipeline, SyntheticDataGenerator
from twin_bridge.recording.synthetic import synthesize_bag

EXAMPLE = Path(__file__).resolve().parent.parent / 'examples' / 'synthetic_lidar_data.py'
ROOM_CONFIG = {'world': str(ROOM), 'search_path': [str(p) for p in SEARCH]}


def test_generate_training_data_returns_labelled_scans_in_memory():
    generator = SyntheticDataGenerator(ROOM_CONFIG)
    samples = generator.generate_training_data(4, seed=2)
    assert [s.index for s in samples] == [0, 1, 2, 3]
    assert all(s.ranges.shape == (720,) and np.all(s.hit >= 0) for s in samples)
    again = generator.generate_training_data(4, seed=2)
    np.testing.assert_array_equal(samples[3].ranges, again[3].ranges)
    noisy = generator.with_noise(LidarNoise(range_bias=0.5)).generate_training_data(1, seed=2)
    np.testing.assert_allclose(noisy[0].ranges, samples[0].true_ranges + 0.5, atol=1e-5)
    with pytest.raises(ConfigError, match='wrld'):
        SyntheticDataGenerator({'wrld': 'warehouse'})


def test_collect_training_data_carries_the_noise_fitted_to_the_physical_bag(tmp_path):
    bag = synthesize_bag(tmp_path / 'physical', load_robot_description(default_robot_path()),
                         seconds=2.0, faults=['range_bias:m=0.05'])
    data = AITrainingPipeline().collect_training_data(tmp_path / 'out', 5, physical_bag=bag)
    assert data.samples == 5 and data.noise_fit.noise.range_bias == pytest.approx(0.05, abs=0.003)
    table = pq.read_table(data.parquet).to_pylist()
    assert len(table) == 5
    for row in table:
        assert json.loads(row['noise']) == data.noise_fit.noise.to_mapping()
        noisy, true = np.array(row['ranges']), np.array(row['true_ranges'])
        both = np.isfinite(noisy) & np.isfinite(true)
        assert np.mean(noisy[both] - true[both]) == pytest.approx(0.05, abs=0.003)
    assert (data.mcap / 'metadata.yaml').is_file()


def test_the_example_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('synthetic_lidar_data', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(['--samples', '20', '--out', str(tmp_path / 'out')]) == 0
    out = capsys.readouterr().out
    assert 'bias 3.0' in out or 'bias 2.9' in out
    assert '20 samples' in out and 'outer_walls' in out
    assert pq.read_table(tmp_path / 'out' / 'synthetic.parquet').num_rows == 20
