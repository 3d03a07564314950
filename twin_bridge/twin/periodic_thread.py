"""A function run at a fixed rate on a thread of its own (absolute deadlines, clean stop)."""

from __future__ import annotations

from collections.abc import Callable
import math
import threading
import time

__all__ = ['PeriodicThread']


class PeriodicThread:
    """Calls ``tick()`` every ``1 / rate_hz`` seconds on a daemon thread until :meth:`stop`.

    Deadlines advance by whole periods from the start, so the rate does not drift with
    jitter; a tick that falls more than two periods behind skips the missed deadlines
    (counted in :attr:`skipped`) instead of bursting. An exception from ``tick`` is counted
    in :attr:`errors`, handed to ``on_error`` and does not end the thread.

    The twin's node casts its scans here, off the executor thread, so a scan never delays
    the mirroring of an input (MuJoCo releases the GIL while it casts rays).
    """

    def __init__(self, name: str, rate_hz: float, tick: Callable[[], None], *,
                 on_error: Callable[[BaseException], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """:param name: the thread's name (shown in tracebacks and ``ps -L``)
        :param rate_hz: calls per second (> 0)
        :param tick: the function to call
        :param on_error: called with an exception ``tick`` raised (default: ignored)
        :param clock: monotonic clock in seconds
        """
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f'{name}: rate must be a finite number > 0, got {rate_hz!r}')
        self.name = name
        self.period = 1.0 / rate_hz
        self.ticks = 0
        self.skipped = 0
        self.errors = 0
        self._tick = tick
        self._on_error = on_error
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> PeriodicThread:
        """Start calling ``tick``; the first call is immediate. :return: self"""
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop after the current tick. :return: True if the thread has ended"""
        self._stop.set()
        if self._thread.ident is None:
            return True
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        due = self._clock()
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception as exc:  # a failing tick must not end the thread
                self.errors += 1
                if self._on_error is not None:
                    self._on_error(exc)
            self.ticks += 1
            due += self.period
            behind = self._clock() - due
            if behind > 2 * self.period:
                missed = math.floor(behind / self.period) + 1
                self.skipped += missed
                due += missed * self.period
            self._stop.wait(max(0.0, due - self._clock()))
