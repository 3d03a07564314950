"""The demo's terminal output: a progress line and streams that survive a closed terminal."""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ['Progress', 'SafeStream', 'rate_text']

#: The progress line shows a rate only from this many seconds and messages on.
MIN_RATE_SPAN_S, MIN_RATE_COUNT = 0.5, 2


def rate_text(count: int, elapsed: float) -> str:
    """``'<rate> Hz'``, or ``'- Hz'`` while too few messages or seconds give a rate."""
    if count < MIN_RATE_COUNT or elapsed < MIN_RATE_SPAN_S:
        return '- Hz'
    return f'{count / elapsed:.0f} Hz'


class Progress:
    """One status line: rewritten in place on a terminal, a plain line every few s otherwise."""

    def __init__(self, stream: TextIO, every_s: float = 2.0) -> None:
        self._out = stream
        self._tty = stream.isatty()
        self._every = 0.25 if self._tty else every_s
        self._last = -float('inf')
        self._shown = False

    def due(self) -> bool:
        """True when the next :meth:`show` would be displayed (build the text only then)."""
        return time.monotonic() - self._last >= self._every

    def show(self, text: str) -> None:
        """Display ``text`` now."""
        self._last = time.monotonic()
        if self._tty:
            self._out.write('\r' + text + '\x1b[K')
            self._shown = True
        else:
            self._out.write(text + '\n')
        self._out.flush()

    def done(self) -> None:
        """End the in-place line (terminal) so later output starts on a fresh line; the
        next :meth:`show` is due at once (a new phase shows its first line immediately)."""
        if self._tty and self._shown:
            self._out.write('\n')
            self._out.flush()
        self._shown = False
        self._last = -float('inf')


class SafeStream:
    """A text stream whose writes never fail (a closed terminal after SIGHUP gives EIO)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        """Whether the stream is a terminal (False once it is gone)."""
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    def write(self, text: str) -> None:
        """Write ``text``, or drop it if the stream is gone."""
        try:
            self._stream.write(text)
        except (OSError, ValueError):
            pass

    def flush(self) -> None:
        """Flush, unless the stream is gone."""
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass
