"""Per-stream health: counts, rate, latency, rejections and staleness, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
import math

from twin_bridge.twin.latency_stats import LatencyStats, LatencySummary

__all__ = ['Level', 'StreamMonitor', 'StreamStatus']


class Level(IntEnum):
    """Health level; the values equal ``diagnostic_msgs/DiagnosticStatus`` OK/WARN/ERROR."""

    OK = 0
    WARN = 1
    ERROR = 2


@dataclass(frozen=True)
class StreamStatus:
    """A stream's health at one moment: what a ``DiagnosticStatus`` carries, without ROS.

    ``values`` are the diagnostic key/value strings; the same figures as numbers are in
    ``counts`` (every count shown: ``received``, ``rejected.<reason>``, counters...),
    ``summary`` (rate and latency in seconds) and ``stale``.
    """

    name: str
    level: Level
    message: str
    values: tuple[tuple[str, str], ...]
    counts: Mapping[str, int] = field(default_factory=dict)
    summary: LatencySummary | None = None
    stale: bool = False


def _ms(seconds: float) -> str:
    return 'nan' if math.isnan(seconds) else f'{seconds * 1e3:.3f}'


class StreamMonitor:
    """Counts and health of one stream (a physical input or a twin output).

    An *input* counts received / accepted / rejected-by-reason samples and their age on
    arrival (receive wall time - header stamp); an *output* counts published messages and
    their receive→publish latency. Times passed in are seconds on one monotonic clock.

    Staleness (only with a ``stale_timeout``): no good sample for longer than the timeout is
    WARN, longer than ``error_factor`` × timeout is ERROR; a stream that never had a good
    sample is WARN ("waiting") until ``error_factor`` × timeout after ``start_time``, then
    ERROR. The next good sample clears it.

    *Counters* count events that are neither acceptances nor rejections (e.g. an unstamped
    sample, a timeline reset); each one is shown in diagnostics under its own name.
    """

    def __init__(self, name: str, *, kind: str = 'input', stale_timeout: float | None = None,
                 error_factor: float = 4.0, start_time: float = 0.0, capacity: int = 1000,
                 window_s: float = 10.0, counters: tuple[str, ...] = (),
                 optional: bool = False) -> None:
        """:param name: stream name shown in diagnostics (e.g. ``'joint_states'``)
        :param kind: ``'input'`` or ``'output'``
        :param stale_timeout: seconds without a good sample before WARN, or ``None``
        :param counters: counter names shown (at 0) from the start; others appear when first
            counted
        :param optional: an input the twin can do without (the physical scan): OK until its
            first sample, stale-checked from then on
        :raise ValueError: for an unknown kind or a non-positive timeout/factor
        """
        if kind not in ('input', 'output'):
            raise ValueError(f"kind must be 'input' or 'output', got {kind!r}")
        if stale_timeout is not None and not stale_timeout > 0:
            raise ValueError(f'stale_timeout must be > 0 or None, got {stale_timeout}')
        if not error_factor >= 1:
            raise ValueError(f'error_factor must be >= 1, got {error_factor}')
        self.name = name
        self.kind = kind
        self.stale_timeout = stale_timeout
        self.error_factor = error_factor
        self.optional = optional
        self.start_time = start_time
        self.received = 0
        self.rejections: dict[str, int] = {}
        self.counters: dict[str, int] = dict.fromkeys(counters, 0)
        self.stats = LatencyStats(capacity, window_s)
        self.last_good_time: float | None = None
        self.stale = False
        self.stale_events = 0

    @property
    def good(self) -> int:
        """Accepted (input) or published (output) samples."""
        return self.stats.count

    @property
    def rejected(self) -> int:
        """Rejected samples, all reasons."""
        return sum(self.rejections.values())

    def record_received(self) -> None:
        """An input sample arrived (before validation)."""
        self.received += 1

    def record_rejected(self, reason: str) -> None:
        """An input sample was rejected for ``reason``."""
        self.rejections[reason] = self.rejections.get(reason, 0) + 1

    def count(self, counter: str) -> None:
        """Add one to ``counter`` (an event that is neither an acceptance nor a rejection)."""
        self.counters[counter] = self.counters.get(counter, 0) + 1

    def record_good(self, now: float, latency_s: float = math.nan) -> bool:
        """A sample was accepted (input) or published (output) at ``now``.

        :param latency_s: its age on arrival (input) or receive→publish time (output)
        :return: True if this ends a stale period (worth a log line)
        """
        self.stats.add(latency_s, now)
        self.last_good_time = now
        if self.kind == 'output':
            self.received += 1
        recovered = self.stale
        self.stale = False
        return recovered

    def level(self, now: float) -> tuple[Level, str]:
        """Current health level and a one-line message."""
        timeout = self.stale_timeout
        if self.last_good_time is None:
            if timeout is None:
                return Level.OK, 'no data yet'
            if self.optional:
                return Level.OK, 'not received (optional)'
            waited = now - self.start_time
            if waited > self.error_factor * timeout:
                return Level.ERROR, f'no {self._good_word} sample in {waited:.1f} s since start'
            return Level.WARN, 'waiting for the first sample'
        age = now - self.last_good_time
        if timeout is not None and age > timeout:
            level = Level.ERROR if age > self.error_factor * timeout else Level.WARN
            return level, f'stale: no {self._good_word} sample for {age:.2f} s'
        return Level.OK, 'ok'

    def poll(self, now: float) -> bool:
        """Update the stale flag; True when the stream has just become stale."""
        level, _ = self.level(now)
        became = (level != Level.OK and self.last_good_time is not None and not self.stale)
        if became:
            self.stale = True
            self.stale_events += 1
        return became

    def summary(self, now: float) -> LatencySummary:
        """Rate and latency figures over the rolling window."""
        return self.stats.summary(now)

    def status(self, now: float) -> StreamStatus:
        """The stream's health and figures as a :class:`StreamStatus`."""
        level, message = self.level(now)
        s = self.summary(now)
        latency_key = 'age' if self.kind == 'input' else 'latency'
        counts: dict[str, int] = {}
        if self.kind == 'input':
            counts.update(received=self.received, accepted=self.good, rejected=self.rejected)
            counts.update((f'rejected.{reason}', count)
                          for reason, count in sorted(self.rejections.items()))
        else:
            counts['published'] = self.good
        counts.update(self.counters)
        values: list[tuple[str, str]] = [('kind', self.kind)]
        values += [(key, str(count)) for key, count in counts.items()]
        last_age = math.nan if self.last_good_time is None else now - self.last_good_time
        stale = level != Level.OK and self.last_good_time is not None
        values += [
            ('rate_hz', f'{s.rate_hz:.2f}'),
            ('window_count', str(s.window_count)),
            (f'{latency_key}_ms.min', _ms(s.min)),
            (f'{latency_key}_ms.avg', _ms(s.mean)),
            (f'{latency_key}_ms.p50', _ms(s.p50)),
            (f'{latency_key}_ms.p95', _ms(s.p95)),
            (f'{latency_key}_ms.p99', _ms(s.p99)),
            (f'{latency_key}_ms.max', _ms(s.max)),
            ('since_last_s', 'nan' if math.isnan(last_age) else f'{last_age:.3f}'),
            ('stale', 'true' if stale else 'false'),
            ('stale_events', str(self.stale_events)),
        ]
        counts['stale_events'] = self.stale_events
        return StreamStatus(self.name, level, message, tuple(values), counts, s, stale)

    def summary_line(self, now: float) -> str:
        """One line for a shutdown log: counts, rejections, rate and latency."""
        s = self.summary(now)
        counts = (f'received={self.received} accepted={self.good} rejected={self.rejected}'
                  if self.kind == 'input' else f'published={self.good}')
        if self.rejections:
            counts += ' (' + ', '.join(f'{k}={v}' for k, v in sorted(self.rejections.items())) + ')'
        if any(self.counters.values()):
            counts += '; ' + ' '.join(f'{k}={v}' for k, v in self.counters.items() if v)
        label = 'age' if self.kind == 'input' else 'latency'
        figures = (f'{label} ms p50={_ms(s.p50)} p95={_ms(s.p95)} p99={_ms(s.p99)} '
                   f'max={_ms(s.max)}')
        return f'{self.name}: {counts}; rate={s.rate_hz:.1f} Hz; {figures}'

    @property
    def _good_word(self) -> str:
        return 'accepted' if self.kind == 'input' else 'published'
