"""A rosbag2 bag folder of MCAP files (ROS 2 profile), split by size or duration, no ROS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mcap.writer import CompressionType, Writer
import yaml

from twin_bridge.errors import TwinBridgeError
from twin_bridge.recording.bag_metadata import BagFile, BagTopic, bag_metadata, write_metadata
from twin_bridge.recording.message_types import message_type
from twin_bridge.recording.qos_profiles import QosProfile, offered_qos_yaml

__all__ = ['COMPRESSIONS', 'BagWriter', 'RecordingError', 'SplitPolicy']

COMPRESSIONS = {'zstd': CompressionType.ZSTD, 'lz4': CompressionType.LZ4,
                'none': CompressionType.NONE}
LIBRARY = 'twin_bridge'


class RecordingError(TwinBridgeError):
    """A bag cannot be created or written (path exists, not writable, disk full)."""


@dataclass(frozen=True)
class SplitPolicy:
    """When to start the next file of a bag: at ``max_bytes`` or after ``max_duration_ns``
    of messages in the current one (0: no limit)."""

    max_bytes: int = 0
    max_duration_ns: int = 0

    def __post_init__(self) -> None:
        if self.max_bytes < 0 or self.max_duration_ns < 0:
            raise ValueError('split limits must be >= 0')


@dataclass
class _Topic:
    meta: BagTopic
    encoding_schema: bytes
    sequence: int = 0


class BagWriter:
    """Write serialized (CDR) messages into ``folder``: ``<name>_0.mcap``, ``<name>_1.mcap``
    ... and ``metadata.yaml`` (rewritten at every split and on close), so the folder is a
    rosbag2 bag that ``ros2 bag info/play``, ``mcap`` and ``rosbags`` read.

    Every MCAP file has the ``ros2`` profile, one ``ros2msg`` schema per type, a ``cdr``
    channel per topic whose metadata holds ``offered_qos_profiles`` and ``topic_type_hash``,
    and a ``rosbag2`` metadata record (``serialized_metadata``, version 9).
    Not thread-safe: one thread writes (see :class:`~twin_bridge.recording.recorder.Recorder`).

    :param folder: the bag folder; it must not exist or be empty
    :param split: when to start a new file
    :param compression: ``zstd``, ``lz4`` or ``none`` (MCAP chunk compression)
    :param chunk_size: bytes per MCAP chunk
    :raise RecordingError: when the folder cannot be created
    """

    def __init__(self, folder: str | Path, *, split: SplitPolicy | None = None,
                 compression: str = 'zstd', chunk_size: int = 1 << 20,
                 custom_data: dict[str, str] | None = None) -> None:
        if compression not in COMPRESSIONS:
            raise ValueError(f'compression {compression!r}; expected one of '
                             f'{", ".join(COMPRESSIONS)}')
        self.folder = Path(folder)
        self.split = split or SplitPolicy()
        self._compression = COMPRESSIONS[compression]
        self._chunk_size = chunk_size
        self._custom = dict(custom_data or {})
        try:
            if self.folder.exists() and (not self.folder.is_dir() or any(self.folder.iterdir())):
                raise RecordingError(f'{self.folder} exists and is not an empty folder; '
                                     'give a new path')
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecordingError(f'cannot create the bag folder {self.folder}: {exc}') from exc
        self._topics: list[_Topic] = []
        self.files: list[BagFile] = []
        self._stream: BinaryIO | None = None
        self._writer: Writer | None = None
        self._channels: list[int] = []
        self._bytes_done = 0
        self._open_file()
        self._write_metadata()

    # -- API -----------------------------------------------------------------------------
    @property
    def topics(self) -> list[BagTopic]:
        """The topics added so far, with their message counts."""
        return [t.meta for t in self._topics]

    @property
    def bytes_written(self) -> int:
        """Bytes written to disk so far (all files)."""
        return self._bytes_done + (self._stream.tell() if self._stream is not None else 0)

    def add_topic(self, name: str, msgtype: str, qos: Sequence[QosProfile] = ()) -> int:
        """Register a topic of type ``msgtype`` offered with ``qos``; :return: its handle"""
        mt = message_type(msgtype)
        self._topics.append(_Topic(BagTopic(name, msgtype, tuple(qos), mt.type_hash),
                                   mt.definition.encode()))
        self._register(len(self._topics) - 1)
        return len(self._topics) - 1

    def write(self, handle: int, log_time_ns: int, data: bytes | memoryview,
              publish_time_ns: int | None = None) -> None:
        """Write one serialized message of topic ``handle`` received at ``log_time_ns``.

        :raise RecordingError: when the file cannot be written (e.g. the disk is full)
        """
        file = self.files[-1]
        if file.message_count and self._due(file, log_time_ns):
            self._roll_over()
            file = self.files[-1]
        topic = self._topics[handle]
        try:
            self._writer.add_message(self._channels[handle], log_time=log_time_ns,
                                     data=bytes(data), sequence=topic.sequence,
                                     publish_time=(log_time_ns if publish_time_ns is None
                                                   else publish_time_ns))
        except OSError as exc:
            raise RecordingError(f'cannot write {file.path}: {exc}') from exc
        topic.sequence += 1
        topic.meta.message_count += 1
        name = topic.meta.name
        file.topic_counts[name] = file.topic_counts.get(name, 0) + 1
        if not file.message_count:
            file.start_ns = file.end_ns = log_time_ns
        file.start_ns = min(file.start_ns, log_time_ns)
        file.end_ns = max(file.end_ns, log_time_ns)
        file.message_count += 1

    def close(self) -> None:
        """Finish the current file (its summary and index) and write ``metadata.yaml``."""
        if self._writer is None:
            return
        try:
            self._finish_file()
        finally:
            self._write_metadata()

    # -- files ---------------------------------------------------------------------------
    def _due(self, file: BagFile, log_time_ns: int) -> bool:
        split = self.split
        if split.max_duration_ns and log_time_ns - file.start_ns >= split.max_duration_ns:
            return True
        return bool(split.max_bytes and self._stream.tell() >= split.max_bytes)

    def _open_file(self) -> None:
        name = f'{self.folder.name}_{len(self.files)}.mcap'
        try:
            self._stream = open(self.folder / name, 'wb')
        except OSError as exc:
            raise RecordingError(f'cannot create {self.folder / name}: {exc}') from exc
        self._writer = Writer(self._stream, chunk_size=self._chunk_size,
                              compression=self._compression)
        self._writer.start(profile='ros2', library=LIBRARY)
        self.files.append(BagFile(name))
        self._channels = []
        self._schemas: dict[str, int] = {}
        for handle in range(len(self._topics)):
            self._register(handle)

    def _register(self, handle: int) -> None:
        topic = self._topics[handle]
        meta = topic.meta
        schema = self._schemas.get(meta.type)
        if schema is None:
            schema = self._writer.register_schema(meta.type, 'ros2msg', topic.encoding_schema)
            self._schemas[meta.type] = schema
        self._channels.append(self._writer.register_channel(
            meta.name, 'cdr', schema,
            {'offered_qos_profiles': offered_qos_yaml(meta.offered_qos_profiles),
             'topic_type_hash': meta.type_description_hash}))

    def _finish_file(self) -> None:
        file = self.files[-1]
        counts = file.topic_counts
        topics = [BagTopic(t.meta.name, t.meta.type, t.meta.offered_qos_profiles,
                           t.meta.type_description_hash, counts.get(t.meta.name, 0))
                  for t in self._topics]
        info = bag_metadata(topics, [file], custom_data=self._custom)
        try:
            self._writer.add_metadata('rosbag2', {
                'serialized_metadata': yaml.safe_dump(info, sort_keys=False)})
            self._writer.finish()
            self._bytes_done += self._stream.tell()
        except OSError as exc:
            raise RecordingError(f'cannot finish {file.path}: {exc}') from exc
        finally:
            self._writer = None
            stream, self._stream = self._stream, None
            try:
                stream.close()
            except OSError:
                pass

    def _roll_over(self) -> None:
        self._finish_file()
        self._write_metadata()
        self._open_file()

    def _write_metadata(self) -> None:
        try:
            write_metadata(self.folder, bag_metadata(self.topics, self.files,
                                                     custom_data=self._custom))
        except OSError as exc:
            raise RecordingError(f'cannot write {self.folder}/metadata.yaml: {exc}') from exc
