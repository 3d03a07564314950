"""Record off the caller's thread: a bounded queue, a writer thread, every drop counted."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
import threading
from typing import Any

from twin_bridge.recording.bag_writer import BagWriter, RecordingError, SplitPolicy
from twin_bridge.recording.qos_profiles import QosProfile

__all__ = ['Recorder', 'RecorderStats']

#: How long the writer thread sleeps when the queue is empty (s): it writes in batches.
WRITE_PERIOD_S = 0.02


@dataclass(frozen=True)
class RecorderStats:
    """A snapshot of a recorder's counts.

    ``dropped`` per topic: messages refused because the queue was full (or, after a write
    error, because nothing can be written any more); ``error`` the write error, if any.
    """

    path: str
    received: int
    written: int
    dropped: dict[str, int]
    queued: int
    queued_bytes: int
    max_queued: int
    bytes_written: int
    files: int
    error: str | None = None
    per_topic: dict[str, int] = field(default_factory=dict)

    @property
    def dropped_total(self) -> int:
        """All drops, every topic."""
        return sum(self.dropped.values())

    def diagnostic(self) -> tuple[int, str, dict[str, Any]]:
        """``(level, message, values)`` for a ``/diagnostics`` status: ERROR after a write
        error, WARN once anything was dropped, else OK."""
        values: dict[str, Any] = {'path': self.path, 'written': self.written,
                                  'dropped': self.dropped_total, 'queued': self.queued,
                                  'max_queued': self.max_queued,
                                  'bytes_written': self.bytes_written, 'files': self.files}
        values.update({f'dropped.{topic}': n for topic, n in sorted(self.dropped.items())})
        if self.error:
            return 2, f'recording stopped: {self.error}', values
        if self.dropped_total:
            return 1, f'{self.dropped_total} messages dropped (queue full)', values
        return 0, f'{self.written} messages recorded', values


class Recorder:
    """Queue serialized messages from any thread; one writer thread writes them to a bag.

    :meth:`offer` never blocks: beyond ``max_messages`` queued messages or ``max_bytes``
    queued bytes a message is dropped and counted for its topic. After a write error
    (disk full, folder removed) the recorder finishes what it can and counts further
    messages as dropped; :attr:`error` says why. :meth:`close` writes what is queued and
    closes the bag properly.

    :param folder: a new bag folder (see :class:`BagWriter`)
    :param on_error: called once (on the writer thread) with the write error
    """

    def __init__(self, folder: str | Path, *, split: SplitPolicy | None = None,
                 compression: str = 'zstd', max_messages: int = 20_000,
                 max_bytes: int = 256 << 20,
                 on_error: Callable[[RecordingError], None] | None = None,
                 writer: BagWriter | None = None) -> None:
        if max_messages < 1 or max_bytes < 1:
            raise ValueError('the queue needs room for at least one message')
        self._writer = writer or BagWriter(folder, split=split, compression=compression)
        self.path = str(self._writer.folder)
        self._max_messages, self._max_bytes = max_messages, max_bytes
        self._on_error = on_error
        self._lock = threading.Lock()
        self._queue: deque[tuple[int, int, Any]] = deque()
        self._topics: list[str] = []
        self._pending_topics: deque[tuple[int, str, str, tuple[QosProfile, ...]]] = deque()
        self._queued_bytes = 0
        self._max_queued = 0
        self._received = 0
        self._written = 0
        self._dropped: dict[str, int] = {}
        self._bytes, self._files, self._counts = 0, 1, {}
        self.error: str | None = None
        self._closing = False
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name='twin_recorder', daemon=True)
        self._thread.start()

    def add_topic(self, name: str, msgtype: str, qos: Sequence[QosProfile] = ()) -> int:
        """Register a topic (from any thread); :return: the handle :meth:`offer` takes"""
        with self._lock:
            handle = len(self._topics)
            self._topics.append(name)
            self._pending_topics.append((handle, name, msgtype, tuple(qos)))
        self._wake.set()
        return handle

    def offer(self, handle: int, log_time_ns: int, data: bytes | memoryview) -> bool:
        """Queue one serialized message; :return: ``False`` if it was dropped (counted)"""
        size = len(data)
        with self._lock:
            self._received += 1
            if (self.error is not None or self._closing
                    or len(self._queue) >= self._max_messages
                    or self._queued_bytes + size > self._max_bytes):
                topic = self._topics[handle]
                self._dropped[topic] = self._dropped.get(topic, 0) + 1
                return False
            self._queue.append((handle, log_time_ns, data))
            self._queued_bytes += size
            if len(self._queue) > self._max_queued:
                self._max_queued = len(self._queue)
        return True

    def stats(self) -> RecorderStats:
        """The current counts (safe from any thread)."""
        with self._lock:
            return RecorderStats(self.path, self._received, self._written, dict(self._dropped),
                                 len(self._queue), self._queued_bytes, self._max_queued,
                                 self._bytes, self._files, self.error, dict(self._counts))

    def close(self, timeout: float | None = 30.0) -> RecorderStats:
        """Write what is queued, close the bag (summary, index, ``metadata.yaml``).
        :return: the final counts"""
        with self._lock:
            self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        return self.stats()

    # -- the writer thread ---------------------------------------------------------------
    def _run(self) -> None:
        writer = self._writer
        try:
            while True:
                self._wake.wait(WRITE_PERIOD_S)
                self._wake.clear()
                closing = self._closing
                self._drain(writer)
                if closing:
                    break
        except RecordingError as exc:
            self._failed(exc)
        try:
            writer.close()
        except RecordingError as exc:
            self._failed(exc)
        self._snapshot(writer, 0)

    def _drain(self, writer: BagWriter) -> None:
        while True:
            with self._lock:
                topics = list(self._pending_topics)
                self._pending_topics.clear()
                batch = list(self._queue)
                self._queue.clear()
                self._queued_bytes = 0
            for _, name, msgtype, qos in topics:
                writer.add_topic(name, msgtype, qos)
            if not batch:
                return
            for i, (handle, log_time_ns, data) in enumerate(batch):
                try:
                    writer.write(handle, log_time_ns, data)
                except RecordingError:
                    with self._lock:
                        self._written += i
                        self._queue.extendleft(reversed(batch[i:]))  # counted by _failed
                    raise
            self._snapshot(writer, len(batch))

    def _snapshot(self, writer: BagWriter, written: int) -> None:
        counts = {t.name: t.message_count for t in writer.topics}
        with self._lock:
            self._written += written
            self._bytes, self._files, self._counts = (writer.bytes_written, len(writer.files),
                                                      counts)

    def _failed(self, exc: RecordingError) -> None:
        with self._lock:
            first = self.error is None
            self.error = str(exc)
            for handle, _, _ in self._queue:
                topic = self._topics[handle]
                self._dropped[topic] = self._dropped.get(topic, 0) + 1
            self._queue.clear()
            self._queued_bytes = 0
        if first and self._on_error is not None:
            self._on_error(exc)
