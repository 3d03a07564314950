"""Per-stream stamp checks: not negative, not too far ahead, not going back, new timelines."""

from __future__ import annotations

from twin_bridge.twin.validation import RejectReason

__all__ = ['DEFAULT_RESYNC_SAMPLES', 'DEFAULT_RESYNC_SPAN_S', 'StampGuard']

# A run of backwards stamps becomes the new timeline after this many increasing samples, or
# once it spans this many seconds of stamps (with at least _MIN_RESYNC_SAMPLES samples).
DEFAULT_RESYNC_SAMPLES = 10
DEFAULT_RESYNC_SPAN_S = 1.0
_MIN_RESYNC_SAMPLES = 3


class StampGuard:
    """Rejects negative stamps, stamps too far in the future or older than the last accepted
    one of a stream, and follows a new timeline once one is established.

    Equal stamps are accepted (some drivers repeat a stamp). An isolated backwards stamp is
    rejected; but a run of backwards samples whose stamps increase among themselves (a
    rebooted robot, a clock step, ``ros2 bag play --loop``) becomes the new timeline after
    ``resync_samples`` samples, or once it spans ``resync_span_ns`` of stamps with at least
    3 samples: the sample completing the run passes :meth:`check`, and :meth:`accept` then
    moves the guard back. A sample accepted on the current timeline ends any run.

    Call :meth:`accept` only once the sample has passed every other check, so a rejected
    sample never moves :attr:`last_ns`.
    """

    def __init__(self, max_future_ns: int, *, resync_samples: int = DEFAULT_RESYNC_SAMPLES,
                 resync_span_ns: int = int(DEFAULT_RESYNC_SPAN_S * 1e9)) -> None:
        """:param max_future_ns: largest accepted ``stamp - now`` in nanoseconds (>= 0)
        :param resync_samples: increasing backwards samples that make a new timeline (>= 1)
        :param resync_span_ns: stamp span of a run that makes a new timeline (> 0)
        """
        if max_future_ns < 0:
            raise ValueError(f'max_future_ns must be >= 0, got {max_future_ns}')
        if resync_samples < 1:
            raise ValueError(f'resync_samples must be >= 1, got {resync_samples}')
        if resync_span_ns <= 0:
            raise ValueError(f'resync_span_ns must be > 0, got {resync_span_ns}')
        self.max_future_ns = int(max_future_ns)
        self.resync_samples = int(resync_samples)
        self.resync_span_ns = int(resync_span_ns)
        self.last_ns: int | None = None
        self._run_first: int | None = None   # the current run of backwards stamps
        self._run_last = 0
        self._run_count = 0

    def check(self, stamp_ns: int, now_ns: int) -> tuple[RejectReason | None, str]:
        """``(None, '')`` if ``stamp_ns`` is acceptable at wall time ``now_ns``, else why not.

        A backwards stamp is recorded in the current run of backwards samples (it never moves
        :attr:`last_ns`); the one completing a run is acceptable.
        """
        if stamp_ns < 0:
            return RejectReason.NEGATIVE_STAMP, f'stamp is negative ({stamp_ns} ns)'
        ahead = stamp_ns - now_ns
        if ahead > self.max_future_ns:
            return (RejectReason.FUTURE_STAMP,
                    f'stamp is {ahead * 1e-9:.3f} s in the future '
                    f'(limit {self.max_future_ns * 1e-9:g} s)')
        if self.last_ns is None or stamp_ns >= self.last_ns:
            return None, ''
        if self._run_first is None or stamp_ns < self._run_last:
            self._run_first, self._run_last, self._run_count = stamp_ns, stamp_ns, 1
        elif stamp_ns > self._run_last:
            self._run_last = stamp_ns
            self._run_count += 1
        span = self._run_last - self._run_first
        if (self._run_count >= self.resync_samples
                or (self._run_count >= _MIN_RESYNC_SAMPLES and span >= self.resync_span_ns)):
            return None, ''
        return (RejectReason.STAMP_BACKWARDS,
                f'stamp went back {(self.last_ns - stamp_ns) * 1e-9:.6f} s '
                f'from the last accepted sample ({self._run_count} consecutive increasing '
                f'samples of a new timeline; {self.resync_samples} make it current)')

    def accept(self, stamp_ns: int) -> int:
        """Remember ``stamp_ns`` as the stream's last accepted stamp.

        :return: how far back the timeline jumped in ns (> 0 only when a run of backwards
            samples has just become the new timeline)
        """
        jump = 0
        if self.last_ns is not None and stamp_ns < self.last_ns:
            jump = self.last_ns - stamp_ns
        self.last_ns = stamp_ns
        self._run_first = None
        self._run_count = 0
        return jump
