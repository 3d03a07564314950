"""Tests for twin_bridge.twin.stamp_guard: negative, future and backwards stamps, new timelines."""

import pytest

from twin_bridge.twin.stamp_guard import StampGuard
from twin_bridge.twin.validation import RejectReason

MS = 1_000_000


def test_negative_stamps_are_rejected_with_their_own_reason():
    guard = StampGuard(max_future_ns=0)
    reason, detail = guard.check(-1, 1_000)
    assert reason is RejectReason.NEGATIVE_STAMP and 'negative' in detail
    guard.accept(500)
    assert guard.check(-(10**18), 1_000)[0] is RejectReason.NEGATIVE_STAMP


def test_stamp_guard_future_and_backwards():
    guard = StampGuard(max_future_ns=500_000_000)
    now = 1_000_000_000_000
    assert guard.check(now + 400_000_000, now) == (None, '')
    reason, detail = guard.check(now + 600_000_000, now)
    assert reason is RejectReason.FUTURE_STAMP and '0.600 s in the future' in detail
    guard.accept(now)
    assert guard.check(now, now)[0] is None            # equal stamps are fine
    reason, detail = guard.check(now - 1_000_000, now)
    assert reason is RejectReason.STAMP_BACKWARDS and '0.001000 s' in detail
    assert guard.last_ns == now                        # a check never moves the guard
    assert guard.check(now + 1, now)[0] is None        # an isolated stale sample is forgotten
    guard.accept(now + 1)
    assert guard.check(now - 500, now)[0] is RejectReason.STAMP_BACKWARDS
    with pytest.raises(ValueError):
        StampGuard(-1)
    with pytest.raises(ValueError):
        StampGuard(0, resync_samples=0)


MS = 1_000_000


def test_stamp_guard_follows_a_new_timeline_after_n_increasing_samples():
    guard = StampGuard(max_future_ns=0, resync_samples=10)
    now = 1_000_000_000_000
    guard.accept(now)
    back = now - 30_000 * MS                           # the clock jumped back 30 s
    for i in range(9):
        reason, detail = guard.check(back + i * 20 * MS, now)
        assert reason is RejectReason.STAMP_BACKWARDS, i
        assert f'{i + 1} consecutive increasing samples' in detail
    guard.check(back + 8 * 20 * MS, now)               # a repeated stamp does not count...
    assert guard.check(back + 8 * 20 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    assert guard.check(back + 9 * 20 * MS, now) == (None, '')   # ...the 10th increasing does
    assert guard.last_ns == now
    assert guard.accept(back + 9 * 20 * MS) == 30_000 * MS - 180 * MS   # the jump
    assert guard.last_ns == back + 180 * MS
    assert guard.check(back + 200 * MS, now)[0] is None         # the new timeline runs on
    assert guard.accept(back + 200 * MS) == 0


def test_stamp_guard_run_is_broken_by_going_back_or_by_the_current_timeline():
    guard = StampGuard(max_future_ns=0, resync_samples=4)
    now = 1_000_000_000_000
    guard.accept(now)
    for stamp in (now - 100 * MS, now - 90 * MS, now - 80 * MS):
        assert guard.check(stamp, now)[0] is RejectReason.STAMP_BACKWARDS
    # a sample older than the run starts a new run (a stuck or replaying source)
    assert guard.check(now - 95 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    assert guard.check(now - 85 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    assert guard.check(now - 84 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    # the current timeline is alive: accepting from it ends the run
    assert guard.check(now + 0, now)[0] is None
    guard.accept(now)
    assert guard.check(now - 83 * MS, now)[0] is RejectReason.STAMP_BACKWARDS
    assert 'increasing samples' in guard.check(now - 82 * MS, now)[1]


def test_stamp_guard_follows_a_slow_new_timeline_after_its_span():
    guard = StampGuard(max_future_ns=0, resync_samples=10, resync_span_ns=1000 * MS)
    now = 1_000_000_000_000
    guard.accept(now)
    back = now - 60_000 * MS
    assert guard.check(back, now)[0] is RejectReason.STAMP_BACKWARDS
    assert guard.check(back + 2000 * MS, now)[0] is RejectReason.STAMP_BACKWARDS  # 2 samples
    assert guard.check(back + 2500 * MS, now)[0] is None        # 3 samples spanning >= 1 s
    assert guard.accept(back + 2500 * MS) > 0
