"""QoS profiles as rosbag2 stores them: ``offered_qos_profiles`` (metadata version 9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ['DURATION_INFINITE_NS', 'QosProfile', 'adapt_request_to_offers', 'offered_qos_yaml',
           'parse_offered_qos', 'qos_dicts']

#: ``RMW_DURATION_INFINITE`` (what DDS reports for "no deadline"), in nanoseconds.
DURATION_INFINITE_NS = 9_223_372_036_854_775_807
_NS = 1_000_000_000

HISTORY = ('system_default', 'keep_last', 'keep_all', 'unknown')
RELIABILITY = ('system_default', 'reliable', 'best_effort', 'unknown', 'best_available')
DURABILITY = ('system_default', 'transient_local', 'volatile', 'unknown', 'best_available')
LIVELINESS = ('system_default', 'automatic', '', 'manual_by_topic', 'unknown',
              'best_available')


@dataclass(frozen=True)
class QosProfile:
    """One publisher's offered QoS (policy names as rmw spells them, durations in ns).

    The defaults are a reliable, volatile keep-last-10 publisher as DDS reports it.
    """

    history: str = 'keep_last'
    depth: int = 10
    reliability: str = 'reliable'
    durability: str = 'volatile'
    deadline_ns: int = DURATION_INFINITE_NS
    lifespan_ns: int = DURATION_INFINITE_NS
    liveliness: str = 'automatic'
    liveliness_lease_duration_ns: int = DURATION_INFINITE_NS
    avoid_ros_namespace_conventions: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (('history', HISTORY), ('reliability', RELIABILITY),
                              ('durability', DURABILITY), ('liveliness', LIVELINESS)):
            if getattr(self, name) not in allowed or not getattr(self, name):
                raise ValueError(f'QoS {name} {getattr(self, name)!r}; expected one of '
                                 f'{", ".join(a for a in allowed if a)}')

    @classmethod
    def from_enums(cls, history: int, depth: int, reliability: int, durability: int,
                   deadline_ns: int, lifespan_ns: int, liveliness: int,
                   lease_ns: int, avoid_ros_namespace_conventions: bool) -> QosProfile:
        """From rmw enum values (as rclpy's ``QoSProfile`` policies hold them)."""
        return cls(HISTORY[history], depth, RELIABILITY[reliability], DURABILITY[durability],
                   deadline_ns, lifespan_ns, LIVELINESS[liveliness], lease_ns,
                   avoid_ros_namespace_conventions)

    def as_dict(self) -> dict[str, Any]:
        """The profile as rosbag2 (metadata version 9) serialises it."""
        return {
            'history': self.history,
            'depth': int(self.depth),
            'reliability': self.reliability,
            'durability': self.durability,
            'deadline': _duration(self.deadline_ns),
            'lifespan': _duration(self.lifespan_ns),
            'liveliness': self.liveliness,
            'liveliness_lease_duration': _duration(self.liveliness_lease_duration_ns),
            'avoid_ros_namespace_conventions': bool(self.avoid_ros_namespace_conventions),
        }


def _duration(ns: int) -> dict[str, int]:
    sec, nsec = divmod(int(ns), _NS)
    return {'sec': sec, 'nsec': nsec}


def qos_dicts(profiles: Sequence[QosProfile]) -> list[dict[str, Any]]:
    """The profiles as the list ``metadata.yaml`` (version 9) holds under
    ``offered_qos_profiles``."""
    return [p.as_dict() for p in profiles]


def offered_qos_yaml(profiles: Sequence[QosProfile]) -> str:
    """The YAML string an MCAP channel's ``offered_qos_profiles`` metadata holds (a sequence
    of profiles, policies by name; ``''`` for none), as ``rosbag2_storage`` writes it."""
    if not profiles:
        return ''
    return yaml.safe_dump(qos_dicts(profiles), default_flow_style=False,
                          sort_keys=False).strip()


def parse_offered_qos(text: str | list) -> list[QosProfile]:
    """Parse ``offered_qos_profiles`` (a YAML string or the parsed list; names or the integer
    values of metadata version 8 and before). :raise ValueError: on a malformed entry"""
    items = yaml.safe_load(text) if isinstance(text, str) else text
    if not items:
        return []
    out = []
    for item in items:
        try:
            out.append(QosProfile(
                _policy(item, 'history', HISTORY), int(item['depth']),
                _policy(item, 'reliability', RELIABILITY),
                _policy(item, 'durability', DURABILITY), _ns(item, 'deadline'),
                _ns(item, 'lifespan'), _policy(item, 'liveliness', LIVELINESS),
                _ns(item, 'liveliness_lease_duration'),
                bool(item['avoid_ros_namespace_conventions'])))
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f'malformed offered_qos_profiles entry {item!r}: {exc}') from exc
    return out


def _policy(item: dict, key: str, names: tuple[str, ...]) -> str:
    value = item[key]
    return names[value] if isinstance(value, int) else str(value)


def _ns(item: dict, key: str) -> int:
    return int(item[key]['sec']) * _NS + int(item[key]['nsec'])


def adapt_request_to_offers(offers: Sequence[QosProfile]) -> tuple[str, str]:
    """The ``(reliability, durability)`` a recorder requests so it matches every offer:
    reliable / transient_local only if all publishers offer it (rosbag2's rule)."""
    if not offers:
        return 'best_effort', 'volatile'
    reliable = all(p.reliability == 'reliable' for p in offers)
    latched = all(p.durability == 'transient_local' for p in offers)
    return ('reliable' if reliable else 'best_effort',
            'transient_local' if latched else 'volatile')
