"""The MQTT JSON schema: round trips, and every kind of bad message refused with its reason."""

import json
import math

import numpy as np
import pytest

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.mqtt.schema import (
    MAX_JOINTS,
    REJECTION_REASONS,
    SCHEMA_VERSION,
    MessageRejectedError,
    VelocityCommand,
    decode_command,
    decode_joint_states,
    decode_odometry,
    decode_scan,
    decode_state,
    encode_command,
    encode_joint_states,
    encode_odometry,
    encode_scan,
    encode_state,
)

STAMP = {'sec': 1765094400, 'nanosec': 250000000}
STAMP_NS = 1765094400_250000000


def _state(**changes: object) -> dict:
    doc = {'schema': 1, 'stamp': dict(STAMP),
           'joints': {'left_wheel_joint': {'position': 1.5, 'velocity': 2.0},
                      'pan_joint': {'position': -0.25}},
           'pose': {'position': [1.0, 2.0, 0.0], 'orientation': [0.0, 0.0, 0.6, 0.8]},
           'twist': {'linear': [0.3, 0.0, 0.0], 'angular': [0.0, 0.0, 0.1]}}
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def _reason(payload: bytes | str, decode=decode_state) -> str:
    with pytest.raises(MessageRejectedError) as info:
        decode(payload)
    assert info.value.reason in REJECTION_REASONS
    return info.value.reason


def test_state_decodes_into_core_samples_with_the_exact_stamp():
    state = decode_state(json.dumps(_state()))
    assert state.stamp_ns == STAMP_NS
    assert state.joints.names == ('left_wheel_joint', 'pan_joint')
    np.testing.assert_array_equal(state.joints.positions, [1.5, -0.25])
    assert state.joints.velocities[0] == 2.0 and math.isnan(state.joints.velocities[1])
    np.testing.assert_array_equal(state.odometry.orientation, [0.0, 0.0, 0.6, 0.8])
    np.testing.assert_array_equal(state.odometry.angular_velocity, [0.0, 0.0, 0.1])
    assert state.odometry.stamp_ns == state.joints.stamp_ns == STAMP_NS
    assert (state.odometry.frame_id, state.odometry.child_frame_id) == ('odom', 'base_link')


def test_joints_alone_pose_alone_and_pose_without_twist_are_valid():
    only_joints = decode_state(json.dumps(_state(pose=None, twist=None)))
    assert only_joints.odometry is None and only_joints.joints is not None
    no_velocities = decode_state(json.dumps(_state(joints={'a': {'position': 1.0}})))
    assert no_velocities.joints.velocities is None
    pose_only = decode_state(json.dumps(_state(joints=None, twist=None, frame_id='map')))
    assert pose_only.joints is None and pose_only.odometry.frame_id == 'map'
    np.testing.assert_array_equal(pose_only.odometry.linear_velocity, [0.0, 0.0, 0.0])


def test_encoded_state_round_trips_bit_for_bit():
    joints = JointStateSample(('a', 'b'), np.array([0.1, 1e-17]), np.array([3.0, math.nan]))
    odom = OdometrySample(np.array([1 / 3, -2.0, 0.0]), np.array([0.0, 0.0, 0.2, 0.9797958971]),
                          np.array([0.3, 0.0, 0.0]), np.array([0.0, 0.0, -0.7]),
                          frame_id='odom', child_frame_id='base_footprint')
    state = decode_state(encode_state(joints, odom, STAMP_NS))
    np.testing.assert_array_equal(state.joints.positions, joints.positions)
    assert state.joints.velocities[0] == 3.0 and math.isnan(state.joints.velocities[1])
    np.testing.assert_array_equal(state.odometry.position, odom.position)
    assert state.odometry.child_frame_id == 'base_footprint'
    assert state.stamp_ns == STAMP_NS
    with pytest.raises(ValueError):
        encode_state(None, None, 0)


def test_virtual_outputs_round_trip():
    odom = OdometrySample(np.array([1.0, 2.0, 0.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                          stamp_ns=STAMP_NS)
    back = decode_odometry(encode_odometry(odom))
    np.testing.assert_array_equal(back.position, odom.position)
    assert back.stamp_ns == STAMP_NS
    joints = JointStateSample(('j',), np.array([0.5]), np.array([0.25]), stamp_ns=7)
    back_joints = decode_joint_states(encode_joint_states(joints))
    assert back_joints.names == ('j',) and back_joints.stamp_ns == 7
    assert _reason(encode_odometry(odom), decode_joint_states) == 'unknown_key'


def test_scan_round_trips_with_null_for_no_return():
    ranges = np.array([1.25, np.inf, 2.5, -np.inf, 0.123456], dtype=np.float32)
    scan = ScanData('lidar_link', -1.0, 1.0, 0.5, 0.0, 0.1, 0.1, 10.0, ranges,
                    np.array([1, 2, 3, 4, 5], dtype=np.float32), stamp_ns=42)
    payload = encode_scan(scan)
    assert json.loads(payload)['ranges'][1] is None
    back = decode_scan(payload)
    assert back.stamp_ns == 42 and back.frame_id == 'lidar_link'
    assert back.ranges.dtype == np.float32
    np.testing.assert_allclose(back.ranges[[0, 2, 4]], ranges[[0, 2, 4]], atol=1e-5)
    assert np.isposinf(back.ranges[[1, 3]]).all()
    np.testing.assert_array_equal(back.intensities, scan.intensities)


@pytest.mark.parametrize(('payload', 'reason'), [
    (b'{"schema": 1, "stamp": ', 'malformed_json'),
    (b'\xff\xfe not utf-8', 'malformed_json'),
    (b'[' * 50_000, 'malformed_json'),
    (b'[1, 2]', 'bad_type'),
    (json.dumps(_state(schema=2)), 'schema_version'),
    (json.dumps(_state(schema='1')), 'schema_version'),
    (json.dumps(_state(schema=True)), 'schema_version'),
    (json.dumps(_state(schema=None)), 'missing_field'),
    (json.dumps(_state(stamp=None)), 'missing_field'),
    (json.dumps(_state(joints=None, pose=None, twist=None)), 'missing_field'),
    (json.dumps(_state(pose=None)), 'missing_field'),  # a twist without a pose
    (json.dumps(_state(pose={'position': [0, 0, 0]})), 'missing_field'),
    (json.dumps(_state(joints={'a': {'velocity': 1.0}})), 'missing_field'),
    (json.dumps(_state(stamp={'sec': 1})), 'missing_field'),
    (json.dumps(_state(pose={'position': [0, 0, float('nan')],
                             'orientation': [0, 0, 0, 1]})), 'non_finite'),
    (json.dumps(_state(joints={'a': {'position': float('inf')}})), 'non_finite'),
    ('{"schema": 1, "stamp": {"sec": 1, "nanosec": 0}, "joints": {"a": {"position": 1e999}}}',
     'non_finite'),
    (json.dumps(_state(pose={'position': [0, 0], 'orientation': [0, 0, 0, 1]})), 'bad_length'),
    (json.dumps(_state(joints={})), 'bad_length'),
    (json.dumps(_state(joints={f'j{i}': {'position': 0} for i in range(MAX_JOINTS + 1)})),
     'bad_length'),
    (json.dumps(_state(joints={'x' * 300: {'position': 0}})), 'bad_length'),
    (json.dumps(_state(stamp={'sec': -1, 'nanosec': 0})), 'bad_length'),
    (json.dumps(_state(stamp={'sec': 1, 'nanosec': 10**9})), 'bad_length'),
    (json.dumps(_state(stamp={'sec': 1.5, 'nanosec': 0})), 'bad_type'),
    (json.dumps(_state(joints={'a': {'position': '1.0'}})), 'bad_type'),
    (json.dumps(_state(joints={'a': {'position': True}})), 'bad_type'),
    (json.dumps(_state(joints=[1, 2])), 'bad_type'),
    (json.dumps(_state(extra=1)), 'unknown_key'),
    (json.dumps(_state(joints={'a': {'position': 1, 'effort': 2}})), 'unknown_key'),
    (b'{"schema": 1, "pad": "' + b'x' * 300_000 + b'"}', 'oversized'),
])
def test_bad_state_messages_are_refused_with_their_reason(payload, reason):
    assert _reason(payload) == reason


def test_refusals_name_the_field():
    with pytest.raises(MessageRejectedError, match=r'joints\.a\.position'):
        decode_state(json.dumps(_state(joints={'a': {'position': 'x'}})))
    with pytest.raises(MessageRejectedError, match=rf'schema 7 is not {SCHEMA_VERSION}'):
        decode_state(json.dumps(_state(schema=7)))


@pytest.mark.parametrize(('change', 'reason'), [
    ({'ranges': [1.0, 'far']}, 'bad_type'),
    ({'ranges': [1.0, 1e999]}, 'non_finite'),
    ({'ranges': 3}, 'bad_type'),
    ({'angle_min': None}, 'missing_field'),
    ({'intensities': [1.0]}, 'bad_length'),
    ({'range_max': float('nan')}, 'non_finite'),
])
def test_bad_scans_are_refused_with_their_reason(change, reason):
    doc = {'schema': 1, 'stamp': STAMP, 'frame_id': 'l', 'angle_min': -1.0, 'angle_max': 1.0,
           'angle_increment': 1.0, 'range_min': 0.1, 'range_max': 5.0,
           'ranges': [1.0, None, 2.0]}
    doc.update(change)
    doc = {k: v for k, v in doc.items() if v is not None}
    assert _reason(json.dumps(doc), decode_scan) == reason


def test_the_gated_command_round_trips_and_bad_ones_are_refused():
    command = VelocityCommand(np.array([0.25, 0.0, 0.0]), np.array([0.0, 0.0, -0.5]), STAMP_NS)
    back = decode_command(encode_command(command))
    assert back.linear.tolist() == [0.25, 0.0, 0.0] and back.angular.tolist() == [0, 0, -0.5]
    assert back.stamp_ns == STAMP_NS
    with pytest.raises(ValueError):
        encode_command(VelocityCommand(np.array([math.nan, 0, 0]), np.zeros(3), 0))
    doc = json.loads(encode_command(command))
    assert _reason(json.dumps({**doc, 'linear': [1, 2]}), decode_command) == 'bad_length'
    assert _reason(json.dumps({**doc, 'extra': 0}), decode_command) == 'unknown_key'
