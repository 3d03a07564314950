"""One MQTT robot as the adapter sees it: its topics, its messages decoded and counted, and
whether its stream is stale."""

from __future__ import annotations

from dataclasses import dataclass, replace

from twin_bridge.core.lidar import ScanData
from twin_bridge.mqtt.schema import (
    MAX_PAYLOAD_BYTES,
    MessageRejectedError,
    RobotState,
    decode_scan,
    decode_state,
)
from twin_bridge.mqtt.topics import RobotTopics
from twin_bridge.twin.stream_monitor import Level, StreamMonitor, StreamStatus

__all__ = ['Received', 'RobotLink']


@dataclass(frozen=True)
class Received:
    """A message of a robot: its decoded content, or why it was rejected."""

    robot: str
    stream: str  # 'state' | 'scan'
    state: RobotState | None = None
    scan: ScanData | None = None
    rejected: MessageRejectedError | None = None
    recovered: bool = False  # the first good message after a stale period


class RobotLink:
    """Decodes a robot's ``state`` and ``scan`` messages and keeps their health.

    Times are seconds on one monotonic clock; ages (receive wall time - stamp) are
    nanoseconds of the wall clock. The state stream is stale after ``stale_timeout`` s
    without a good message, and at once while the broker is away (:meth:`broker_lost`);
    the next good message recovers it.
    """

    def __init__(self, robot: str, topics: RobotTopics, stale_timeout: float,
                 start_time: float, max_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.robot = robot
        self.topics = topics
        self.max_bytes = max_bytes
        self.monitors = {
            'state': StreamMonitor(f'mqtt {robot}: state', stale_timeout=stale_timeout,
                                   start_time=start_time),
            'scan': StreamMonitor(f'mqtt {robot}: scan', stale_timeout=stale_timeout,
                                  start_time=start_time, optional=True),
        }
        self.broker_away = False

    def receive(self, stream: str, payload: bytes, now: float, wall_ns: int) -> Received:
        """Decode one message of ``stream`` (``'state'`` or ``'scan'``) received at ``now``."""
        monitor = self.monitors[stream]
        monitor.record_received()
        try:
            if stream == 'state':
                state, scan = decode_state(payload, self.max_bytes), None
                stamp = state.stamp_ns
            else:
                state, scan = None, decode_scan(payload, self.max_bytes)
                stamp = scan.stamp_ns
        except MessageRejectedError as exc:
            monitor.record_rejected(exc.reason)
            return Received(self.robot, stream, rejected=exc)
        age = (wall_ns - stamp) * 1e-9 if stamp else float('nan')
        recovered = monitor.record_good(now, age)
        self.broker_away = False
        return Received(self.robot, stream, state, scan, recovered=recovered)

    def broker_lost(self) -> None:
        """The broker went away: the robot's streams are stale until a message comes again."""
        self.broker_away = True
        for monitor in self.monitors.values():
            if monitor.last_good_time is not None and not monitor.stale:
                monitor.stale = True
                monitor.stale_events += 1

    def poll(self, now: float) -> list[str]:
        """Update the stale flags; the streams that have just become stale."""
        return [name for name, monitor in self.monitors.items() if monitor.poll(now)]

    def stale(self, now: float) -> bool:
        """True while the state stream is stale (quiet too long, or the broker away)."""
        monitor = self.monitors['state']
        return self.broker_away or monitor.stale or monitor.level(now)[0] != Level.OK

    def statuses(self, now: float) -> list[StreamStatus]:
        """Health of the state and scan streams (a lost broker makes both at least WARN)."""
        statuses = []
        for monitor in self.monitors.values():
            status = monitor.status(now)
            if self.broker_away and monitor.last_good_time is not None:
                status = replace(status, level=max(status.level, Level.WARN), stale=True,
                                 message=f'stale: broker unreachable ({status.message})')
            statuses.append(status)
        return statuses
