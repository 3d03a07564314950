"""Absolute-deadline pacing of several periodic streams from one thread (no drift, no bursts)."""

from __future__ import annotations

from dataclasses import dataclass
import math

__all__ = ['PeriodicSchedule']


@dataclass
class _Stream:
    name: str
    period: float
    due: float
    ticks: int = 0
    skipped: int = 0


class PeriodicSchedule:
    """Deadlines for named streams, each at its own rate, on one clock (seconds).

    Deadlines advance by whole periods from the start time, so rates do not drift with
    scheduling jitter. A stream that falls more than ``max_lag_periods`` behind skips the
    missed ticks (counted in :meth:`skipped`) instead of publishing a catch-up burst.
    """

    def __init__(self, start: float, max_lag_periods: float = 2.0) -> None:
        self._start = float(start)
        self._max_lag = float(max_lag_periods)
        self._streams: list[_Stream] = []

    def add(self, name: str, rate_hz: float) -> None:
        """Add a stream ticking at ``rate_hz`` (> 0), first due at the start time."""
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f'stream {name!r}: rate must be a finite number > 0, got {rate_hz!r}')
        if any(s.name == name for s in self._streams):
            raise ValueError(f'stream {name!r} added twice')
        self._streams.append(_Stream(name, 1.0 / rate_hz, self._start))

    def __len__(self) -> int:
        return len(self._streams)

    def __contains__(self, name: object) -> bool:
        return any(s.name == name for s in self._streams)

    def next_due(self) -> tuple[str, float]:
        """The stream due soonest and its deadline (ties go to the stream added first)."""
        if not self._streams:
            raise LookupError('no streams in the schedule')
        stream = min(self._streams, key=lambda s: s.due)
        return stream.name, stream.due

    def done(self, name: str, now: float) -> None:
        """Mark the current tick of ``name`` as served at time ``now``; schedule the next."""
        stream = next(s for s in self._streams if s.name == name)
        stream.ticks += 1
        stream.due += stream.period
        behind = now - stream.due
        if behind > self._max_lag * stream.period:
            missed = math.floor(behind / stream.period) + 1
            stream.skipped += missed
            stream.due += missed * stream.period

    def ticks(self, name: str) -> int:
        """Ticks served so far for ``name``."""
        return next(s.ticks for s in self._streams if s.name == name)

    def skipped(self, name: str) -> int:
        """Ticks of ``name`` skipped because the loop fell behind."""
        return next(s.skipped for s in self._streams if s.name == name)
