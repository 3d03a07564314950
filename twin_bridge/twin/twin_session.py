"""The bridge's logic without ROS: validate physical inputs, mirror them, decide what to publish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
import math
from typing import TYPE_CHECKING, Any

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import ScanData
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_frames import FixedFrames
from twin_bridge.errors import TwinBridgeError
from twin_bridge.twin.stream_monitor import StreamMonitor, StreamStatus
from twin_bridge.twin.validation import (
    DEFAULT_QUATERNION_TOLERANCE,
    RejectReason,
    StampGuard,
    Verdict,
    check_joint_state,
    check_odometry,
)

if TYPE_CHECKING:
    from twin_bridge.description.robot_description import RobotDescription

__all__ = [
    'COUNTER_IGNORED_UNKNOWN_JOINT',
    'COUNTER_TIMELINE_RESET',
    'COUNTER_UNSTAMPED',
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

# Diagnostics counters of the input streams (events that are not rejections).
COUNTER_UNSTAMPED = 'unstamped'                      # header.stamp 0: stamped on receipt
COUNTER_TIMELINE_RESET = 'timeline_reset'            # stamps jumped back and were followed
COUNTER_IGNORED_UNKNOWN_JOINT = 'ignored.unknown_joint'  # samples stripped of unknown names
_MAX_REPORTED_NAMES = 256


@dataclass(frozen=True)
class SessionConfig:
    """Tunables of a :class:`TwinSession` (times in seconds).

    ``scan_period`` is the expected time between scans (0 = no scan output); the scan stream
    is reported stale after ``max(stale_timeout, 3 * scan_period)`` without one.
    ``ignore_unknown_joints``: mirror the known joints of a joint-state sample that also
    names joints the twin lacks (counted as ``ignored.unknown_joint``) instead of rejecting
    it as ``unknown_joint``.
    """

    stale_timeout: float = 0.5
    max_future_stamp: float = 0.5
    quaternion_tolerance: float = DEFAULT_QUATERNION_TOLERANCE
    error_factor: float = 4.0
    scan_period: float = 0.0
    stats_capacity: int = 1000
    stats_window_s: float = 10.0
    ignore_unknown_joints: bool = False

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
    """Result of feeding one physical sample to the session.

    ``notes`` are log lines about an accepted sample that the session emits once per
    occasion (first unstamped sample of a stream, a timeline reset, joint names ignored for
    the first time); a node logs them as warnings.
    """

    stream: str
    verdict: Verdict
    recovered: bool = False
    notes: tuple[str, ...] = ()

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
    """State kept per physical input stream, and how its samples are checked and mirrored."""

    def __init__(self, monitor: StreamMonitor, max_future_ns: int,
                 check: Callable[[Any], Verdict[Any]], mirror: Callable[[Any], None]) -> None:
        self.monitor = monitor
        self.check = check
        self.mirror = mirror
        self.guard = StampGuard(max_future_ns)
        self.stamp_ns: int | None = None       # stamp of the last accepted sample
        self.receive_time: float = math.nan    # monotonic receive time of that sample
        self.pending = False                   # accepted but not yet published
        self.child_frame_id = ''               # odometry: frame of the last accepted pose
        self.unstamped_noted = False
        self.reported_names: set[str] = set()  # unknown joint names already logged


class TwinSession:
    """Keeps a backend in step with physical samples and tracks every stream's health.

    Single-threaded by design (a ROS node calls it from one executor thread). ``now``
    arguments are seconds on a monotonic clock; ``wall_ns`` arguments are wall-clock
    nanoseconds, the time base physical stamps are compared with.

    Stamp rule: every output carries the stamp of the newest physical sample it reflects
    (joint states → last accepted joint sample, odometry → last accepted odometry sample,
    scan → the newer of the two). A sample with stamp 0 (a publisher without a clock) is
    accepted as *unstamped*: it is stamped with its receive wall time (so its age counts as
    0), bypasses the stamp checks, and is counted as ``unstamped``. Stamps that jump back
    are followed once a new timeline is established (see
    :class:`~twin_bridge.twin.validation.StampGuard`), counted as ``timeline_reset``.

    Odometry frames: the odometry output is the pose and twist of the accepted input's
    ``child_frame_id`` when that names a link fixed to the root (``base_footprint``...),
    else of the robot's root link, and its ``child_frame_id`` says which.
    """

    def __init__(self, backend: SimulatorBackend, config: SessionConfig | None = None, *,
                 now: float = 0.0, robot: RobotDescription | None = None) -> None:
        """:param backend: the simulator the twin lives in
        :param config: tunables (default :class:`SessionConfig`)
        :param now: monotonic start time, the reference for "never received" staleness
        :param robot: the twin's robot, to name odometry frames (default: ``backend.robot``
            if the backend has one; without a robot the backend's frame names are kept)
        """
        self.backend = backend
        self.config = config or SessionConfig()
        cfg = self.config
        self._known_joints = frozenset(backend.joint_names)
        self._frames = FixedFrames(robot if robot is not None
                                    else getattr(backend, 'robot', None))
        future_ns = int(round(cfg.max_future_stamp * 1e9))

        def monitor(name: str, kind: str, timeout: float | None,
                    counters: tuple[str, ...] = ()) -> StreamMonitor:
            return StreamMonitor(name, kind=kind, stale_timeout=timeout,
                                 error_factor=cfg.error_factor, start_time=now,
                                 capacity=cfg.stats_capacity, window_s=cfg.stats_window_s,
                                 counters=counters)

        input_counters = (COUNTER_UNSTAMPED, COUNTER_TIMELINE_RESET)
        joint_counters = input_counters + ((COUNTER_IGNORED_UNKNOWN_JOINT,)
                                           if cfg.ignore_unknown_joints else ())
        self._joints = _Input(
            monitor(INPUT_JOINT_STATES, 'input', cfg.stale_timeout, joint_counters), future_ns,
            check=partial(check_joint_state, known_names=self._known_joints,
                          ignore_unknown=cfg.ignore_unknown_joints),
            mirror=lambda s: self.backend.mirror(joints=s))
        self._odom = _Input(
            monitor(INPUT_ODOM, 'input', cfg.stale_timeout, input_counters), future_ns,
            check=partial(check_odometry, quaternion_tolerance=cfg.quaternion_tolerance),
            # Backends move the root link: a base_footprint pose is converted here, once,
            # for every backend.
            mirror=lambda s: self.backend.mirror(odometry=self._frames.to_root(s)))
        self.monitors: dict[str, StreamMonitor] = {
            INPUT_JOINT_STATES: self._joints.monitor,
            INPUT_ODOM: self._odom.monitor,
            OUTPUT_JOINT_STATES: monitor(OUTPUT_JOINT_STATES, 'output', None),
            OUTPUT_ODOM: monitor(OUTPUT_ODOM, 'output', None),
        }
        self._scan_reflected_receive_time: float | None = None
        if cfg.scan_period > 0 and backend.lidar is not None:
            self.monitors[OUTPUT_SCAN] = monitor(
                OUTPUT_SCAN, 'output', max(cfg.stale_timeout, 3 * cfg.scan_period))

    # ----------------------------------------------------------------- inputs
    def on_joint_state(self, sample: JointStateSample, now: float,
                       wall_ns: int) -> InputOutcome:
        """Validate a physical joint-state sample and, if good, mirror it into the twin."""
        return self._on_input(INPUT_JOINT_STATES, self._joints, sample, now, wall_ns)

    def on_odometry(self, sample: OdometrySample, now: float, wall_ns: int) -> InputOutcome:
        """Validate a physical odometry sample and, if good, mirror its pose into the twin."""
        return self._on_input(INPUT_ODOM, self._odom, sample, now, wall_ns)

    def _on_input(self, stream: str, state: _Input, sample: JointStateSample | OdometrySample,
                  now: float, wall_ns: int) -> InputOutcome:
        monitor = state.monitor
        monitor.record_received()
        unstamped = sample.stamp_ns == 0
        if unstamped:
            sample = replace(sample, stamp_ns=wall_ns)
        verdict = state.check(sample)
        if verdict.ok and not unstamped:
            reason, detail = state.guard.check(sample.stamp_ns, wall_ns)
            if reason is not None:
                verdict = Verdict.reject(reason, detail)
        if verdict.ok:
            try:
                state.mirror(verdict.sample)
            except TwinBridgeError as exc:
                verdict = Verdict.reject(RejectReason.BACKEND_ERROR, str(exc))
            except Exception as exc:  # input must never take the bridge down
                verdict = Verdict.reject(RejectReason.BACKEND_ERROR,
                                         f'{type(exc).__name__}: {exc}')
        if not verdict.ok:
            monitor.record_rejected(verdict.reason.value)
            return InputOutcome(stream, verdict)
        notes = []
        if unstamped:
            monitor.count(COUNTER_UNSTAMPED)
            if not state.unstamped_noted:
                state.unstamped_noted = True
                notes.append(f'{stream}: header.stamp is 0 (a publisher without a clock?): '
                             'stamping such samples with their receive time; the age and '
                             'latency figures cannot include the publisher\'s delay '
                             f'(counted as "{COUNTER_UNSTAMPED}")')
        else:
            jump_ns = state.guard.accept(sample.stamp_ns)
            if jump_ns:
                monitor.count(COUNTER_TIMELINE_RESET)
                notes.append(f'{stream}: stamps jumped back {jump_ns * 1e-9:.3f} s and ran on '
                             'consistently (robot restart, clock step, looping bag?): '
                             f'following the new timeline (counted as "{COUNTER_TIMELINE_RESET}")')
        if verdict.ignored:
            monitor.count(COUNTER_IGNORED_UNKNOWN_JOINT)
            new = [n for n in verdict.ignored if n not in state.reported_names]
            if new and len(state.reported_names) < _MAX_REPORTED_NAMES:
                state.reported_names.update(new[:_MAX_REPORTED_NAMES])
                notes.append(f'{stream}: ignoring joints the twin does not have: {new[:5]}'
                             + (f' and {len(new) - 5} more' if len(new) > 5 else '')
                             + f' (counted as "{COUNTER_IGNORED_UNKNOWN_JOINT}")')
        if stream == INPUT_ODOM:
            state.child_frame_id = verdict.sample.child_frame_id
        state.stamp_ns = sample.stamp_ns
        state.receive_time = now
        state.pending = True
        # An unstamped sample was stamped on receipt: its age is 0 by construction.
        recovered = monitor.record_good(now, (wall_ns - sample.stamp_ns) * 1e-9)
        return InputOutcome(stream, verdict, recovered, tuple(notes))

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
        or the backend has none yet), stamped with that input's stamp.

        Its ``child_frame_id`` names the frame whose pose and twist it carries: the input's
        child frame if that is a link fixed to the robot's root, else the root link.
        """
        if not self._odom.pending:
            return None
        self._odom.pending = False
        state = self.backend.odometry()
        if state is None:
            return None
        state = self._frames.label(state, self._odom.child_frame_id)
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
