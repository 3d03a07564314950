"""The twin's side of MQTT robots: one broker connection for many robots, their messages
decoded into samples, the twin's outputs encoded back (commands only if enabled)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
import os
import threading
import time

from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.mqtt.broker_settings import BrokerSettings
from twin_bridge.mqtt.connection import MqttConnection
from twin_bridge.mqtt.robot_link import Received, RobotLink
from twin_bridge.mqtt.schema import (
    VelocityCommand,
    encode_command,
    encode_joint_states,
    encode_odometry,
    encode_scan,
)
from twin_bridge.mqtt.topics import VIRTUAL_STREAMS, mqtt_qos, robot_topics
from twin_bridge.twin.stream_monitor import Level, StreamStatus

__all__ = ['MqttTwinAdapter']


class MqttTwinAdapter:
    """Subscribes to every robot's ``state`` and ``scan``; hands each message, decoded or
    rejected, to ``on_received`` (on the MQTT thread); publishes the twin's outputs.

    ``state_qos`` is the subscription's QoS for the robots' messages (0: best effort, the
    twin's own ``input_qos``; 1: reliable). Virtual odometry and joint states go out with
    QoS 1, retained (a robot that connects gets the latest at once); virtual scans QoS 0.
    ``<prefix>/twin_bridge/status`` is ``online`` while this adapter is connected and
    ``offline`` (retained, also as the broker's last will) when it is gone.

    Commands reach a robot only with ``forward_commands=True``: :meth:`send_command` refuses
    otherwise.
    """

    def __init__(self, settings: BrokerSettings, prefix: str, robots: Sequence[str], *,
                 on_received: Callable[[Received], None],
                 state_qos: int = 0, stale_timeout: float = 0.5, client_id: str = '',
                 log: Callable[[str], None] | None = None,
                 forward_commands: bool = False) -> None:
        if not robots:
            raise ValueError('no robots: name at least one')
        if len(set(robots)) != len(robots):
            raise ValueError(f'robot names given twice: {sorted(robots)}')
        now = time.monotonic()
        self.links = {robot: RobotLink(robot, robot_topics(prefix, robot), stale_timeout, now)
                      for robot in robots}
        self._routes = {}
        for link in self.links.values():
            self._routes[link.topics.state] = (link, 'state')
            self._routes[link.topics.scan] = (link, 'scan')
        self._on_received = on_received
        self.forward_commands = forward_commands
        self._lock = threading.Lock()
        self.status_topic = f'{prefix}/twin_bridge/status'
        self.connection = MqttConnection(
            settings, client_id or f'twin_mqtt_{os.getpid()}',
            subscriptions={topic: state_qos for topic in self._routes},
            on_message=self._handle, on_connection=self._connection_changed, log=log,
            will=(self.status_topic, b'offline'))
        self._qos = {stream: (mqtt_qos(reliability), retain)
                     for stream, (reliability, retain) in VIRTUAL_STREAMS.items()}

    def start(self) -> None:
        """Connect in the background (retrying with backoff until the broker is there)."""
        self.connection.start()

    def stop(self) -> None:
        """Say ``offline`` and disconnect."""
        self.connection.stop(final=(self.status_topic, b'offline'))

    def _connection_changed(self, connected: bool) -> None:
        if connected:
            self.connection.publish(self.status_topic, b'online', qos=1, retain=True)
            return
        with self._lock:
            for link in self.links.values():
                link.broker_lost()

    def _handle(self, topic: str, payload: bytes) -> None:
        route = self._routes.get(topic)
        if route is None:  # subscriptions are exact topics: only a broker bug gets here
            return
        link, stream = route
        with self._lock:
            received = link.receive(stream, payload, time.monotonic(), time.time_ns())
        self._on_received(received)

    def _send(self, robot: str, stream: str, payload: bytes) -> bool:
        qos, retain = self._qos[stream]
        return self.connection.publish(self.links[robot].topics.virtual[stream], payload,
                                       qos, retain)

    def send_odometry(self, robot: str, sample: OdometrySample) -> bool:
        """Publish the twin's odometry of ``robot`` (``virtual/odom``)."""
        return self._send(robot, 'odom', encode_odometry(sample))

    def send_joint_states(self, robot: str, sample: JointStateSample) -> bool:
        """Publish the twin's joint states of ``robot`` (``virtual/joint_states``)."""
        return self._send(robot, 'joint_states', encode_joint_states(sample))

    def send_scan(self, robot: str, scan: ScanData, stamp_ns: int) -> bool:
        """Publish the twin's scan of ``robot`` (``virtual/scan``)."""
        return self._send(robot, 'scan', encode_scan(scan, stamp_ns))

    def send_command(self, robot: str, command: VelocityCommand) -> bool:
        """Publish the twin's gated command for ``robot`` (``virtual/cmd_vel_safe``, QoS 0,
        never retained).

        :raise PermissionError: the adapter was not made with ``forward_commands=True``
        """
        if not self.forward_commands:
            raise PermissionError('commands are not forwarded to robots (forward_commands off)')
        return self.connection.publish(self.links[robot].topics.command,
                                       encode_command(command), 0, False)

    def poll(self, now: float) -> list[tuple[str, str]]:
        """Update stale flags; ``(robot, stream)`` pairs that have just become stale."""
        with self._lock:
            return [(robot, stream) for robot, link in self.links.items()
                    for stream in link.poll(now)]

    def stale(self, robot: str, now: float | None = None) -> bool:
        """True while ``robot``'s state stream is stale."""
        with self._lock:
            return self.links[robot].stale(time.monotonic() if now is None else now)

    def summary_lines(self, now: float) -> list[str]:
        """One line per robot stream (counts, rejections, rate, age) and the connection's."""
        c = self.connection
        lines = [f'broker {c.settings.describe()}: connects={c.connects} '
                 f'disconnects={c.disconnects} refusals={c.refusals} dropped={c.dropped}']
        with self._lock:
            lines += [monitor.summary_line(now) for link in self.links.values()
                      for monitor in link.monitors.values()]
        return lines

    def statuses(self, now: float) -> list[StreamStatus]:
        """The broker connection's health, then each robot's streams."""
        c = self.connection
        counts = {'connects': c.connects, 'disconnects': c.disconnects,
                  'refusals': c.refusals, 'dropped': c.dropped}
        level, message = ((Level.OK, f'connected to {c.settings.describe()}') if c.connected
                          else (Level.ERROR, c.last_error or 'connecting'))
        values = (('broker', c.settings.describe()),
                  ('connected', 'true' if c.connected else 'false'),
                  *((key, str(value)) for key, value in counts.items()))
        statuses = [StreamStatus('mqtt broker', level, message, values, counts)]
        with self._lock:
            for link in self.links.values():
                statuses += link.statuses(now)
        return statuses
