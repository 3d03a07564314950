"""Rolling-window latency and rate statistics (O(1) append, percentiles computed on demand)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
import math

import numpy as np

__all__ = ['LatencyStats', 'LatencySummary', 'summarize']


@dataclass(frozen=True)
class LatencySummary:
    """Statistics over the samples currently in the window (latencies in seconds).

    ``count`` is every sample ever added; ``window_count`` the ones in the window (the rate
    counts them all). Latency figures ignore ``nan`` samples (events with no latency
    measured) and are ``nan`` when there is nothing to compute them from.
    """

    count: int
    window_count: int
    rate_hz: float
    min: float
    mean: float
    p50: float
    p95: float
    p99: float
    max: float

    def as_dict(self) -> dict[str, float | int]:
        """The summary as a plain dict (JSON-friendly apart from ``nan``)."""
        return asdict(self)


class LatencyStats:
    """Latency samples with their arrival times, kept in a fixed-size ring buffer.

    The window is the last ``capacity`` samples, further limited to the last ``window_s``
    seconds (relative to ``now`` given to :meth:`summary`) when ``window_s`` is set.
    Appending is O(1) and allocation-free; percentiles are computed only by :meth:`summary`.
    """

    def __init__(self, capacity: int = 1000, window_s: float | None = 10.0) -> None:
        """:param capacity: maximum number of samples kept (> 0)
        :param window_s: maximum age of samples in seconds, or ``None`` for no age limit
        :raise ValueError: for a non-positive capacity or window
        """
        if capacity <= 0:
            raise ValueError(f'capacity must be > 0, got {capacity}')
        if window_s is not None and not window_s > 0:
            raise ValueError(f'window_s must be > 0 or None, got {window_s}')
        self._latency = np.zeros(capacity, dtype=np.float64)
        self._time = np.zeros(capacity, dtype=np.float64)
        self._capacity = capacity
        self._window_s = window_s
        self._next = 0
        self._count = 0

    @property
    def count(self) -> int:
        """Number of samples added since construction (or :meth:`clear`)."""
        return self._count

    def add(self, latency_s: float, time_s: float) -> None:
        """Record one event at ``time_s`` (any monotonic clock, seconds) with its latency in
        seconds (``nan``: counted for the rate, left out of the latency figures)."""
        i = self._next
        self._latency[i] = latency_s
        self._time[i] = time_s
        self._next = i + 1 if i + 1 < self._capacity else 0
        self._count += 1

    def clear(self) -> None:
        """Forget every sample."""
        self._next = 0
        self._count = 0

    def window(self, now_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Copies of ``(latencies, times)`` in the window, oldest first.

        :param now_s: reference time for the age limit (default: the newest sample's time)
        """
        n = min(self._count, self._capacity)
        if n < self._capacity:
            lat, times = self._latency[:n].copy(), self._time[:n].copy()
        else:
            order = np.r_[self._next:self._capacity, 0:self._next]
            lat, times = self._latency[order], self._time[order]
        if self._window_s is not None and n:
            ref = times[-1] if now_s is None else now_s
            keep = times >= ref - self._window_s
            lat, times = lat[keep], times[keep]
        return lat, times

    def summary(self, now_s: float | None = None) -> LatencySummary:
        """Count, rate and latency min/mean/p50/p95/p99/max over the window.

        The rate is ``(n - 1) / (newest - oldest)`` over the samples in the window, so it
        falls to 0 once every sample is older than ``window_s``.
        """
        lat, times = self.window(now_s)
        return summarize(lat, times, self._count)


def summarize(latencies_s: np.ndarray, times_s: np.ndarray,
              count: int | None = None) -> LatencySummary:
    """Rate and latency figures of samples given oldest first (e.g. a slice of
    :meth:`LatencyStats.window`), as :meth:`LatencyStats.summary` computes them.

    :param count: the summary's ``count`` (default: the number of samples given)
    """
    lat = np.asarray(latencies_s, dtype=float)
    n = len(lat)
    count = n if count is None else count
    nan = math.nan
    if n == 0:
        return LatencySummary(count, 0, 0.0, nan, nan, nan, nan, nan, nan)
    span = float(times_s[-1] - times_s[0])
    rate = (n - 1) / span if n > 1 and span > 0 else 0.0
    lat = lat[~np.isnan(lat)]
    if len(lat) == 0:
        return LatencySummary(count, n, rate, nan, nan, nan, nan, nan, nan)
    p50, p95, p99 = np.percentile(lat, (50.0, 95.0, 99.0))
    return LatencySummary(count, n, rate, float(lat.min()), float(lat.mean()),
                          float(p50), float(p95), float(p99), float(lat.max()))
