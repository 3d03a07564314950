"""Message definitions (``ros2msg`` schema text) and type hashes without ROS (rosbags' store)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ['MessageType', 'message_type', 'typestore']


@dataclass(frozen=True)
class MessageType:
    """A ROS 2 message type as a bag records it.

    ``definition`` is the ``ros2msg`` text (the type's fields, then every dependency after a
    ``====`` line, as rosbag2 writes MCAP schemas); ``type_hash`` the ``RIHS01_...`` hash;
    both empty for a type the store does not know.
    """

    name: str
    definition: str
    type_hash: str

    @property
    def known(self) -> bool:
        """Whether the definition is known (else the schema is written empty)."""
        return bool(self.definition)


@lru_cache(maxsize=1)
def typestore() -> Any:
    """The ROS 2 Jazzy type store of ``rosbags`` (message classes, CDR (de)serialisers)."""
    from rosbags.typesys import Stores, get_typestore
    return get_typestore(Stores.ROS2_JAZZY)


@lru_cache(maxsize=256)
def message_type(name: str) -> MessageType:
    """``name`` (e.g. ``'sensor_msgs/msg/LaserScan'``) with its definition and hash.

    :raise ValueError: for a name that is not ``package/msg/Type``
    """
    parts = name.split('/')
    if len(parts) != 3 or parts[1] != 'msg' or not all(parts):
        raise ValueError(f'message type {name!r}; expected package/msg/Type')
    store = typestore()
    if name not in store.fielddefs:
        return MessageType(name, '', '')
    definition, _ = store.generate_msgdef(name, ros_version=2)
    return MessageType(name, definition, store.hash_rihs01(name))
