"""The versioned JSON schema of robots over MQTT: messages decoded into the core's samples
(validated; every refusal a :class:`MessageRejectedError` with a reason) and samples encoded.

Schema version 1 (``"schema": 1`` in every message). Stamps are ``{"sec": int, "nanosec":
int}`` (as ``builtin_interfaces/Time``: exact, no float rounding), vectors are arrays
(``[x, y, z]``, quaternions ``[x, y, z, w]``). A robot's state (``<prefix>/<robot>/state``)::

    {"schema": 1, "stamp": {"sec": 1765094400, "nanosec": 250000000},
     "joints": {"left_wheel_joint": {"position": 12.5, "velocity": 5.0}},
     "pose": {"position": [1.0, 2.0, 0.0], "orientation": [0.0, 0.0, 0.38, 0.92]},
     "twist": {"linear": [0.3, 0.0, 0.0], "angular": [0.0, 0.0, 0.1]},
     "frame_id": "odom", "child_frame_id": "base_link"}

``joints`` or ``pose`` (or both) must be there; ``velocity``, ``twist`` and the frames are
optional. The twin's outputs use the same blocks: ``virtual/odom`` has stamp, frames, pose and
twist; ``virtual/joint_states`` stamp and joints; scans (the robot's ``scan`` and
``virtual/scan``) are a ``sensor_msgs/LaserScan`` with ``null`` for a beam without a return.
Unknown keys, NaN or infinite numbers, wrong lengths and oversized payloads are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import math
from typing import Any

import numpy as np

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.mqtt.json_fields import (
    REJECTION_REASONS,
    MessageRejectedError,
    check_keys,
    finite_number,
    load_json,
    name,
    object_field,
    required,
    stamp_ns,
    vector,
)

__all__ = ['MAX_BEAMS', 'MAX_JOINTS', 'MAX_NAME_CHARS', 'MAX_PAYLOAD_BYTES', 'REJECTION_REASONS',
           'SCHEMA_VERSION', 'MessageRejectedError', 'RobotState', 'VelocityCommand',
           'decode_command', 'decode_joint_states', 'decode_odometry', 'decode_scan',
           'decode_state', 'encode_command', 'encode_joint_states', 'encode_odometry',
           'encode_scan', 'encode_state']

SCHEMA_VERSION = 1
#: Largest payload decoded (bytes): a 3600-beam scan is about 40 kB.
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_JOINTS = 256
MAX_BEAMS = 100_000
MAX_NAME_CHARS = 256

_NS = 1_000_000_000
_STATE_KEYS = ('schema', 'stamp', 'joints', 'pose', 'twist', 'frame_id', 'child_frame_id')
_ODOM_KEYS = ('schema', 'stamp', 'pose', 'twist', 'frame_id', 'child_frame_id')
_JOINT_KEYS = ('schema', 'stamp', 'joints')
_SCAN_KEYS = ('schema', 'stamp', 'frame_id', 'angle_min', 'angle_max', 'angle_increment',
              'time_increment', 'scan_time', 'range_min', 'range_max', 'ranges', 'intensities')
_SCAN_NUMBERS = ('angle_min', 'angle_max', 'angle_increment', 'range_min', 'range_max')
_COMMAND_KEYS = ('schema', 'stamp', 'linear', 'angular')
_ZERO3 = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class RobotState:
    """One state message: the joint and odometry samples it holds (either may be ``None``),
    both stamped with its stamp."""

    joints: JointStateSample | None
    odometry: OdometrySample | None
    stamp_ns: int


@dataclass(frozen=True)
class VelocityCommand:
    """The twin's gated velocity command (``virtual/cmd_vel_safe``): body twist, stamp."""

    linear: np.ndarray
    angular: np.ndarray
    stamp_ns: int


def _document(payload: bytes | str, keys: tuple[str, ...], max_bytes: int) -> tuple[dict, int]:
    """The top-level object, checked: size, JSON, schema version, known keys; and its stamp."""
    doc = load_json(payload, max_bytes)
    if not isinstance(doc, dict):
        raise MessageRejectedError('bad_type', f'the message must be a JSON object, got '
                                          f'{type(doc).__name__}')
    version = required(doc, 'schema', 'message')
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise MessageRejectedError('schema_version', f'schema {json.dumps(version)[:32]} is not '
                                                f'{SCHEMA_VERSION}')
    check_keys(doc, keys, 'message')
    return doc, stamp_ns(required(doc, 'stamp', 'message'))


def _joints(value: Any, stamp: int) -> JointStateSample:
    joints = object_field(value, 'joints')
    if not 0 < len(joints) <= MAX_JOINTS:
        raise MessageRejectedError('bad_length',
                                   f'joints has {len(joints)} entries (1..{MAX_JOINTS})')
    names, positions, velocities = [], [], []
    for joint, entry in joints.items():
        where = f'joints.{name(joint, MAX_NAME_CHARS, "a joint name")}'
        entry = object_field(entry, where)
        check_keys(entry, ('position', 'velocity'), where)
        names.append(joint)
        positions.append(finite_number(required(entry, 'position', where), f'{where}.position'))
        velocity = entry.get('velocity')
        velocities.append(math.nan if velocity is None
                          else finite_number(velocity, f'{where}.velocity'))
    reported = np.array(velocities)
    return JointStateSample(tuple(names), np.array(positions),
                            None if np.isnan(reported).all() else reported, stamp_ns=stamp)


def _odometry(doc: dict, stamp: int) -> OdometrySample:
    pose = object_field(doc['pose'], 'pose')
    check_keys(pose, ('position', 'orientation'), 'pose')
    position = vector(required(pose, 'position', 'pose'), 3, 'pose.position')
    orientation = vector(required(pose, 'orientation', 'pose'), 4, 'pose.orientation')
    linear, angular = np.array(_ZERO3), np.array(_ZERO3)
    if 'twist' in doc:
        twist = object_field(doc['twist'], 'twist')
        check_keys(twist, ('linear', 'angular'), 'twist')
        linear = vector(required(twist, 'linear', 'twist'), 3, 'twist.linear')
        angular = vector(required(twist, 'angular', 'twist'), 3, 'twist.angular')
    frames = {key: name(doc[key], MAX_NAME_CHARS, key)
              for key in ('frame_id', 'child_frame_id') if key in doc}
    return OdometrySample(position, orientation, linear, angular, stamp, **frames)


def decode_state(payload: bytes | str, max_bytes: int = MAX_PAYLOAD_BYTES) -> RobotState:
    """A robot's ``state`` message as samples.

    :raise MessageRejectedError: the message breaks the schema (the reason says how)
    """
    doc, stamp = _document(payload, _STATE_KEYS, max_bytes)
    if 'joints' not in doc and 'pose' not in doc:
        raise MessageRejectedError('missing_field', 'message.joints or message.pose')
    if 'twist' in doc and 'pose' not in doc:
        raise MessageRejectedError('missing_field', 'message.pose (twist without a pose)')
    joints = _joints(doc['joints'], stamp) if 'joints' in doc else None
    odometry = _odometry(doc, stamp) if 'pose' in doc else None
    return RobotState(joints, odometry, stamp)


def decode_odometry(payload: bytes | str, max_bytes: int = MAX_PAYLOAD_BYTES) -> OdometrySample:
    """The twin's ``virtual/odom`` message as a sample.

    :raise MessageRejectedError: the message breaks the schema
    """
    doc, stamp = _document(payload, _ODOM_KEYS, max_bytes)
    required(doc, 'pose', 'message')
    return _odometry(doc, stamp)


def decode_joint_states(payload: bytes | str,
                        max_bytes: int = MAX_PAYLOAD_BYTES) -> JointStateSample:
    """The twin's ``virtual/joint_states`` message as a sample.

    :raise MessageRejectedError: the message breaks the schema
    """
    doc, stamp = _document(payload, _JOINT_KEYS, max_bytes)
    return _joints(required(doc, 'joints', 'message'), stamp)


def _ranges(value: Any, where: str, max_beams: int) -> np.ndarray:
    """Beam values (numbers, ``null`` = no return = +inf) as float32."""
    if not isinstance(value, list):
        raise MessageRejectedError('bad_type', f'{where} must be an array')
    if len(value) > max_beams:
        raise MessageRejectedError('bad_length', f'{where} has {len(value)} beams (at most '
                                            f'{max_beams})')
    if any(isinstance(v, bool) or not (v is None or isinstance(v, (int, float))) for v in value):
        raise MessageRejectedError('bad_type', f'{where} must hold numbers or null')
    ranges = np.array(value, dtype=np.float64)  # null -> NaN (NaN tokens never get here)
    if np.isinf(ranges).any():
        raise MessageRejectedError('non_finite', f'{where} holds a number too large for a float')
    ranges[np.isnan(ranges)] = math.inf
    return ranges.astype(np.float32)


def decode_scan(payload: bytes | str, max_bytes: int = MAX_PAYLOAD_BYTES) -> ScanData:
    """A ``scan`` or ``virtual/scan`` message as :class:`ScanData` with its stamp.

    :raise MessageRejectedError: the message breaks the schema (a beam count that does not fit the
        angles is left to the twin's scan validation, as for a ROS scan)
    """
    doc, stamp = _document(payload, _SCAN_KEYS, max_bytes)
    numbers = {key: finite_number(required(doc, key, 'message'), key) for key in _SCAN_NUMBERS}
    for key in ('time_increment', 'scan_time'):
        numbers[key] = finite_number(doc.get(key, 0.0), key)
    ranges = _ranges(required(doc, 'ranges', 'message'), 'ranges', MAX_BEAMS)
    intensities = np.zeros(0, dtype=np.float32)
    if doc.get('intensities'):
        intensities = _ranges(doc['intensities'], 'intensities', MAX_BEAMS)
        if len(intensities) != len(ranges) or np.isinf(intensities).any():
            raise MessageRejectedError('bad_length', f'intensities: {len(intensities)} numbers for '
                                                f'{len(ranges)} ranges')
    frame = name(required(doc, 'frame_id', 'message'), MAX_NAME_CHARS, 'frame_id')
    return ScanData(frame, ranges=ranges, intensities=intensities, stamp_ns=stamp, **numbers)


def decode_command(payload: bytes | str,
                   max_bytes: int = MAX_PAYLOAD_BYTES) -> VelocityCommand:
    """The twin's ``virtual/cmd_vel_safe`` message (sent only with ``forward_commands``).

    :raise MessageRejectedError: the message breaks the schema
    """
    doc, stamp = _document(payload, _COMMAND_KEYS, max_bytes)
    return VelocityCommand(vector(required(doc, 'linear', 'message'), 3, 'linear'),
                           vector(required(doc, 'angular', 'message'), 3, 'angular'), stamp)


def _stamp(ns: int) -> dict[str, int]:
    sec, nanosec = divmod(max(int(ns), 0), _NS)
    return {'sec': sec, 'nanosec': nanosec}


def _dumps(doc: dict) -> bytes:
    return json.dumps(doc, separators=(',', ':'), allow_nan=False).encode()


def _joint_block(sample: JointStateSample) -> dict[str, dict[str, float]]:
    positions = sample.positions.tolist()
    velocities = (sample.velocities.tolist() if sample.velocities is not None
                  else [math.nan] * len(positions))
    return {joint: ({'position': p} if math.isnan(v) else {'position': p, 'velocity': v})
            for joint, p, v in zip(sample.names, positions, velocities, strict=True)}


def _odometry_blocks(sample: OdometrySample) -> dict[str, Any]:
    return {'pose': {'position': sample.position.tolist(),
                     'orientation': sample.orientation.tolist()},
            'twist': {'linear': sample.linear_velocity.tolist(),
                      'angular': sample.angular_velocity.tolist()},
            'frame_id': sample.frame_id, 'child_frame_id': sample.child_frame_id}


def encode_state(joints: JointStateSample | None, odometry: OdometrySample | None,
                 stamp_ns: int) -> bytes:
    """A robot's ``state`` message (what a robot publishes) from samples.

    :raise ValueError: neither sample given, or a non-finite value (JSON has no NaN)
    """
    if joints is None and odometry is None:
        raise ValueError('a state message needs joints or odometry')
    doc: dict[str, Any] = {'schema': SCHEMA_VERSION, 'stamp': _stamp(stamp_ns)}
    if joints is not None:
        doc['joints'] = _joint_block(joints)
    if odometry is not None:
        doc.update(_odometry_blocks(odometry))
    return _dumps(doc)


def encode_odometry(sample: OdometrySample) -> bytes:
    """The twin's ``virtual/odom`` message, stamped with ``sample.stamp_ns``.

    :raise ValueError: a non-finite value
    """
    return _dumps({'schema': SCHEMA_VERSION, 'stamp': _stamp(sample.stamp_ns),
                   **_odometry_blocks(sample)})


def encode_joint_states(sample: JointStateSample) -> bytes:
    """The twin's ``virtual/joint_states`` message, stamped with ``sample.stamp_ns``.

    :raise ValueError: a non-finite position
    """
    return _dumps({'schema': SCHEMA_VERSION, 'stamp': _stamp(sample.stamp_ns),
                   'joints': _joint_block(sample)})


def encode_command(command: VelocityCommand) -> bytes:
    """The twin's ``virtual/cmd_vel_safe`` message.

    :raise ValueError: a non-finite component
    """
    return _dumps({'schema': SCHEMA_VERSION, 'stamp': _stamp(command.stamp_ns),
                   'linear': np.asarray(command.linear, dtype=float).tolist(),
                   'angular': np.asarray(command.angular, dtype=float).tolist()})


def _beam_list(values: np.ndarray) -> list[float | None]:
    """Beams rounded to 10 µm (float32 noise digits cost bytes), ``null`` for ±inf/NaN."""
    rounded = np.round(np.asarray(values, dtype=np.float64), 5)
    finite = np.isfinite(rounded)
    out: list[float | None] = rounded.tolist()
    if not finite.all():
        for i in np.flatnonzero(~finite).tolist():
            out[i] = None
    return out


def encode_scan(scan: ScanData, stamp_ns: int | None = None) -> bytes:
    """A scan message (the robot's ``scan`` or the twin's ``virtual/scan``).

    :param stamp_ns: its stamp (default ``scan.stamp_ns``)
    """
    doc: dict[str, Any] = {
        'schema': SCHEMA_VERSION,
        'stamp': _stamp(scan.stamp_ns if stamp_ns is None else stamp_ns),
        'frame_id': scan.frame_id, 'angle_min': float(scan.angle_min),
        'angle_max': float(scan.angle_max), 'angle_increment': float(scan.angle_increment),
        'time_increment': float(scan.time_increment), 'scan_time': float(scan.scan_time),
        'range_min': float(scan.range_min), 'range_max': float(scan.range_max),
        'ranges': _beam_list(scan.ranges)}
    if len(scan.intensities):
        doc['intensities'] = _beam_list(scan.intensities)
    return _dumps(doc)
