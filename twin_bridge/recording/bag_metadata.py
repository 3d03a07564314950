"""rosbag2's ``metadata.yaml`` (version 9, as ROS 2 Jazzy writes and reads it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
import os
from pathlib import Path
from typing import Any

import yaml

from twin_bridge.recording.qos_profiles import QosProfile, qos_dicts

__all__ = ['METADATA_VERSION', 'BagFile', 'BagTopic', 'bag_metadata', 'write_metadata']

METADATA_VERSION = 9
ROS_DISTRO = 'jazzy'


@dataclass
class BagTopic:
    """One topic of a bag: name, type, offered QoS, type hash and message count."""

    name: str
    type: str
    offered_qos_profiles: Sequence[QosProfile] = ()
    type_description_hash: str = ''
    message_count: int = 0


@dataclass
class BagFile:
    """One storage file of a bag (its name relative to the bag folder)."""

    path: str
    start_ns: int = 0
    end_ns: int = 0
    message_count: int = 0
    topic_counts: dict[str, int] = field(default_factory=dict)


def bag_metadata(topics: Sequence[BagTopic], files: Sequence[BagFile],
                 storage: str = 'mcap', custom_data: dict[str, str] | None = None
                 ) -> dict[str, Any]:
    """The ``rosbag2_bagfile_information`` mapping for ``topics`` stored in ``files``."""
    used = [f for f in files if f.message_count] or list(files)
    start = min((f.start_ns for f in used if f.message_count), default=0)
    end = max((f.end_ns for f in used if f.message_count), default=start)
    return {
        'version': METADATA_VERSION,
        'storage_identifier': storage,
        'duration': {'nanoseconds': max(0, end - start)},
        'starting_time': {'nanoseconds_since_epoch': start},
        'message_count': sum(f.message_count for f in files),
        'topics_with_message_count': [
            {'topic_metadata': {'name': t.name, 'type': t.type,
                                'serialization_format': 'cdr',
                                'offered_qos_profiles': qos_dicts(t.offered_qos_profiles),
                                'type_description_hash': t.type_description_hash},
             'message_count': t.message_count}
            for t in topics],
        'compression_format': '',
        'compression_mode': '',
        'relative_file_paths': [f.path for f in files],
        'files': [{'path': f.path,
                   'starting_time': {'nanoseconds_since_epoch': f.start_ns},
                   'duration': {'nanoseconds': max(0, f.end_ns - f.start_ns)},
                   'message_count': f.message_count} for f in files],
        'custom_data': dict(custom_data or {}),
        'ros_distro': ROS_DISTRO,
    }


def write_metadata(folder: Path, info: dict[str, Any]) -> Path:
    """Write ``metadata.yaml`` atomically (a temporary file renamed over it)."""
    path = Path(folder) / 'metadata.yaml'
    tmp = path.with_suffix('.yaml.tmp')
    tmp.write_text(yaml.safe_dump({'rosbag2_bagfile_information': info}, sort_keys=False),
                   encoding='utf-8')
    os.replace(tmp, path)
    return path
