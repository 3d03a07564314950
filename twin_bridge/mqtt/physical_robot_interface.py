"""A robot without ROS talking to its twin over MQTT: publish the robot's state, read what the
twin makes of it (the seed's ``PhysicalRobotInterface``, on MQTT)."""

from __future__ import annotations

from collections.abc import Callable
import os
import threading
import time

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.mqtt.broker_settings import BrokerSettings
from twin_bridge.mqtt.connection import MqttConnection
from twin_bridge.mqtt.schema import (
    MessageRejectedError,
    decode_command,
    decode_joint_states,
    decode_odometry,
    decode_scan,
    encode_scan,
    encode_state,
)
from twin_bridge.mqtt.topics import COMMAND_STREAM, mqtt_qos, robot_topics

__all__ = ['PhysicalRobotInterface']

_DECODERS = {'odom': decode_odometry, 'joint_states': decode_joint_states, 'scan': decode_scan,
             COMMAND_STREAM: decode_command}


class PhysicalRobotInterface:
    """The robot's end of the MQTT link (no ROS needed on the robot).

    ``publish_state`` sends joints and/or odometry as one ``<prefix>/<robot>/state`` message,
    ``publish_scan`` a scan; ``virtual(stream)`` is the twin's latest ``odom``,
    ``joint_states`` or ``scan`` for this robot, and ``on_virtual(stream, sample)`` (if set)
    is called for each on the MQTT thread. The twin's side sends only its virtual state unless
    ``twin_mqtt`` runs with ``forward_commands``: then ``virtual('cmd_vel_safe')`` is the
    latest gated command (a :class:`~twin_bridge.mqtt.schema.VelocityCommand`; act on it only
    while it is fresh). Use as a context manager, or :meth:`connect` and :meth:`close`.

    :param state_qos: ``'sensor_data'`` (QoS 0, the default: a stream where the newest
        wins) or ``'reliable'`` (QoS 1)
    """

    def __init__(self, robot: str, settings: BrokerSettings, prefix: str = 'twin', *,
                 state_qos: str = 'sensor_data', client_id: str = '',
                 on_virtual: Callable[[str, object], None] | None = None) -> None:
        self.robot = robot
        self.topics = robot_topics(prefix, robot)
        self.on_virtual = on_virtual
        self._qos = mqtt_qos(state_qos)
        self._streams = {topic: stream for stream, topic in self.topics.virtual.items()}
        self._streams[self.topics.command] = COMMAND_STREAM
        self._latest: dict[str, object] = {}
        self._lock = threading.Lock()
        self.received = dict.fromkeys(_DECODERS, 0)
        self.rejected = 0
        self.connection = MqttConnection(
            settings, client_id or f'robot_{robot}_{os.getpid()}',
            subscriptions={topic: 1 for topic in self._streams}, on_message=self._handle)

    def connect(self, timeout: float = 10.0) -> bool:
        """Connect (in the background, with reconnects); True once the broker accepted."""
        self.connection.start()
        return self.connection.wait_connected(timeout)

    @property
    def connected(self) -> bool:
        """True while the broker link is up."""
        return self.connection.connected

    def publish_state(self, joints: JointStateSample | None = None,
                      odometry: OdometrySample | None = None,
                      stamp_ns: int | None = None) -> bool:
        """Send the robot's state; stamped ``stamp_ns`` (default: now, wall clock).

        :return: False if it could not be sent now (broker away)
        :raise ValueError: neither sample, or a non-finite value
        """
        stamp = time.time_ns() if stamp_ns is None else stamp_ns
        return self.connection.publish(self.topics.state, encode_state(joints, odometry, stamp),
                                       self._qos)

    def publish_scan(self, scan: ScanData, stamp_ns: int | None = None) -> bool:
        """Send the robot's own scan (optional: for the twin's drift check)."""
        stamp = time.time_ns() if stamp_ns is None else stamp_ns
        return self.connection.publish(self.topics.scan, encode_scan(scan, stamp), 0)

    def virtual(self, stream: str) -> object | None:
        """The twin's latest ``'odom'`` (OdometrySample), ``'joint_states'``
        (JointStateSample), ``'scan'`` (ScanData) or ``'cmd_vel_safe'`` (VelocityCommand)
        for this robot, ``None`` before any."""
        with self._lock:
            return self._latest.get(stream)

    def _handle(self, topic: str, payload: bytes) -> None:
        stream = self._streams.get(topic)
        if stream is None:
            return
        try:
            sample = _DECODERS[stream](payload)
        except MessageRejectedError:
            self.rejected += 1
            return
        with self._lock:
            self._latest[stream] = sample
            self.received[stream] += 1
        if self.on_virtual is not None:
            self.on_virtual(stream, sample)

    def close(self) -> None:
        """Disconnect."""
        self.connection.stop()

    def __enter__(self) -> PhysicalRobotInterface:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
