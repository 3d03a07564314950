"""Recording over real DDS: twin_record and the node's record parameter, read back exactly."""

import time

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from nav_msgs.msg import Odometry
from rclpy.qos import qos_profile_sensor_data
from ros_harness import RosTestContext, spawn_node, wait_until
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import JointState
import yaml

from twin_bridge.recording.message_types import typestore

COUNT = 40


def _positions_mcap(folder, topic):
    out = []
    for path in sorted(folder.glob('*.mcap')):
        with open(path, 'rb') as f:
            reader = make_reader(f, decoder_factories=[DecoderFactory()])
            out += [list(m.position) for _, _, _, m in
                    reader.iter_decoded_messages(topics=[topic])]
    return out


def _positions_rosbags(folder, topic):
    with Reader(folder) as reader:
        conns = [c for c in reader.connections if c.topic == topic]
        return [list(typestore().deserialize_cdr(raw, c.msgtype).position)
                for c, _, raw in reader.messages(connections=conns)]


def test_twin_record_records_what_was_published_and_stops_cleanly_on_ctrl_c(tmp_path):
    bag = tmp_path / 'bag'
    with RosTestContext('record_test') as ros, spawn_node(
            'twin_bridge.ros.record_cli', args=['-o', str(bag), '--progress', '0.5',
                                                '-t', 'joint_states', 'virtual/*']) as proc:
        pub = ros.node.create_publisher(JointState, 'joint_states', qos_profile_sensor_data)
        assert ros.wait_for_subscribers(pub, timeout=30.0, process=proc), proc.output()
        sent = []
        for i in range(COUNT):
            msg = JointState(name=['a', 'b'], position=[float(i), i * 0.5])
            pub.publish(msg)
            sent.append([float(i), i * 0.5])
            ros.spin_for(0.01)
        assert wait_until(lambda: 'messages' in proc.output() and
                          f' {COUNT} messages' in proc.output(), 15.0), proc.output()
        assert proc.stop() == 0, proc.output()
    assert _positions_mcap(bag, '/joint_states') == sent
    assert _positions_rosbags(bag, '/joint_states') == sent
    meta = yaml.safe_load((bag / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
    (topic,) = meta['topics_with_message_count']
    qos = topic['topic_metadata']['offered_qos_profiles']
    assert topic['message_count'] == COUNT and qos[0]['reliability'] == 'best_effort'


def test_the_record_parameter_records_inputs_outputs_and_diagnostics(tmp_path):
    bag = tmp_path / 'node_bag'
    with RosTestContext('record_node_test') as ros, spawn_node(
            'twin_bridge.ros.bridge_node',
            params={'world': 'empty', 'record': str(bag), 'diagnostics_period': 0.2,
                    'input_scan_topic': '', 'prediction_rate': 0.0,
                    'ensemble_rate': 0.0}) as proc:
        pub = ros.node.create_publisher(Odometry, 'odom', 10)
        out = ros.collect('virtual/odom', Odometry)
        assert ros.wait_for_subscribers(pub, timeout=45.0, process=proc), proc.output()
        ros.spin_for(1.0)  # the recorder discovers the node's outputs
        for i in range(COUNT):
            msg = Odometry()
            msg.header.stamp = ros.node.get_clock().now().to_msg()
            msg.header.frame_id, msg.child_frame_id = 'odom', 'base_link'
            msg.pose.pose.position.x = 0.01 * i
            msg.pose.pose.orientation.w = 1.0
            pub.publish(msg)
            ros.spin_for(0.02)
        assert ros.spin_until(lambda: len(out) >= COUNT, 10.0, proc)
        time.sleep(0.5)
        assert proc.stop() == 0, proc.output()
    with Reader(bag) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        xs = [typestore().deserialize_cdr(raw, c.msgtype).pose.pose.position.x
              for c, _, raw in reader.messages() if c.topic == '/odom']
        diags = [typestore().deserialize_cdr(raw, c.msgtype)
                 for c, _, raw in reader.messages() if c.topic == '/diagnostics']
    assert xs == [0.01 * i for i in range(COUNT)]
    assert counts['/virtual/odom'] >= COUNT
    names = {s.name for d in diags for s in d.status}
    assert 'twin_bridge: recording' in names
    last = [s for s in diags[-1].status if s.name == 'twin_bridge: recording'][0]
    assert {kv.key: kv.value for kv in last.values}['dropped'] == '0'
