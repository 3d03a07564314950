"""The twin's outputs as handles: what to publish for accepted inputs, and when it was."""

from __future__ import annotations

from collections.abc import Callable, Sequence
import math
from typing import Generic, Protocol, TypeVar

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import ScanData
from twin_bridge.twin.stream_monitor import StreamMonitor

__all__ = ['ScanOutput', 'StateOutput']

S = TypeVar('S')


class _Source(Protocol):
    """What an output needs to know of an input stream: its last accepted sample's stamp and
    monotonic receive time."""

    stamp_ns: int | None
    receive_time: float


class StateOutput(Generic[S]):
    """A mirrored-state output (virtual joint states or odometry).

    For every accepted input the session *offers* the output: an uncapped output hands back
    the sample to publish at once, a rate-capped one (``capped``) marks it pending for the
    node's timer, which collects it with :meth:`take`. After publishing, the node calls
    :meth:`published`; the latency recorded is the time since the input it reflects arrived.
    """

    def __init__(self, monitor: StreamMonitor, read: Callable[[], S | None],
                 capped: bool = False) -> None:
        """:param monitor: the output stream's monitor
        :param read: the twin's current state as the sample to publish (``None``: unknown)
        :param capped: published by a rate-capped timer rather than per input
        """
        self.monitor = monitor
        self.name = monitor.name
        self.capped = capped
        self._read = read
        self._pending = False
        self._receive_time = math.nan

    def offer(self, receive_time: float) -> S | None:
        """An input reflected by this output was accepted at ``receive_time``: the sample to
        publish now, or ``None`` (capped: pending until :meth:`take`; or no state yet)."""
        self._receive_time = receive_time
        if self.capped:
            self._pending = True
            return None
        return self._read()

    def take(self) -> S | None:
        """The sample to publish for inputs accepted since the last call (``None``: nothing
        new, or no state yet): what a rate-capped output's timer publishes."""
        if not self._pending:
            return None
        self._pending = False
        return self._read()

    def published(self, now: float) -> None:
        """The sample was published at ``now`` (monotonic seconds)."""
        self.monitor.record_good(now, now - self._receive_time)


class ScanOutput:
    """The scan output: scans of the current twin state, stamped with the newest input.

    A scan's latency is counted only for the first scan after a newly accepted input (later
    scans reflect nothing new); the others count for the rate with no latency.
    """

    def __init__(self, monitor: StreamMonitor, backend: SimulatorBackend,
                 sources: Sequence[_Source]) -> None:
        """:param sources: the input streams a scan reflects (their newest stamp is its)"""
        self.monitor = monitor
        self.name = monitor.name
        self._backend = backend
        self._sources = tuple(sources)
        self._reflected_receive_time: float | None = None

    def take(self, wall_ns: int) -> tuple[ScanData, int] | None:
        """A scan of the current twin state and its stamp: the newest accepted input stamp,
        or ``wall_ns`` before any input. ``None`` when the backend has no new scan."""
        scan = self._backend.scan()
        if scan is None:
            return None
        return scan, self.stamp_ns(wall_ns)

    def stamp_ns(self, wall_ns: int) -> int:
        """The stamp of what the twin senses now: the newest accepted input stamp, or
        ``wall_ns`` before any input (a 3D lidar's cloud is stamped alike)."""
        stamps = [s.stamp_ns for s in self._sources if s.stamp_ns is not None]
        return max(stamps) if stamps else wall_ns

    def published(self, now: float) -> None:
        """The scan was published at ``now`` (monotonic seconds)."""
        latency = math.nan
        newest = max((s for s in self._sources if s.stamp_ns is not None),
                     key=lambda s: s.receive_time, default=None)
        if newest is not None and newest.receive_time != self._reflected_receive_time:
            latency = now - newest.receive_time
            self._reflected_receive_time = newest.receive_time
        self.monitor.record_good(now, latency)
