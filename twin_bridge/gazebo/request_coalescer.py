"""Latest-wins request sending with at most one request in flight (no backlog, ever)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import threading
import time
from typing import Generic, TypeVar

__all__ = ['CoalescerStats', 'RequestCoalescer']

T = TypeVar('T')


@dataclass(frozen=True)
class CoalescerStats:
    """Counters of a :class:`RequestCoalescer` (a consistent snapshot).

    ``submitted = sent + coalesced + pending`` (+ requests dropped at :meth:`close`);
    every sent request ends ``succeeded``, ``failed`` or ``timed_out`` (or is in flight).
    """

    submitted: int = 0
    sent: int = 0
    coalesced: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    dropped: int = 0
    in_flight: bool = False
    pending: bool = False


class RequestCoalescer(Generic[T]):
    """Send requests through ``send`` so that at most one is in flight and the newest wins.

    ``send(request, done)`` starts one request and returns; the transport calls
    ``done(success)`` when the response arrives (from any thread, or from inside ``send``).
    ``submit`` sends at once when nothing is in flight; otherwise the request waits as the
    single pending one, replacing (coalescing) any older pending request. ``done`` ends the
    in-flight request and sends the pending one, if any. A request not answered within
    ``timeout`` seconds is given up (counted ``timed_out``) on the next :meth:`submit` or
    :meth:`poll`, so a lost response never blocks mirroring for good; its late ``done`` is
    ignored. ``send`` is called without the lock held; if it raises, that request counts as
    failed and the error is kept in :attr:`last_error`. Thread-safe.
    """

    def __init__(self, send: Callable[[T, Callable[[bool], None]], None], *, timeout: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """:param send: ``send(request, done)`` starts one request (must not block on its
            response) and arranges for ``done(success)`` to be called once
        :param timeout: seconds after which an unanswered request is abandoned (> 0)
        :param clock: monotonic time source (injectable for tests)
        """
        if not timeout > 0:
            raise ValueError(f'timeout must be > 0 s, got {timeout!r}')
        self._send = send
        self._timeout = float(timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight = False
        self._sent_at = 0.0
        self._generation = 0  # id of the request in flight; stale completions are ignored
        self._pending: T | None = None
        self._has_pending = False
        self._closed = False
        self._counts = dict.fromkeys(
            ('submitted', 'sent', 'coalesced', 'succeeded', 'failed', 'timed_out', 'dropped'), 0)
        self.last_error: BaseException | None = None

    def submit(self, request: T) -> bool:
        """Queue ``request`` as the newest; send it now if nothing is in flight.

        :return: True if it was sent immediately
        """
        with self._lock:
            if self._closed:
                self._counts['dropped'] += 1
                return False
            self._counts['submitted'] += 1
            self._expire_locked()
            if self._in_flight:
                if self._has_pending:
                    self._counts['coalesced'] += 1
                self._pending, self._has_pending = request, True
                return False
            if self._has_pending:  # left over from a request that timed out: superseded
                self._counts['coalesced'] += 1
                self._pending, self._has_pending = None, False
            generation = self._start_locked()
        self._dispatch(request, generation)
        return True

    def _complete(self, generation: int, success: bool) -> None:
        """End request ``generation`` if it is still the one in flight; send the pending one."""
        with self._lock:
            if not self._in_flight or generation != self._generation:
                return
            self._counts['succeeded' if success else 'failed'] += 1
            self._in_flight = False
            request, generation = self._next_locked()
        if generation is not None:
            self._dispatch(request, generation)

    def poll(self) -> None:
        """Give up a request in flight for longer than the timeout; send the pending one."""
        with self._lock:
            if not self._expire_locked() or self._in_flight:
                return
            request, generation = self._next_locked()
        if generation is not None:
            self._dispatch(request, generation)

    @property
    def stats(self) -> CoalescerStats:
        """A snapshot of the counters."""
        with self._lock:
            return CoalescerStats(**self._counts, in_flight=self._in_flight,
                                  pending=self._has_pending)

    def close(self) -> None:
        """Stop sending; a pending request is dropped (counted)."""
        with self._lock:
            self._closed = True
            if self._has_pending:
                self._counts['dropped'] += 1
            self._pending, self._has_pending = None, False

    # -- internals (``_locked``: caller holds the lock) --------------------------------------

    def _start_locked(self) -> int:
        self._in_flight = True
        self._sent_at = self._clock()
        self._generation += 1
        self._counts['sent'] += 1
        return self._generation

    def _next_locked(self) -> tuple[T | None, int | None]:
        if not self._has_pending or self._closed:
            return None, None
        request = self._pending
        self._pending, self._has_pending = None, False
        return request, self._start_locked()

    def _expire_locked(self) -> bool:
        if self._in_flight and self._clock() - self._sent_at > self._timeout:
            self._counts['timed_out'] += 1
            self._in_flight = False
            return True
        return False

    def _dispatch(self, request: T, generation: int) -> None:
        first_answer = threading.Lock()

        def done(success: bool = True) -> None:
            if first_answer.acquire(blocking=False):  # only the first answer counts
                self._complete(generation, bool(success))

        try:
            self._send(request, done)
        except Exception as exc:  # a transport error must not stop mirroring
            self.last_error = exc
            done(False)
