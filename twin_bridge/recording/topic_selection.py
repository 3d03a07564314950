"""Which graph topics a recording takes: exact names and ``prefix/*`` patterns (no ROS)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

__all__ = ['DEFAULT_TOPICS', 'TopicPatterns']

#: What ``twin_record`` and the node's ``record`` parameter take by default: the physical
#: inputs, every ``virtual/*`` output, and ``/diagnostics`` (relative names resolve in the
#: recorder's namespace).
DEFAULT_TOPICS = ('joint_states', 'odom', 'scan', 'cmd_vel', 'virtual/*', '/diagnostics')


class TopicPatterns:
    """Exact topic names and ``prefix/*`` patterns, resolved once to absolute names.

    :param patterns: e.g. ``['odom', 'virtual/*', '/diagnostics']``
    :param resolve: the node's ``resolve_topic_name`` (relative -> absolute)
    :raise ValueError: for an empty pattern or a ``*`` anywhere but a trailing ``/*``
    """

    def __init__(self, patterns: Sequence[str], resolve: Callable[[str], str]) -> None:
        self.exact: list[str] = []
        self.prefixes: list[str] = []
        for pattern in patterns:
            pattern = pattern.strip()
            if not pattern:
                raise ValueError('empty topic name')
            if pattern.endswith('/*'):
                base = pattern[:-2]
                if '*' in base:
                    raise ValueError(f'topic pattern {pattern!r}: only a trailing /* is allowed')
                self.prefixes.append(resolve(base or '/').rstrip('/') + '/')
            elif '*' in pattern:
                raise ValueError(f'topic pattern {pattern!r}: only a trailing /* is allowed')
            elif resolve(pattern) not in self.exact:
                self.exact.append(resolve(pattern))

    def matches(self, topic: str) -> bool:
        """Whether ``topic`` (absolute) is to be recorded."""
        return topic in self.exact or any(topic.startswith(p) for p in self.prefixes)

    def select(self, graph: Iterable[tuple[str, Sequence[str]]]) -> list[tuple[str, str]]:
        """The ``(topic, type)`` pairs of ``graph`` (``get_topic_names_and_types()``) to
        record; a topic with several types takes its first."""
        return [(name, types[0]) for name, types in graph if types and self.matches(name)]

    def describe(self) -> str:
        """The patterns, for a log line."""
        return ', '.join(self.exact + [p + '*' for p in self.prefixes])
