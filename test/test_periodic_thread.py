"""Tests for periodic_thread: rate, errors survive, skipping when behind, clean stop."""

import threading
import time

import pytest

from twin_bridge.twin.periodic_thread import PeriodicThread


def _wait(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.001)
    return condition()


def test_ticks_on_its_own_thread_until_stopped():
    threads = []
    worker = PeriodicThread('ticker', 200.0, lambda: threads.append(threading.current_thread()))
    worker.start()
    assert _wait(lambda: len(threads) >= 5)
    assert worker.stop() and not worker.running
    count = worker.ticks
    time.sleep(0.02)
    assert worker.ticks == count  # nothing after stop
    assert all(t.name == 'ticker' and t is not threading.main_thread() for t in threads)


def test_a_failing_tick_is_counted_and_the_thread_goes_on():
    seen = []
    calls = []

    def tick():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError('boom')

    worker = PeriodicThread('failing', 500.0, tick, on_error=seen.append).start()
    assert _wait(lambda: len(calls) >= 4)
    worker.stop()
    assert worker.errors == 1 and isinstance(seen[0], RuntimeError)


def test_falling_behind_skips_deadlines_instead_of_bursting():
    now = [0.0]
    calls = []

    def tick():
        calls.append(now[0])
        now[0] += 0.5 if len(calls) == 1 else 0.001  # the first tick takes 50 periods

    worker = PeriodicThread('slow', 100.0, tick, clock=lambda: now[0]).start()
    assert _wait(lambda: len(calls) >= 3)
    worker.stop()
    assert worker.skipped >= 45


def test_stop_before_start_and_bad_rates():
    assert PeriodicThread('never', 1.0, lambda: None).stop()
    for rate in (0.0, -1.0, float('nan'), float('inf')):
        with pytest.raises(ValueError, match='rate'):
            PeriodicThread('bad', rate, lambda: None)
