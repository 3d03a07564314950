"""Tests for the synthetic lidar-data generator: labels against analytic ground truth,
the MCAP and Parquet files read back without twin_bridge, determinism, bad configs, Ctrl-C."""

import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
import numpy as np
import pyarrow.parquet as pq
import pytest
from rosbags.rosbag2 import Reader
from scan_room import BOXES, CIRCLES, ROOM, SEARCH
import yaml

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.errors import ConfigError, ResourceNotFoundError
from twin_bridge.learning.noise_fit_cli import main as fit_main
from twin_bridge.learning.synthetic_cli import main as synth_main
from twin_bridge.learning.synthetic_cli import write_dataset
from twin_bridge.learning.synthetic_config import SyntheticConfig, load_synthetic_config
from twin_bridge.learning.synthetic_data import SyntheticScanGenerator

#: label (model, link) -> the analytic shapes it is made of (index into BOXES / CIRCLES)
SHAPES = {('room', 'east'): [('box', 0)], ('room', 'west'): [('box', 1)],
          ('room', 'long_walls'): [('box', 2), ('box', 3)], ('room', 'pillar'): [('circle', 0)],
          ('slim_pillar', 'link'): [('circle', 1)], ('cube', 'link'): [('box', 4)]}
MOVED = {('box', 4): 'cube', ('circle', 1): 'slim_pillar'}


def _room_config(**extra):
    cfg = {'world': str(ROOM), 'search_path': [str(p) for p in SEARCH], 'samples': 6,
           'seed': 3, 'layout_every': 2,
           'move_obstacles': {'names': ['cube', 'slim_pillar'], 'max_shift': 0.25},
           'lidar_noise': {'range_stddev': [0.005, 0.01], 'dropout': 0.02}}
    cfg.update(extra)
    return SyntheticConfig.from_mapping(cfg)


def _distance(shape, shifts, origin, angles):
    """Distance along each heading from ``origin`` to one analytic shape, moved as labelled."""
    kind, k = shape
    dx, dy = shifts.get(MOVED.get(shape, ''), (0.0, 0.0))
    cx, cy = np.cos(angles), np.sin(angles)
    with np.errstate(divide='ignore', invalid='ignore'):
        if kind == 'box':
            xmin, xmax, ymin, ymax = BOXES[k]
            tx1, tx2 = (xmin + dx - origin[0]) / cx, (xmax + dx - origin[0]) / cx
            ty1, ty2 = (ymin + dy - origin[1]) / cy, (ymax + dy - origin[1]) / cy
            near = np.maximum(np.minimum(tx1, tx2), np.minimum(ty1, ty2))
            far = np.minimum(np.maximum(tx1, tx2), np.maximum(ty1, ty2))
            return np.where((near <= far) & (near > 0), near, np.inf)
    x, y, r = CIRCLES[k]
    ox, oy = origin[0] - x - dx, origin[1] - y - dy
    b = ox * cx + oy * cy
    disc = b * b - (ox * ox + oy * oy - r * r)
    t = -b - np.sqrt(np.maximum(disc, 0.0))
    return np.where((disc >= 0) & (t > 0), t, np.inf)


def test_labels_name_the_object_at_the_analytic_range(tmp_path):
    config = _room_config()
    write_dataset(config, mcap=tmp_path / 'bag', parquet=tmp_path / 'data.parquet')
    table = pq.read_table(tmp_path / 'data.parquet')
    info = json.loads(table.schema.metadata[b'twin_bridge'])
    assert table.num_rows == 6 and info['samples_per_scan'] == 720
    angles = info['angle_min'] + info['angle_increment'] * np.arange(720)
    seen = set()
    for row in table.to_pylist():
        shifts = {k: tuple(v) for k, v in json.loads(row['shifts']).items()}
        assert set(shifts) == {'cube', 'slim_pillar'}
        assert all(abs(v) <= 0.25 for s in shifts.values() for v in s)
        origin = np.array([row['lidar_x'], row['lidar_y']])
        headings = angles + row['lidar_yaw']
        true = np.array(row['true_ranges'])
        labels = list(zip(row['hit_model'], row['hit_link'], strict=True))
        nearest = np.min([_distance(s, shifts, origin, headings)
                          for shapes in SHAPES.values() for s in shapes], axis=0)
        np.testing.assert_allclose(true, nearest, atol=1e-3)  # exact cast, shifted world
        for label, shapes in SHAPES.items():
            beams = np.array([lab == label for lab in labels])
            if not beams.any():
                continue
            seen.add(label)
            own = np.min([_distance(s, shifts, origin, headings[beams]) for s in shapes],
                         axis=0)
            np.testing.assert_allclose(true[beams], own, atol=1e-3, err_msg=str(label))
        assert all(lab in SHAPES for lab in labels)  # the closed room: every beam hits
        noisy = np.array(row['ranges'])
        hit = np.isfinite(noisy)
        assert 0.9 < hit.mean() < 1.0  # 2 % dropouts
        err = noisy[hit] - true[hit]
        assert 0.003 < err.std() < 0.012
    assert {('room', 'long_walls'), ('room', 'east'), ('room', 'west')} <= seen
    assert len(seen) >= 4


def test_the_bag_reads_back_with_mcap_and_rosbags(tmp_path):
    write_dataset(_room_config(samples=4), mcap=tmp_path / 'bag',
                  parquet=tmp_path / 'data.parquet')
    rows = pq.read_table(tmp_path / 'data.parquet').to_pylist()
    meta = yaml.safe_load((tmp_path / 'bag' / 'metadata.yaml').read_text())
    topics = {t['topic_metadata']['name']: t for t in
              meta['rosbag2_bagfile_information']['topics_with_message_count']}
    assert {n: t['message_count'] for n, t in topics.items()} == \
        {'/scan': 4, '/scan_exact': 4, '/pose': 4, '/labels': 4}
    assert 'best_effort' in str(topics['/scan']['topic_metadata']['offered_qos_profiles'])
    (mcap_file,) = (tmp_path / 'bag').glob('*.mcap')
    with open(mcap_file, 'rb') as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        msgs = {}
        for _, channel, _, msg in reader.iter_decoded_messages():
            msgs.setdefault(channel.topic, []).append(msg)
    for row, scan, pose, label in zip(rows, msgs['/scan'], msgs['/pose'], msgs['/labels'],
                                      strict=True):
        np.testing.assert_array_equal(np.array(scan.ranges, dtype=np.float32),
                                      np.array(row['ranges'], dtype=np.float32))
        assert scan.header.stamp.sec * 10**9 + scan.header.stamp.nanosec == row['stamp_ns']
        assert pose.header.frame_id == 'map'
        assert (pose.pose.position.x, pose.pose.position.y) == pytest.approx((row['x'], row['y']))
        assert 2 * np.arctan2(pose.pose.orientation.z, pose.pose.orientation.w) == \
            pytest.approx(row['yaw'])
        doc = json.loads(label.data)
        names = [tuple(doc['targets'][i]) if i >= 0 else ('', '') for i in doc['beam_target']]
        assert names == list(zip(row['hit_model'], row['hit_link'], strict=True))
    with Reader(tmp_path / 'bag') as bag:
        assert {c.topic: c.msgtype for c in bag.connections}['/pose'] == \
            'geometry_msgs/msg/PoseStamped'
        assert sum(1 for _ in bag.messages()) == 16


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not(tmp_path):
    def ranges(seed):
        g = SyntheticScanGenerator(_room_config(samples=3, seed=seed))
        return [(s.pose.copy(), s.ranges.copy(), s.hit.copy()) for s in g]
    a, b, c = ranges(5), ranges(5), ranges(6)
    for (pa, ra, ha), (pb, rb, hb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(ra, rb)
        np.testing.assert_array_equal(ha, hb)
    assert not np.array_equal(a[0][0], c[0][0])


@pytest.mark.parametrize(('cfg', 'match'), [
    ({'sampels': 3}, 'unknown key.*sampels'),
    ({'samples': 0}, 'samples: expected an integer >= 1'),
    ({'lidar_noise': {'range_stdev': 0.1}}, "lidar_noise: unknown key 'range_stdev'"),
    ({'lidar_noise': {'dropout': [0.5, 2.0]}}, 'lidar_noise.*dropout.*<= 1'),
    ({'lidar_noise': {'range_stddev': float('nan')}}, 'lidar_noise.range_stddev: expected a '
                                                      'finite'),
    ({'move_obstacles': {'names': ['cube'], 'shift': 1}}, 'move_obstacles: unknown key.*shift'),
    ({'bounds': [1, 0, 0, 1]}, 'bounds: expected xmin < xmax'),
    ({'clearance': -1}, 'clearance: must be >= 0'),
])
def test_bad_configs_name_the_key(cfg, match):
    with pytest.raises(ConfigError, match=match):
        SyntheticConfig.from_mapping(cfg)


def test_bad_worlds_obstacles_and_bounds_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="move_obstacles: names: no obstacle 'shelf'.*cube"):
        SyntheticScanGenerator(_room_config(move_obstacles={'names': ['shelf'],
                                                            'max_shift': 1}))
    no_lidar = load_robot_description(default_robot_path(), {'lidar': 'false'})
    with pytest.raises(ConfigError, match='robot: .*has no lidar'):
        SyntheticScanGenerator(_room_config(), no_lidar)
    with pytest.raises(ResourceNotFoundError, match='no_such_world'):
        SyntheticScanGenerator(_room_config(world='no_such_world'))
    walled_in = SyntheticScanGenerator(_room_config(bounds=[4.05, 4.15, -1, 1]))
    with pytest.raises(ConfigError, match='bounds: no robot pose'):
        walled_in.next_sample()
    path = tmp_path / 'synth.yaml'
    path.write_text('samples: 2\nlidar_noise: {dropouts: 0.1}\n')
    with pytest.raises(ConfigError, match='synth.yaml: lidar_noise: unknown key'):
        load_synthetic_config(path)
    assert synth_main(['--config', str(path), '--parquet', str(tmp_path / 'x.parquet'),
                       '--no-progress']) == 1


def test_ctrl_c_stops_after_the_current_sample_and_leaves_valid_files(tmp_path):
    def interrupt(sample):
        if sample.index == 2:
            os.kill(os.getpid(), signal.SIGINT)
    result = write_dataset(_room_config(samples=50), mcap=tmp_path / 'bag',
                           parquet=tmp_path / 'data.parquet', on_sample=interrupt)
    assert result.interrupted and result.count == 3
    assert pq.read_table(tmp_path / 'data.parquet').num_rows == 3
    with Reader(tmp_path / 'bag') as bag:
        assert sum(1 for c, _, _ in bag.messages() if c.topic == '/scan') == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_cli_writes_both_files(tmp_path, capsys):
    path = tmp_path / 'synth.yaml'
    path.write_text(yaml.safe_dump({'world': str(ROOM), 'search_path': [str(p) for p in SEARCH],
                                    'samples': 2}))
    assert synth_main(['--config', str(path), '-n', '3', '--mcap', str(tmp_path / 'bag'),
                       '--parquet', str(tmp_path / 'd.parquet'), '--no-progress']) == 0
    assert '3 samples written' in capsys.readouterr().out
    assert pq.read_table(tmp_path / 'd.parquet').num_rows == 3


def test_the_shipped_config_loads_and_generates_in_the_warehouse():
    config = load_synthetic_config(Path(__file__).resolve().parent.parent / 'config'
                                   / 'synthetic_data.yaml').replace(samples=3)
    samples = list(SyntheticScanGenerator(config))
    assert len(samples) == 3 and len({s.layout for s in samples}) == 3
    assert all(len(s.shifts) == 7 and np.mean(s.hit >= 0) > 0.9 for s in samples)


def test_twin_synth_process_stops_cleanly_on_sigint(tmp_path):
    config = tmp_path / 'c.yaml'  # the scan room's model:// path
    config.write_text(yaml.safe_dump({'search_path': [str(p) for p in SEARCH]}))
    cmd = [sys.executable, '-m', 'twin_bridge.learning.synthetic_cli', '-n', '1000000',
           '--world', str(ROOM), '--config', str(config), '--mcap', str(tmp_path / 'bag'),
           '--parquet', str(tmp_path / 'd.parquet')]
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        seen = ''
        while not any(int(n) > 0 for n in re.findall(r'(\d+)/1000000', seen[-200:])):
            assert time.monotonic() < deadline and proc.poll() is None, seen[-500:]
            seen += proc.stderr.read(1)  # the tqdm bar: wait until samples are written
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-500:]
    assert 'interrupted' in err and 'files closed and valid' in err
    rows = pq.read_table(tmp_path / 'd.parquet').num_rows
    with Reader(tmp_path / 'bag') as bag:
        scans = sum(1 for c, _, _ in bag.messages() if c.topic == '/scan')
    assert 0 < rows == scans < 1_000_000


def test_the_clis_have_help(capsys):
    for cli in (synth_main, fit_main):
        with pytest.raises(SystemExit) as exc:
            cli(['--help'])
        assert exc.value.code == 0
    assert 'twin_fit_noise' in capsys.readouterr().out
