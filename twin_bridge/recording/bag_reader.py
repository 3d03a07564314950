"""Read a bag (rosbag2 folder, ``.mcap`` or sqlite3 ``.db3`` file) message by message."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin_bridge.errors import TwinBridgeError
from twin_bridge.recording.qos_profiles import QosProfile, parse_offered_qos

__all__ = ['BagError', 'BagMessage', 'BagReader']


class BagError(TwinBridgeError):
    """A bag cannot be read: missing, not a bag, truncated, or lacking a topic."""


@dataclass(frozen=True)
class BagMessage:
    """One recorded message: its topic, type, receive time (ns) and CDR bytes."""

    topic: str
    msgtype: str
    log_time_ns: int
    data: bytes | memoryview


class BagReader:
    """A bag opened with ``rosbags`` (MCAP and sqlite3 storage, folder or single file).

    Use as a context manager. :raise BagError: when the path is not a readable bag
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BagError(f'{self.path}: no such bag (a rosbag2 folder, .mcap or .db3 file)')
        from rosbags.rosbag2 import Reader
        try:
            self._reader = Reader(self.path)
        except Exception as exc:  # rosbags raises ReaderError and plain errors alike
            raise BagError(f'{self.path}: not a readable bag: {exc}') from exc
        self._open = False

    def __enter__(self) -> BagReader:
        try:
            self._reader.open()
        except Exception as exc:
            raise BagError(f'{self.path}: cannot open: {exc}') from exc
        self._open = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._open:
            self._reader.close()
            self._open = False

    @property
    def topics(self) -> dict[str, str]:
        """``{topic: message type}`` of every topic in the bag."""
        return {c.topic: c.msgtype for c in self._reader.connections}

    @property
    def message_counts(self) -> dict[str, int]:
        """Messages per topic (from the bag's index or metadata)."""
        counts: dict[str, int] = {}
        for c in self._reader.connections:
            counts[c.topic] = counts.get(c.topic, 0) + c.msgcount
        return counts

    def offered_qos(self, topic: str) -> list[QosProfile]:
        """The QoS the topic's publishers offered while it was recorded (``[]``: unknown)."""
        for c in self._reader.connections:
            if c.topic == topic:
                qos = getattr(c.ext, 'offered_qos_profiles', None) or []
                return parse_offered_qos([_qos_dict(q) for q in qos])
        return []

    @property
    def start_ns(self) -> int:
        """Receive time of the first message."""
        return int(self._reader.start_time)

    @property
    def duration_ns(self) -> int:
        """Time from the first to the last message."""
        return int(self._reader.duration)

    def messages(self, topics: Collection[str] | None = None) -> Iterator[BagMessage]:
        """The messages of ``topics`` (default: all), in receive-time order.

        :raise BagError: when the bag turns out to be truncated or corrupt
        """
        conns = [c for c in self._reader.connections if topics is None or c.topic in topics]
        try:
            for conn, stamp, data in self._reader.messages(connections=conns):
                yield BagMessage(conn.topic, conn.msgtype, int(stamp), data)
        except BagError:
            raise
        except Exception as exc:
            raise BagError(f'{self.path}: cannot read further: {exc}') from exc


def _qos_dict(qos: Any) -> dict[str, Any]:
    def duration(t: Any) -> dict[str, int]:
        return {'sec': int(t.sec), 'nsec': int(t.nsec)}
    return {'history': qos.history.name.lower(), 'depth': int(qos.depth),
            'reliability': qos.reliability.name.lower(),
            'durability': qos.durability.name.lower(), 'deadline': duration(qos.deadline),
            'lifespan': duration(qos.lifespan), 'liveliness': qos.liveliness.name.lower(),
            'liveliness_lease_duration': duration(qos.liveliness_lease_duration),
            'avoid_ros_namespace_conventions': bool(qos.avoid_ros_namespace_conventions)}
