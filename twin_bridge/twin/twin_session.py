"""The bridge's logic without ROS: validate physical inputs, mirror them, decide what to publish."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
import math
from typing import TYPE_CHECKING, Any

from twin_bridge.core.backend import SimulatorBackend
from twin_bridge.core.lidar import ScanData
from twin_bridge.core.quoting import quote_names, shorten
from twin_bridge.core.state import JointStateSample, OdometrySample
from twin_bridge.description.robot_frames import FixedFrames
from twin_bridge.errors import TwinBridgeError
from twin_bridge.twin.outputs import ScanOutput, StateOutput
from twin_bridge.twin.scan_validation import check_scan
from twin_bridge.twin.session_types import InputOutcome, SessionConfig
from twin_bridge.twin.stamp_guard import StampGuard
from twin_bridge.twin.stream_monitor import StreamMonitor, StreamStatus
from twin_bridge.twin.validation import (
    JointStateCheck,
    RejectReason,
    Verdict,
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
    'INPUT_SCAN',
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
INPUT_SCAN = 'scan'
OUTPUT_JOINT_STATES = 'virtual/joint_states'
OUTPUT_ODOM = 'virtual/odom'
OUTPUT_SCAN = 'virtual/scan'

# Diagnostics counters of the input streams (events that are not rejections).
COUNTER_UNSTAMPED = 'unstamped'                      # header.stamp 0: stamped on receipt
COUNTER_TIMELINE_RESET = 'timeline_reset'            # stamps jumped back and were followed
COUNTER_IGNORED_UNKNOWN_JOINT = 'ignored.unknown_joint'  # samples stripped of unknown names
# Input-named things noted once each, at most this many (shortened) per stream.
_MAX_REPORTED_NAMES = 256
_MAX_REPORTED_FRAMES = 16


def _ignore(sample: Any) -> None:
    """The mirror of an input nothing mirrors (the physical scan)."""


class _Input:
    """State kept per physical input stream."""

    def __init__(self, monitor: StreamMonitor, max_future_ns: int,
                 mirror: Callable[[Any], None]) -> None:
        self.name = monitor.name
        self.monitor = monitor
        self.mirror = mirror
        self.guard = StampGuard(max_future_ns)
        self.output: StateOutput[Any] | None = None
        self.stamp_ns: int | None = None       # stamp of the last accepted sample
        self.receive_time: float = math.nan    # monotonic receive time of that sample
        self.child_frame_id = ''               # odometry: frame of the last accepted pose
        self.unstamped_noted = False
        self.reported: set[str] = set()        # shortened input names already noted


class TwinSession:
    """Keeps a backend in step with physical samples and tracks every stream's health.

    Single-threaded by design (a ROS node calls it from one executor thread). ``now``
    arguments are seconds on a monotonic clock; ``wall_ns`` arguments are wall-clock
    nanoseconds, the time base physical stamps are compared with.

    One path per message: :meth:`on_joint_state` / :meth:`on_odometry` validate the sample
    once, convert odometry to the root link once, mirror it, and return the sample to
    publish in :attr:`InputOutcome.output`; the node then calls ``published`` on the output
    handle (:attr:`joint_states_out`, :attr:`odom_out`, :attr:`scan_out`).

    Stamp rule: every output carries the stamp of the newest physical sample it reflects
    (joint states → last accepted joint sample, odometry → last accepted odometry sample,
    scan → the newer of the two). A sample with stamp 0 (a publisher without a clock) is
    accepted as *unstamped*: it is stamped with its receive wall time (so its age counts as
    0), bypasses the stamp checks, and is counted as ``unstamped``. Negative stamps are
    rejected (``negative_stamp``). Stamps that jump back are followed once a new timeline is
    established (see :class:`~twin_bridge.twin.stamp_guard.StampGuard`), counted as
    ``timeline_reset``.

    Odometry frames: a pose of a link fixed to the root (``base_footprint``...) is converted
    to the root's before the backend sees it; a link that moves relative to the root is
    rejected (``moving_child_frame``); a frame that is no link of the robot is taken as the
    root (noted once). The odometry output is the pose and twist of the accepted input's
    ``child_frame_id`` when that is a link fixed to the root, else of the root link, and its
    ``child_frame_id`` says which.
    """

    def __init__(self, backend: SimulatorBackend, config: SessionConfig | None = None, *,
                 now: float = 0.0, robot: RobotDescription | None = None,
                 on_accepted: Callable[[str, Any, int], None] | None = None) -> None:
        """:param backend: the simulator the twin lives in
        :param config: tunables (default :class:`SessionConfig`)
        :param now: monotonic start time, the reference for "never received" staleness
        :param robot: the twin's robot, to name odometry frames (default: ``backend.robot``
            if the backend has one; without a robot the backend's frame names are kept)
        :param on_accepted: called as ``(stream, sample, stamp_ns)`` for every accepted
            sample, as the backend got it (odometry in the root frame) with its effective
            stamp (the receive time for an unstamped one); it must be quick and not raise
        """
        self.backend = backend
        self._on_accepted = on_accepted
        self.config = config or SessionConfig()
        cfg = self.config
        self._robot = robot if robot is not None else getattr(backend, 'robot', None)
        self._frames = FixedFrames(self._robot)
        self._check_joints = JointStateCheck(
            backend.joint_names, ignore_unknown=cfg.ignore_unknown_joints,
            max_magnitude=cfg.max_magnitude, max_joint_position=cfg.max_joint_position)
        self._check_odometry = partial(check_odometry,
                                       quaternion_tolerance=cfg.quaternion_tolerance,
                                       max_magnitude=cfg.max_magnitude)
        future_ns = int(round(cfg.max_future_stamp * 1e9))

        def monitor(name: str, kind: str, timeout: float | None,
                    counters: tuple[str, ...] = (), optional: bool = False) -> StreamMonitor:
            return StreamMonitor(name, kind=kind, stale_timeout=timeout,
                                 error_factor=cfg.error_factor, start_time=now,
                                 capacity=cfg.stats_capacity, window_s=cfg.stats_window_s,
                                 counters=counters, optional=optional)

        input_counters = (COUNTER_UNSTAMPED, COUNTER_TIMELINE_RESET)
        joint_counters = input_counters + ((COUNTER_IGNORED_UNKNOWN_JOINT,)
                                           if cfg.ignore_unknown_joints else ())
        self._joints = _Input(
            monitor(INPUT_JOINT_STATES, 'input', cfg.stale_timeout, joint_counters), future_ns,
            mirror=lambda s: backend.mirror(joints=s))
        self._odom = _Input(monitor(INPUT_ODOM, 'input', cfg.stale_timeout, input_counters),
                            future_ns, mirror=lambda s: backend.mirror(odometry=s))
        #: The virtual joint-state output.
        self.joint_states_out: StateOutput[JointStateSample] = StateOutput(
            monitor(OUTPUT_JOINT_STATES, 'output', None), self._joint_state_output,
            capped=cfg.joint_states_rate > 0)
        #: The virtual odometry output.
        self.odom_out: StateOutput[OdometrySample] = StateOutput(
            monitor(OUTPUT_ODOM, 'output', None), self._odometry_output,
            capped=cfg.odom_rate > 0)
        self._joints.output, self._odom.output = self.joint_states_out, self.odom_out
        #: The scan output (``None`` without a lidar or a scan period).
        self.scan_out: ScanOutput | None = None
        if cfg.scan_period > 0 and backend.lidar is not None:
            self.scan_out = ScanOutput(
                monitor(OUTPUT_SCAN, 'output', max(cfg.stale_timeout, 3 * cfg.scan_period)),
                backend, (self._joints, self._odom))
        #: The physical scan input (``None`` unless ``config.scan_input``): checked, then
        #: only handed to ``on_accepted`` (the drift check compares it; nothing mirrors it).
        self._scan: _Input | None = None
        inputs = [self._joints.monitor, self._odom.monitor]
        if cfg.scan_input:
            self._scan = _Input(monitor(INPUT_SCAN, 'input', cfg.stale_timeout, input_counters,
                                        optional=True), future_ns, mirror=_ignore)
            inputs.append(self._scan.monitor)
        self.monitors: dict[str, StreamMonitor] = {
            m.name: m for m in (*inputs, self.joint_states_out.monitor, self.odom_out.monitor)}
        if self.scan_out is not None:
            self.monitors[OUTPUT_SCAN] = self.scan_out.monitor

    # ----------------------------------------------------------------- inputs
    def on_joint_state(self, sample: JointStateSample, now: float,
                       wall_ns: int) -> InputOutcome:
        """Validate a physical joint-state sample and, if good, mirror it into the twin."""
        self._joints.monitor.record_received()
        verdict = self._check_joints(sample)
        return self._accept(self._joints, sample.stamp_ns, verdict, verdict.sample, now,
                            wall_ns)

    def on_odometry(self, sample: OdometrySample, now: float, wall_ns: int) -> InputOutcome:
        """Validate a physical odometry sample and, if good, mirror its pose into the twin."""
        self._odom.monitor.record_received()
        verdict = self._check_odometry(sample)
        mirrored = verdict.sample
        if mirrored is not None:
            mirrored = self._root_pose(mirrored)
            if isinstance(mirrored, Verdict):
                verdict, mirrored = mirrored, None
        return self._accept(self._odom, sample.stamp_ns, verdict, mirrored, now, wall_ns)

    def on_scan(self, sample: ScanData, now: float, wall_ns: int) -> InputOutcome:
        """Validate a physical scan (``config.scan_input`` on) and, if good, hand it to
        ``on_accepted``; a scan is compared, never mirrored."""
        state = self._scan
        if state is None:
            raise RuntimeError('this session takes no physical scans (scan_input is off)')
        state.monitor.record_received()
        verdict = check_scan(sample, self.config.max_scan_beams)
        return self._accept(state, sample.stamp_ns, verdict, verdict.sample, now, wall_ns)

    def _root_pose(self, sample: OdometrySample) -> OdometrySample | Verdict[OdometrySample]:
        """``sample`` as the root link's pose and twist, what backends move, or a rejection."""
        frames = self._frames
        frame = sample.child_frame_id
        if frames.root_link is None or frame == frames.root_link:
            return sample
        if frames.in_root(frame) is not None:
            return frames.to_root(sample)
        if frames.is_link(frame):
            return Verdict.reject(
                RejectReason.MOVING_CHILD_FRAME,
                f'child frame "{shorten(frame)}" moves with joints relative to the root link '
                f'"{frames.root_link}"; use a frame fixed to the base')
        return sample  # no link of the robot: taken as the root (noted on acceptance)

    def _accept(self, state: _Input, stamp_ns: int, verdict: Verdict[Any], mirrored: Any,
                now: float, wall_ns: int) -> InputOutcome:
        monitor = state.monitor
        unstamped = stamp_ns == 0
        if unstamped:
            stamp_ns = wall_ns
        elif verdict.reason is None:
            reason, detail = state.guard.check(stamp_ns, wall_ns)
            if reason is not None:
                verdict = Verdict.reject(reason, detail)
        if verdict.reason is None:
            try:
                state.mirror(mirrored)
            except TwinBridgeError as exc:
                verdict = Verdict.reject(RejectReason.BACKEND_ERROR, shorten(str(exc), 400))
            except Exception as exc:  # input must never take the bridge down
                verdict = Verdict.reject(RejectReason.BACKEND_ERROR,
                                         shorten(f'{type(exc).__name__}: {exc}', 400))
        if verdict.reason is not None:
            monitor.record_rejected(verdict.reason.value)
            return InputOutcome(state.name, verdict)
        notes: list[str] = []
        if unstamped:
            monitor.count(COUNTER_UNSTAMPED)
            if not state.unstamped_noted:
                state.unstamped_noted = True
                notes.append(f'{state.name}: header.stamp is 0 (a publisher without a clock?): '
                             'stamping such samples with their receive time; the age and '
                             'latency figures cannot include the publisher\'s delay '
                             f'(counted as "{COUNTER_UNSTAMPED}")')
        else:
            jump_ns = state.guard.accept(stamp_ns)
            if jump_ns:
                monitor.count(COUNTER_TIMELINE_RESET)
                notes.append(f'{state.name}: stamps jumped back {jump_ns * 1e-9:.3f} s and ran '
                             'on consistently (robot restart, clock step, looping bag?): '
                             f'following the new timeline (counted as "{COUNTER_TIMELINE_RESET}")')
        if verdict.ignored:
            monitor.count(COUNTER_IGNORED_UNKNOWN_JOINT)
            new = self._first_report(state, verdict.ignored, _MAX_REPORTED_NAMES)
            if new:
                notes.append(f'{state.name}: ignoring joints the twin does not have: '
                             f'{quote_names(new)} (counted as "{COUNTER_IGNORED_UNKNOWN_JOINT}")')
        if state is self._odom:
            frame = verdict.sample.child_frame_id
            state.child_frame_id = frame
            if self._is_unknown_frame(frame) and self._first_report(
                    state, (frame,), _MAX_REPORTED_FRAMES):
                notes.append(f'{state.name}: child frame "{shorten(frame)}" is not a link of '
                             f'robot "{self._robot.name}": taking it as the root link '
                             f'"{self._frames.root_link}"')
        state.stamp_ns = stamp_ns
        state.receive_time = now
        # An unstamped sample was stamped on receipt: its age is 0 by construction.
        recovered = monitor.record_good(now, (wall_ns - stamp_ns) * 1e-9)
        if self._on_accepted is not None:
            self._on_accepted(state.name, mirrored, stamp_ns)
        return InputOutcome(state.name, verdict, recovered, tuple(notes),
                            state.output.offer(now) if state.output is not None else None)

    def _is_unknown_frame(self, frame: str) -> bool:
        root = self._frames.root_link
        return root is not None and frame != root and not self._frames.is_link(frame)

    @staticmethod
    def _first_report(state: _Input, names: tuple[str, ...], limit: int) -> list[str]:
        """The ``names`` not reported before on ``state`` (remembered shortened, at most
        ``limit`` in all, so input-made names never pile up in memory)."""
        reported = state.reported
        if len(reported) >= limit:
            return []
        new = []
        for name in names:
            key = shorten(name)
            if key not in reported and len(reported) < limit:
                reported.add(key)
                new.append(name)
        return new

    # ---------------------------------------------------------------- outputs
    def _joint_state_output(self) -> JointStateSample | None:
        state = self.backend.joint_state()
        if state is None:
            return None
        return JointStateSample(state.names, state.positions, state.velocities, state.efforts,
                                self._joints.stamp_ns)

    def _odometry_output(self) -> OdometrySample | None:
        state = self.backend.odometry()
        if state is None:
            return None
        state = self._frames.label(state, self._odom.child_frame_id)
        return OdometrySample(state.position, state.orientation, state.linear_velocity,
                              state.angular_velocity, self._odom.stamp_ns, state.frame_id,
                              state.child_frame_id)

    def last_stamp(self, stream: str) -> int | None:
        """The effective stamp of the last accepted sample of input ``stream``."""
        state = {INPUT_JOINT_STATES: self._joints, INPUT_ODOM: self._odom,
                 INPUT_SCAN: self._scan}.get(stream)
        return None if state is None else state.stamp_ns

    def receive_time(self, stream: str) -> float:
        """The monotonic time (s, the ``now`` given) the last accepted sample of input
        ``stream`` arrived (NaN before one)."""
        state = {INPUT_JOINT_STATES: self._joints, INPUT_ODOM: self._odom,
                 INPUT_SCAN: self._scan}.get(stream)
        return math.nan if state is None else state.receive_time

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
