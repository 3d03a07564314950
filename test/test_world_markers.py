"""The twin's world as markers: built from the model's geoms, latched on virtual/world, in bags."""

from __future__ import annotations

import subprocess
import sys

import mujoco
import numpy as np
import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros_harness import RosTestContext, spawn_node
from rosbags.rosbag2 import Reader
from visualization_msgs.msg import Marker, MarkerArray
import yaml

from twin_bridge.description.robot_description import default_robot_path, load_robot_description
from twin_bridge.embedded.embedded_backend import EmbeddedBackend
from twin_bridge.recording.message_types import typestore
from twin_bridge.ros.world_markers import NAMESPACE, world_markers_to_msg
from twin_bridge.twin.digital_twin import DigitalTwin
from twin_bridge.twin.twin_scene import scene_geometry

_G = mujoco.mjtGeom


def _expected_count(geometry) -> int:
    """Markers per shape: capsules 3 (body + caps), other primitives and meshes 1."""
    return sum(3 if s.kind == _G.mjGEOM_CAPSULE else 1 for s in geometry.world_shapes)


@pytest.fixture(scope='module')
def warehouse_twin():
    robot = load_robot_description(default_robot_path())
    twin = DigitalTwin('warehouse', robot, backend=EmbeddedBackend('warehouse', robot))
    yield twin
    twin.close()


def test_every_world_shape_becomes_a_marker_of_its_size_and_pose(warehouse_twin):
    geometry = scene_geometry(warehouse_twin)
    msg = world_markers_to_msg(geometry, 'map', stamp_ns=1_500_000_000)
    clear, *markers = msg.markers
    assert clear.action == Marker.DELETEALL and clear.ns == NAMESPACE
    assert len(markers) == _expected_count(geometry) > 10
    assert len({m.id for m in markers}) == len(markers)
    assert all(m.header.frame_id == 'map' and m.header.stamp.sec == 1 for m in markers)
    kinds = {int(s.kind) for s in geometry.world_shapes}
    assert _G.mjGEOM_BOX in kinds
    # shapes come in order: check each box against its geom
    boxes = [(s, m) for s, m in zip(geometry.world_shapes, markers, strict=False)
             if s.kind == _G.mjGEOM_BOX]
    assert boxes and all(m.type == Marker.CUBE for _, m in boxes)
    for shape, marker in boxes[:1]:
        assert [marker.scale.x, marker.scale.y, marker.scale.z] == pytest.approx(2 * shape.size)
        p = marker.pose.position
        assert [p.x, p.y, p.z] == pytest.approx(shape.position)
        o = marker.pose.orientation
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, np.array([o.w, o.x, o.y, o.z]))
        assert rot.reshape(3, 3) == pytest.approx(shape.rotation, abs=1e-9)


def test_meshes_become_triangle_lists_with_every_vertex():
    robot = load_robot_description(default_robot_path())
    twin = DigitalTwin('obstacle_course', robot,
                       backend=EmbeddedBackend('obstacle_course', robot))
    try:
        geometry = scene_geometry(twin)
        meshes = [s for s in geometry.world_shapes if s.kind == _G.mjGEOM_MESH]
        assert meshes, 'the obstacle course has mesh obstacles (cone, barrel, ramp)'
        msg = world_markers_to_msg(geometry)
        lists = [m for m in msg.markers if m.type == Marker.TRIANGLE_LIST]
        assert len(lists) == len(meshes)
        for shape, marker in zip(meshes, lists, strict=True):
            assert len(marker.points) == len(shape.triangles) and len(marker.points) % 3 == 0
            assert marker.points[0].x == pytest.approx(shape.triangles[0][0])
    finally:
        twin.close()


def test_the_node_latches_its_world_on_virtual_world_and_records_it(tmp_path):
    """A subscriber that comes late still gets the world (transient local), and a recording
    holds it with its transient-local QoS, so a bag shows the world in Foxglove or RViz."""
    robot = load_robot_description(default_robot_path())
    twin = DigitalTwin('obstacle_course', robot,
                       backend=EmbeddedBackend('obstacle_course', robot))
    expected = 1 + _expected_count(scene_geometry(twin))
    twin.close()
    bag = tmp_path / 'bag'
    with RosTestContext('world_markers_test') as ros, spawn_node(
            'twin_bridge.ros.bridge_node',
            params={'world': 'obstacle_course', 'record': str(bag), 'input_scan_topic': '',
                    'prediction_rate': 0.0, 'ensemble_rate': 0.0}) as proc:
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        assert ros.spin_until(lambda: ros.node.count_publishers('/virtual/world') > 0, 45.0,
                              proc), proc.output()
        got = ros.collect('virtual/world', MarkerArray, latched)  # after it was published
        assert ros.spin_until(lambda: len(got) >= 1, 15.0, proc), proc.output()
        assert len(got.last.markers) == expected
        ros.spin_for(1.5)  # the recorder discovers the node's topics and takes the latched one
        assert proc.stop() == 0, proc.output()
    with Reader(bag) as reader:
        conns = [c for c in reader.connections if c.topic == '/virtual/world']
        assert conns, [c.topic for c in reader.connections]
        recorded = [typestore().deserialize_cdr(raw, c.msgtype)
                    for c, _, raw in reader.messages(connections=conns)]
    assert len(recorded) == 1 and len(recorded[0].markers) == expected
    meta = yaml.safe_load((bag / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
    (topic,) = [t for t in meta['topics_with_message_count']
                if t['topic_metadata']['name'] == '/virtual/world']
    offered = topic['topic_metadata']['offered_qos_profiles']
    offered = yaml.safe_load(offered) if isinstance(offered, str) else offered
    assert offered[0]['durability'] == 'transient_local'


def test_the_node_and_its_world_markers_need_no_foxglove():
    """foxglove-sdk is for the live view only: on a ROS install without it the node (and its
    virtual/world) still start."""
    code = ('import builtins\n'
            'real = builtins.__import__\n'
            'def guard(name, *a, **k):\n'
            '    if name.split(".")[0] == "foxglove":\n'
            '        raise ImportError("foxglove-sdk is not installed")\n'
            '    return real(name, *a, **k)\n'
            'builtins.__import__ = guard\n'
            'import twin_bridge.ros.bridge_node, twin_bridge.ros.world_markers\n'
            'import twin_bridge.twin.twin_scene\n')
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
