"""The bridge's logic without ROS: validate physical inputs, mirror them, decide what to publish."""

from __future__ import annotations

from dataclasses import dataclass, replace
import math

from twin_bridge.backend import SimulatorBackend
from twin_bridge.errors import TwinBridgeError
from twin_bridge.lidar import ScanData
from twin_bridge.state import JointStateSample, OdometrySample
from twin_bridge.stream_monitor import StreamMonitor, StreamStatus
from twin_bridge.validation import (
    DEFAULT_QUATERNION_TOLERANCE,
    RejectReason,
    StampGuard,
    Verdict,
    check_joint_state,
    check_odometry,
)

__all__ = [
    'INPUT_JOINT_STATES',
    'INPUT_ODOM',
    'InputOutcome',
    'OUTPUT_JOINT_STATES',
    'OUTPUT_ODOM',
    'OUTPUT_SCAN',
    'SessionConfig',
    'TwinSession',
]

# Stream names used in diagnostics and logs.
INPUT_JOINT_STATES = 'joint_states'
INPUT_ODOM = 'odom'
OUTPUT_JOINT_STATES = 'virtual/joint_states'
OUTPUT_ODOM = 'virtual/odom'
OUTPUT_SCAN = 'virtual/scan'


@dataclass(frozen=True)
class SessionConfig:
    """Tunables of a :class:`TwinSession` (times in seconds).

    ``scan_period`` is the expected time between scans (0 = no scan output); the scan stream
    is reported stale after ``max(stale_timeout, 3 * scan_period)`` without one.
    """

    stale_timeout: float = 0.5
    max_future_stamp: float = 0.5
    quaternion_tolerance: float = DEFAULT_QUATERNION_TOLERANCE
    error_factor: float = 4.0
    scan_period: float = 0.0
    stats_capacity: int = 1000
    stats_window_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ('stale_timeout', 'stats_window_s'):
            if not getattr(self, name) > 0:
                raise ValueError(f'{name} must be > 0, got {getattr(self, name)}')
        for name in ('max_future_stamp', 'quaternion_tolerance', 'scan_period'):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f'{name} must be a finite value >= 0, got {value}')


@dataclass(frozen=True)
class InputOutcome:
    """Result of feeding one physical sample to the session."""

    stream: str
    verdict: Verdict
    recovered: bool = False

    @property
    def accepted(self) -> bool:
        """True if the sample was mirrored into the twin."""
        return self.verdict.ok

    def describe(self) -> str:
        """A log line for a rejection (empty when accepted)."""
        if self.verdict.ok:
            return ''
        return f'rejected {self.stream} sample: {self.verdict.reason.value}: {self.verdict.detail}'


class _Input:
    """State kept per physical input stream."""

    def __init__(self, monitor: StreamMonitor, max_future_ns: int) -> None:
        self.monitor = monitor
        self.guard = StampGuard(max_future_ns)
        self.stamp_ns: int | None = None       # stamp of the last accepted sample
        self.receive_time: float = math.nan    # monotonic receive time of that sample
        self.pending = False                   # accepted but not yet published


class TwinSession:
    """Keeps a backend in step with physical samples and tracks every stream's health.

    Single-threaded by design (a ROS node calls it from one executor thread). ``now``
    arguments are seconds on a monotonic clock; ``wall_ns`` arguments are wall-clock
    nanoseconds, the time base physical stamps are compared with.

    Stamp rule: every output carries the stamp of the newest physical sample it reflects
    (joint states → last accepted joint sample, odometry → last accepted odometry sample,
    scan → the newer of the two).
    """

    def __init__(self, backend: SimulatorBackend, config: SessionConfig | None = None, *,
                 now: float = 0.0) -> None:
        """:param backend: the simulator the twin lives in
        :param config: tunables (default :class:`SessionConfig`)
        :param now: monotonic start time, the reference for "never received" staleness
        """
        self.backend = backend
        self.config = config or SessionConfig()
        cfg = self.config
        self._known_joints = frozenset(backend.joint_names)
        future_ns = int(round(cfg.max_future_stamp * 1e9))

        def monitor(name: str, kind: str, timeout: float | None) -> StreamMonitor:
            return StreamMonitor(name, kind=kind, stale_timeout=timeout,
                                 error_factor=cfg.error_factor, start_time=now,
                                 capacity=cfg.stats_capacity, window_s=cfg.stats_window_s)

        self._joints = _Input(monitor(INPUT_JOINT_STATES, 'input', cfg.stale_timeout), future_ns)
        self._odom = _Input(monitor(INPUT_ODOM, 'input', cfg.stale_timeout), future_ns)
        self.monitors: dict[str, StreamMonitor] = {
            INPUT_JOINT_STATES: self._joints.monitor,
            INPUT_ODOM: self._odom.monitor,
            OUTPUT_JOINT_STATES: monitor(OUTPUT_JOINT_STATES, 'output', None),
            OUTPUT_ODOM: monitor(OUTPUT_ODOM, 'output', None),
        }
        self._scan_reflected_receive_time: int | None = None
        if cfg.scan_period > 0 and backend.lidar is not None:
            self.monitors[OUTPUT_SCAN] = monitor(
                OUTPUT_SCAN, 'output', max(cfg.stale_timeout, 3 * cfg.scan_period))

    # ----------------------------------------------------------------- inputs
    def on_joint_state(self, sample: JointStateSample, now: float,
                       wall_ns: int) -> InputOutcome:
        """Validate a physical joint-state sample and, if good, mirror it into the twin."""
        return self._on_input(INPUT_JOINT_STATES, self._joints, sample, now, wall_ns,
                              lambda s: check_joint_state(s, self._known_joints),
                              lambda s: self.backend.mirror(joints=s))

    def on_odometry(self, sample: OdometrySample, now: float, wall_ns: int) -> InputOutcome:
        """Validate a physical odometry sample and, if good, mirror its pose into the twin."""
        return self._on_input(INPUT_ODOM, self._odom, sample, now, wall_ns,
                              lambda s: check_odometry(s, self.config.quaternion_tolerance),
                              lambda s: self.backend.mirror(odometry=s))

    def _on_input(self, stream: str, state: _Input, sample, now: float, wall_ns: int,
                  check, mirror) -> InputOutcome:
        monitor = state.monitor
        monitor.record_received()
        verdict = check(sample)
        if verdict.ok:
            reason, detail = state.guard.check(sample.stamp_ns, wall_ns)
            if reason is not None:
                verdict = Verdict.reject(reason, detail)
        if verdict.ok:
            try:
                mirror(verdict.sample)
            except TwinBridgeError as exc:
                verdict = Verdict.reject(RejectReason.BACKEND_ERROR, str(exc))
            except Exception as exc:  # input must never take the bridge down
                verdict = Verdict.reject(RejectReason.BACKEND_ERROR,
                                         f'{type(exc).__name__}: {exc}')
        if not verdict.ok:
            monitor.record_rejected(verdict.reason.value)
            return InputOutcome(stream, verdict)
        state.guard.accept(sample.stamp_ns)
        state.stamp_ns = sample.stamp_ns
        state.receive_time = now
        state.pending = True
        recovered = monitor.record_good(now, (wall_ns - sample.stamp_ns) * 1e-9)
        return InputOutcome(stream, verdict, recovered)

    # ---------------------------------------------------------------- outputs
    def take_joint_state_output(self) -> JointStateSample | None:
        """The twin's joint state to publish for a newly accepted input (``None`` if nothing
        new or the backend has none yet), stamped with that input's stamp."""
        if not self._joints.pending:
            return None
        self._joints.pending = False
        state = self.backend.joint_state()
        if state is None:
            return None
        return replace(state, stamp_ns=self._joints.stamp_ns)

    def take_odometry_output(self) -> OdometrySample | None:
        """The twin's odometry to publish for a newly accepted input (``None`` if nothing new
        or the backend has none yet), stamped with that input's stamp."""
        if not self._odom.pending:
            return None
        self._odom.pending = False
        state = self.backend.odometry()
        if state is None:
            return None
        return replace(state, stamp_ns=self._odom.stamp_ns)

    def scan_output(self, wall_ns: int) -> tuple[ScanData, int] | None:
        """A scan of the current twin state and its stamp: the newer of the two inputs'
        stamps, or ``wall_ns`` before any input was accepted. ``None`` without a scan."""
        scan = self.backend.scan()
        if scan is None:
            return None
        stamps = [s for s in (self._joints.stamp_ns, self._odom.stamp_ns) if s is not None]
        return scan, (max(stamps) if stamps else wall_ns)

    def published(self, stream: str, now: float) -> None:
        """Record that an output was published at ``now``; its latency is the time since the
        newest input it reflects was received (scans: only the first scan reflecting it)."""
        if stream == OUTPUT_JOINT_STATES:
            latency = now - self._joints.receive_time
        elif stream == OUTPUT_ODOM:
            latency = now - self._odom.receive_time
        elif stream == OUTPUT_SCAN:
            latency = math.nan
            newest = max((s for s in (self._joints, self._odom) if s.stamp_ns is not None),
                         key=lambda s: s.receive_time, default=None)
            if newest is not None and newest.receive_time != self._scan_reflected_receive_time:
                latency = now - newest.receive_time
                self._scan_reflected_receive_time = newest.receive_time
        else:
            raise KeyError(f'unknown output stream {stream!r}')
        self.monitors[stream].record_good(now, latency)

    # ----------------------------------------------------------------- health
    def poll(self, now: float) -> list[str]:
        """Update staleness; one message per stream that has just gone stale."""
        return [f'{m.name}: {m.level(now)[1]}' for m in self.monitors.values() if m.poll(now)]

    def statuses(self, now: float) -> list[StreamStatus]:
        """Health of every stream (inputs first), for diagnostics."""
        return [m.status(now) for m in self.monitors.values()]

    def summary_lines(self, now: float) -> list[str]:
        """One line per stream with counts, rejections, rate and latency (shutdown log)."""
        return [m.summary_line(now) for m in self.monitors.values()]
