"""Tests for learning.noise_fit and twin_fit_noise: a lidar noise model fitted to a bag."""

from dataclasses import replace

import numpy as np
import pytest

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.errors import ConfigError
from twin_bridge.learning.noise_fit import (
    estimate_dropout,
    fit_lidar_noise_from_bag,
    load_noise_file,
)
from twin_bridge.learning.noise_fit_cli import main as fit_main
from twin_bridge.learning.sensor_noise import LidarNoise, ks_distance
from twin_bridge.recording import samples as bs
from twin_bridge.recording.bag_reader import BagError, BagReader
from twin_bridge.recording.bag_writer import BagWriter
from twin_bridge.recording.replay import ReplayOptions, replay
from twin_bridge.recording.synthetic import synthesize_bag

#: Added to the stand-in's own lidar (Gaussian, 0.01 m): heavy tails and dropouts.
EXTRA = LidarNoise(outlier_fraction=0.12, outlier_stddev=0.15, dropout=0.04)


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def _with_extra_noise(src, dst, noise, seed=11):
    """Copy bag ``src`` to ``dst`` with ``noise`` applied to every /scan."""
    rng = np.random.default_rng(seed)
    writer = BagWriter(dst)
    with BagReader(src) as reader:
        handles = {t: writer.add_topic(t, m, reader.offered_qos(t))
                   for t, m in reader.topics.items()}
        for msg in reader.messages():
            data = msg.data
            if msg.topic == '/scan':
                scan = bs.scan_sample(bs.decode(msg.data, msg.msgtype))
                noisy = noise.apply(scan.ranges, rng, scan.range_max, range_min=scan.range_min)
                data = bs.encode_scan(replace(scan, ranges=noisy), scan.stamp_ns)
            writer.write(handles[msg.topic], msg.log_time_ns, data)
    writer.close()
    return dst


def test_the_fit_to_a_replayed_recording_matches_its_residuals(robot, tmp_path):
    bag = synthesize_bag(tmp_path / 'bag', robot, seconds=3.0,
                         faults=['scan_noise:stddev=0.02', 'range_bias:m=0.03'])
    fit = fit_lidar_noise_from_bag(bag)
    assert fit.source == 'replay' and fit.scans == 31 and fit.residuals.size > 10_000
    assert fit.noise.range_bias == pytest.approx(0.03, abs=0.002)
    assert fit.noise.range_stddev == pytest.approx(np.hypot(0.01, 0.02), rel=0.05)
    drawn = fit.noise.sample_residuals(fit.residuals.size, np.random.default_rng(1))
    assert ks_distance(drawn, fit.residuals) <= 0.05
    assert fit.ks <= 0.05


def test_heavy_tails_and_dropouts_are_fitted_from_a_recording(robot, tmp_path):
    clean = synthesize_bag(tmp_path / 'clean', robot, seconds=3.0)
    bag = _with_extra_noise(clean, tmp_path / 'noisy', EXTRA)
    fit = fit_lidar_noise_from_bag(bag)
    noise = fit.noise
    drawn = noise.sample_residuals(fit.residuals.size, np.random.default_rng(2))
    assert ks_distance(drawn, fit.residuals) <= 0.05
    gaussian = np.random.default_rng(2).normal(fit.residuals.mean(), fit.residuals.std(),
                                               fit.residuals.size)
    assert ks_distance(gaussian, fit.residuals) > 0.05  # a Gaussian alone would not do
    assert noise.outlier_fraction == pytest.approx(0.12, abs=0.03)
    assert noise.dropout == pytest.approx(0.04, abs=0.01)
    assert noise.range_stddev == pytest.approx(0.01, rel=0.15)


def test_a_recorded_residual_topic_is_used_as_recorded(robot, tmp_path):
    bag = synthesize_bag(tmp_path / 'bag', robot, seconds=2.0, faults=['scan_noise:stddev=0.02'])
    replay(bag, ReplayOptions(prediction_rate=0.0, output_bag=tmp_path / 'out'))
    recorded = fit_lidar_noise_from_bag(tmp_path / 'out')
    replayed = fit_lidar_noise_from_bag(tmp_path / 'out', use_recorded=False)
    assert recorded.source == '/virtual/scan_residual' and replayed.source == 'replay'
    assert recorded.residuals.size == replayed.residuals.size
    assert recorded.noise.range_stddev == pytest.approx(replayed.noise.range_stddev, rel=1e-4)


def test_estimate_dropout_counts_isolated_misses_only():
    scan = np.array([1.0, np.inf, 1.0, 1.0, 1.0, np.inf, np.inf, 1.0])
    assert estimate_dropout([scan]) == (1, 2)


def test_the_cli_writes_a_yaml_the_model_loads_from(robot, tmp_path, capsys):
    bag = synthesize_bag(tmp_path / 'bag', robot, seconds=2.0, faults=['scan_noise:stddev=0.02'])
    out = tmp_path / 'noise.yaml'
    assert fit_main([str(bag), '-o', str(out)]) == 0
    noise = load_noise_file(out)
    assert noise.range_stddev == pytest.approx(np.hypot(0.01, 0.02), rel=0.06)
    assert 'KS distance' in capsys.readouterr().out
    assert fit_main([str(tmp_path / 'missing'), '-o', str(out)]) == 1
    assert 'no such bag' in capsys.readouterr().err


def test_bad_bags_and_noise_files_name_what_is_wrong(robot, tmp_path):
    bag = tmp_path / 'noscan'
    writer = BagWriter(bag)
    writer.add_topic('/odom', bs.ODOMETRY)
    writer.close()
    with pytest.raises(BagError, match='no /scan'):
        fit_lidar_noise_from_bag(bag)
    bad = tmp_path / 'bad.yaml'
    bad.write_text('lidar_noise: {range_stddev: 0.1, dropouts: 0.2}\n')
    with pytest.raises(ConfigError, match='bad.yaml: lidar_noise: unknown key.*dropouts'):
        load_noise_file(bad)
    bad.write_text('lidar_noise: [\n')
    with pytest.raises(ConfigError, match='bad.yaml'):
        load_noise_file(bad)
