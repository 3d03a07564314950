"""Tests for replay: the twin over a synthesized physical robot's bag, as live."""

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
import pytest
from rosbags.rosbag2 import Reader

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.recording.bag_reader import BagError
from twin_bridge.recording.replay import ReplayOptions, replay
from twin_bridge.recording.replay_cli import main as replay_main
from twin_bridge.recording.replay_output import VIRTUAL_TOPICS
from twin_bridge.recording.synthetic import synthesize_bag
from twin_bridge.twin.digital_twin import DigitalTwin
from twin_bridge.twin.drift.monitor import CAUSES, Level


@pytest.fixture(scope='module')
def robot():
    return load_robot_description(default_robot_path())


def test_replay_gives_the_verdicts_of_the_twin_fed_directly(robot, tmp_path):
    twin = DigitalTwin('warehouse', robot)
    direct = []

    def step(t, stamp, js, odom, scan):
        checked = twin.drift_counts['checked']
        twin.update(joints=js, odometry=odom, scan=scan, now=t, wall_ns=stamp)
        if twin.drift_counts['checked'] > checked:
            report = twin.latest_report()
            direct.append((report.stamp_ns,
                           tuple(int(report.verdicts[c].level) for c in CAUSES)))

    try:
        bag = synthesize_bag(tmp_path / 'bag', robot, seconds=3.0,
                             faults=['pose_offset:dx=0.05,dyaw_deg=2,at=1'], on_step=step)
    finally:
        twin.close()
    result = replay(bag)
    assert len(direct) >= 25
    assert result.verdict_sequence() == direct
    alarms = result.first_alarms()
    assert 'pose' in alarms and 1.0 <= alarms['pose']['error_s'] <= 1.5
    assert result.drift[-1].levels['pose'] == Level.ERROR
    assert result.counts['odom'] == {'received': 151, 'rejected': 0}


def test_a_sqlite3_bag_replays_and_a_lidar_fault_is_named(robot, tmp_path):
    bag = synthesize_bag(tmp_path / 'db', robot, seconds=3.0, storage='sqlite3',
                         faults=['lidar_yaw:deg=2,at=1'])
    (db3,) = bag.glob('*.db3')
    result = replay(db3)
    assert result.drift[-1].levels['lidar'] == Level.ERROR
    assert result.drift[-1].estimates['lidar']['yaw_offset_deg'] == pytest.approx(2, abs=0.3)
    assert all(p.levels['pose'] == Level.OK for p in result.drift)


def test_the_cli_writes_a_report_and_a_bag_with_the_virtual_streams(robot, tmp_path):
    bag = synthesize_bag(tmp_path / 'bag', robot, seconds=2.0)
    code = replay_main([str(bag), '--output', str(tmp_path / 'report'),
                        '--bag-out', str(tmp_path / 'out')])
    assert code == 0
    import json
    report = json.loads((tmp_path / 'report' / 'report.json').read_text())
    assert report['inputs']['scan']['received'] == 21 and report['speed_x_real_time'] > 0
    assert report['drift']['final']['pose']['level'] == 'OK'
    assert (tmp_path / 'report' / 'report.png').stat().st_size > 10_000
    with Reader(tmp_path / 'out') as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
    for topic in ('/joint_states', '/odom', '/scan', '/virtual/odom', '/virtual/joint_states',
                  '/virtual/scan', '/virtual/scan_residual', '/virtual/predicted_path'):
        assert counts[topic] > 0, topic
    assert set(VIRTUAL_TOPICS) <= set(counts)
    (mcap_file,) = (tmp_path / 'out').glob('*.mcap')
    with open(mcap_file, 'rb') as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        odoms = [m for _, c, _, m in reader.iter_decoded_messages(topics=['/virtual/odom'])]
    assert len(odoms) == counts['/virtual/odom'] and odoms[0].header.frame_id == 'odom'


def test_bad_bags_give_clear_errors(robot, tmp_path, capsys):
    with pytest.raises(BagError, match='no such bag'):
        replay(tmp_path / 'missing')
    bag = synthesize_bag(tmp_path / 'bag', robot, seconds=0.5)
    with pytest.raises(BagError, match=r'no /robot1/joint_states'):
        from twin_bridge.recording.replay import ReplayTopics
        replay(bag, ReplayOptions(topics=ReplayTopics.under('robot1')))
    (mcap_file,) = bag.glob('*.mcap')
    data = mcap_file.read_bytes()
    cut = tmp_path / 'cut.mcap'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(BagError):
        replay(cut)
    assert replay_main([str(cut), '--output', str(tmp_path / 'r')]) == 1
    assert 'twin_replay:' in capsys.readouterr().err
