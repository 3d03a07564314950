"""Stop signals of the demo: SIGINT, SIGTERM and SIGHUP recorded, raised where the loops check."""

from __future__ import annotations

import signal
from typing import Any

__all__ = ['STOP_SIGNALS', 'StopSignals', 'Stopped']

#: Signals that stop the demo cleanly (children stopped, report written); exit 128 + signal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """Raised (once) by a stop signal; ``signum`` gives the exit status 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """Records the first SIGINT/SIGTERM/SIGHUP; :meth:`check` turns it into :class:`Stopped`
    (once), so stopping the children and writing the report is never cut short.

    The handler itself never raises: an exception raised while rclpy is inside C++ (taking a
    message) comes out as a pybind11 ``RuntimeError`` instead. Loops call :meth:`check`.
    Use as a context manager (restores the previous handlers); :meth:`quiet` stops raising.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._raise = True
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum

    @property
    def requested(self) -> bool:
        """A stop signal arrived and :meth:`check` would raise."""
        return self.signum is not None and self._raise

    def check(self) -> None:
        """Raise :class:`Stopped` if a stop signal arrived (and not :meth:`quiet`)."""
        if self.requested:
            raise Stopped(self.signum)

    def quiet(self) -> None:
        """From now on only record a signal (e.g. while the report is being written)."""
        self._raise = False

    def __enter__(self) -> StopSignals:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
