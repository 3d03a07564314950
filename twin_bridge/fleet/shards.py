"""Splitting a fleet among twin processes: ``shard: i/n``."""

from __future__ import annotations

from dataclasses import dataclass
import re

from twin_bridge.errors import ConfigError

__all__ = ['Shard', 'parse_shard']

_SHARD = re.compile(r'\s*(\d+)\s*/\s*(\d+)\s*')


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``: it serves every robot whose position in the fleet file
    is ``index`` modulo ``count`` (so shards stay balanced as robots are added)."""

    index: int = 0
    count: int = 1

    def serves(self, position: int) -> bool:
        """True if the robot at ``position`` in the fleet file is this shard's."""
        return position % self.count == self.index

    def __str__(self) -> str:
        return f'{self.index}/{self.count}'


def parse_shard(text: str) -> Shard:
    """``'1/3'`` -> ``Shard(1, 3)``; ``''`` is the whole fleet (``0/1``).

    :raise ConfigError: naming the parameter and the value
    """
    if not text.strip():
        return Shard()
    match = _SHARD.fullmatch(text)
    if match is None:
        raise ConfigError(f'parameter shard: expected "i/n" (e.g. "0/3"), got {text!r}')
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f'parameter shard: need 0 <= i < n, got {text!r}')
    return Shard(index, count)
