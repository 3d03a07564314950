"""Tests for the ROS-free recording layer: bag writer, metadata, QoS strings, the recorder."""

from pathlib import Path

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
import pytest
from rosbags.rosbag2 import Reader
import yaml

from twin_bridge.recording import samples as bs
from twin_bridge.recording.bag_writer import BagWriter, RecordingError, SplitPolicy
from twin_bridge.recording.message_types import message_type, typestore
from twin_bridge.recording.qos_profiles import (
    QosProfile,
    adapt_request_to_offers,
    offered_qos_yaml,
    parse_offered_qos,
)
from twin_bridge.recording.recorder import Recorder

STRING = 'std_msgs/msg/String'
BEST_EFFORT = QosProfile(reliability='best_effort', depth=5)


def _string(text: str) -> bytes:
    return bytes(typestore().serialize_cdr(typestore().types[STRING](data=text), STRING))


def _write(folder: Path, n: int = 50, split: SplitPolicy | None = None) -> list[str]:
    writer = BagWriter(folder, split=split)
    h = writer.add_topic('/chatter', STRING, [BEST_EFFORT])
    texts = [f'message {i}' for i in range(n)]
    for i, text in enumerate(texts):
        writer.write(h, 1_000_000_000 + i * 100_000_000, _string(text))
    writer.close()
    return texts


def test_qos_yaml_is_rosbag2s_version_9_layout_and_round_trips():
    text = offered_qos_yaml([BEST_EFFORT])
    item = yaml.safe_load(text)[0]
    assert list(item) == ['history', 'depth', 'reliability', 'durability', 'deadline',
                          'lifespan', 'liveliness', 'liveliness_lease_duration',
                          'avoid_ros_namespace_conventions']
    assert item['reliability'] == 'best_effort' and item['history'] == 'keep_last'
    assert item['deadline'] == {'sec': 9223372036, 'nsec': 854775807}  # infinite
    assert parse_offered_qos(text) == [BEST_EFFORT]
    # metadata version <= 8 stored enum integers
    old = [{**item, 'history': 1, 'reliability': 2, 'durability': 2, 'liveliness': 1}]
    assert parse_offered_qos(old) == [BEST_EFFORT]
    assert offered_qos_yaml([]) == ''
    with pytest.raises(ValueError, match='reliability'):
        QosProfile(reliability='sometimes')


def test_the_request_matches_every_offer():
    assert adapt_request_to_offers([QosProfile(), QosProfile()]) == ('reliable', 'volatile')
    assert adapt_request_to_offers([QosProfile(), BEST_EFFORT])[0] == 'best_effort'
    latched = QosProfile(durability='transient_local')
    assert adapt_request_to_offers([latched]) == ('reliable', 'transient_local')


def test_a_bag_reads_back_with_mcap_and_rosbags_message_by_message(tmp_path):
    texts = _write(tmp_path / 'bag')
    info = yaml.safe_load((tmp_path / 'bag' / 'metadata.yaml').read_text())
    meta = info['rosbag2_bagfile_information']
    assert meta['version'] == 9 and meta['storage_identifier'] == 'mcap'
    assert meta['relative_file_paths'] == ['bag_0.mcap'] and meta['message_count'] == 50
    topic = meta['topics_with_message_count'][0]
    assert topic['message_count'] == 50
    assert topic['topic_metadata']['offered_qos_profiles'][0]['reliability'] == 'best_effort'
    assert topic['topic_metadata']['type_description_hash'].startswith('RIHS01_')

    with open(tmp_path / 'bag' / 'bag_0.mcap', 'rb') as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        assert reader.get_header().profile == 'ros2'
        summary = reader.get_summary()
        (schema,) = summary.schemas.values()
        assert schema.encoding == 'ros2msg' and schema.name == STRING
        assert schema.data.decode() == message_type(STRING).definition
        (channel,) = summary.channels.values()
        assert channel.message_encoding == 'cdr'
        assert parse_offered_qos(channel.metadata['offered_qos_profiles']) == [BEST_EFFORT]
        assert 'rosbag2' in {m.name for m in summary.metadata_indexes}
        got = [m.data for _, _, _, m in reader.iter_decoded_messages()]
    assert got == texts

    with Reader(tmp_path / 'bag') as reader:
        (conn,) = reader.connections
        assert conn.ext.offered_qos_profiles[0].reliability.name == 'BEST_EFFORT'
        got = [typestore().deserialize_cdr(raw, conn.msgtype).data
               for conn, _, raw in reader.messages()]
    assert got == texts


def test_split_by_duration_and_size_makes_one_bag_of_several_files(tmp_path):
    texts = _write(tmp_path / 'bag', 50, SplitPolicy(max_duration_ns=1_000_000_000))
    meta = yaml.safe_load((tmp_path / 'bag' / 'metadata.yaml').read_text())
    files = meta['rosbag2_bagfile_information']['files']
    assert len(files) == 5 and sum(f['message_count'] for f in files) == 50
    with Reader(tmp_path / 'bag') as reader:
        got = [typestore().deserialize_cdr(raw, c.msgtype).data for c, _, raw in
               reader.messages()]
    assert got == texts
    writer = BagWriter(tmp_path / 'sized', split=SplitPolicy(max_bytes=2000), chunk_size=500)
    h = writer.add_topic('/chatter', STRING)
    for i in range(200):
        writer.write(h, i + 1, _string('x' * 40))
    writer.close()
    assert len(writer.files) > 2 and sum(f.message_count for f in writer.files) == 200


def test_an_existing_or_unwritable_path_is_refused(tmp_path):
    (tmp_path / 'full').mkdir()
    (tmp_path / 'full' / 'x').write_text('x')
    with pytest.raises(RecordingError, match='not an empty folder'):
        BagWriter(tmp_path / 'full')
    (tmp_path / 'file').write_text('x')
    with pytest.raises(RecordingError, match='cannot create'):
        BagWriter(tmp_path / 'file' / 'bag')


class _SlowWriter(BagWriter):
    """A writer that waits for a go before its first write (the queue fills meanwhile)."""

    def __init__(self, folder, gate):
        super().__init__(folder)
        self.gate = gate

    def write(self, *args, **kwargs):
        self.gate.wait(10)
        super().write(*args, **kwargs)


def test_drops_are_counted_per_topic_when_the_queue_is_full(tmp_path):
    import threading
    gate = threading.Event()
    recorder = Recorder(tmp_path / 'bag', max_messages=10,
                        writer=_SlowWriter(tmp_path / 'bag', gate))
    h = recorder.add_topic('/chatter', STRING)
    results = [recorder.offer(h, i + 1, _string(str(i))) for i in range(40)]
    stats = recorder.stats()
    gate.set()
    final = recorder.close()
    accepted = sum(results)
    assert 10 <= accepted < 40
    assert stats.dropped == {'/chatter': 40 - accepted}
    assert final.written == accepted and final.dropped_total == 40 - accepted
    level, message, values = final.diagnostic()
    assert level == 1 and 'dropped' in message and values['dropped.' + '/chatter'] > 0
    with Reader(tmp_path / 'bag') as reader:
        assert sum(1 for _ in reader.messages()) == accepted


def test_a_write_error_stops_the_recording_counts_the_rest_and_keeps_what_was_written(
        tmp_path):
    class Failing(BagWriter):
        def write(self, handle, log_time_ns, data, publish_time_ns=None):
            if log_time_ns > 5:
                raise RecordingError('disk full (simulated)')
            super().write(handle, log_time_ns, data, publish_time_ns)

    errors = []
    recorder = Recorder(tmp_path / 'bag', writer=Failing(tmp_path / 'bag'),
                        on_error=errors.append)
    h = recorder.add_topic('/chatter', STRING)
    for i in range(10):
        recorder.offer(h, i + 1, _string(str(i)))
    final = recorder.close()
    assert final.written == 5 and final.dropped_total == 5
    assert final.error and 'disk full' in final.error and len(errors) == 1
    assert final.diagnostic()[0] == 2
    with Reader(tmp_path / 'bag') as reader:  # the file was closed properly
        assert sum(1 for _ in reader.messages()) == 5


def test_sample_encoding_round_trips(tmp_path):
    import numpy as np

    from twin_bridge.core.state import JointStateSample, OdometrySample
    js = JointStateSample(('a', 'b'), np.array([0.1, 0.2]), np.array([1.0, 2.0]), None, 123)
    got = bs.joint_state_sample(bs.decode(bs.encode_joint_state(js), bs.JOINT_STATE))
    assert got.names == js.names and got.stamp_ns == 123 and got.efforts is None
    assert np.array_equal(got.positions, js.positions)
    odom = OdometrySample(np.array([1.0, 2.0, 0.0]), np.array([0.0, 0.0, 0.6, 0.8]),
                          stamp_ns=5, child_frame_id='base_footprint')
    back = bs.odometry_sample(bs.decode(bs.encode_odometry(odom), bs.ODOMETRY))
    assert np.array_equal(back.position, odom.position) and back.child_frame_id == \
        'base_footprint'
